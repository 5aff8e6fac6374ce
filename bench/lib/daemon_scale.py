#!/usr/bin/python3
"""Helpers for bench/daemon_scale.sh: make many small torrents, add them to a daemon,
wait until they all seed, and time the daemon's full torrent list.

Clients: ferrent (its /api/v1), transmission (its RPC), rqbit (its HTTP API). Everything
talks to 127.0.0.1 only.

Sub-commands:
  make N DIR SIZE [URL]    DIR/data/tNNNNN.bin (SIZE bytes each) and DIR/torrents/*.torrent,
                           announcing to URL if given (DIR/whitelist lists the info hashes)
  add CLIENT URL DIR [FIRST COUNT]
                           add the torrents of DIR/torrents (all, or COUNT from FIRST in
                           name order), data in DIR/data
  wait CLIENT URL N T0 TIMEOUT
                           poll until N torrents seed; print seconds since T0 (epoch)
  list CLIENT URL ROUNDS   print the median and max time of fetching the full list (the
                           HTTP exchange, not parsing), in ms
"""

import base64
import hashlib
import http.client
import json
import os
import statistics
import sys
import time
import urllib.parse

import libtorrent as lt


def make(n, root, size, tracker=None):
    data = os.path.join(root, "data")
    torrents = os.path.join(root, "torrents")
    os.makedirs(data, exist_ok=True)
    os.makedirs(torrents, exist_ok=True)
    for i in range(n):
        name = "t%05d.bin" % i
        path = os.path.join(data, name)
        if not (os.path.exists(path) and os.path.getsize(path) == size):
            # Deterministic content, different for every torrent.
            block = hashlib.sha256(b"ferrent-scale-%d" % i).digest()
            with open(path, "wb") as f:
                f.write((block * (size // len(block) + 1))[:size])
        out = os.path.join(torrents, "t%05d.torrent" % i)
        if os.path.exists(out):
            continue
        fs = lt.file_storage()
        lt.add_files(fs, path)
        # v1 only: transmission 3.00 does not read hybrid torrents.
        ct = lt.create_torrent(fs, 16 * 1024, flags=lt.create_torrent.v1_only)
        if tracker:
            ct.add_tracker(tracker)
        lt.set_piece_hashes(ct, data)
        with open(out, "wb") as f:
            f.write(lt.bencode(ct.generate()))


def whitelist(root):
    """DIR/whitelist: every torrent's info hash, one per line (for opentracker)."""
    folder = os.path.join(root, "torrents")
    hashes = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            hashes.append(str(lt.torrent_info(lt.bdecode(f.read())).info_hash()))
    with open(os.path.join(root, "whitelist"), "w") as f:
        f.write("\n".join(hashes) + "\n")


class Api:
    """One keep-alive HTTP connection with the client's authentication quirks."""

    def __init__(self, client, url):
        self.client = client
        parsed = urllib.parse.urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
        self.session_id = ""

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.client == "transmission":
            headers["X-Transmission-Session-Id"] = self.session_id
        for _ in range(3):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                payload = response.read()
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
                continue
            if response.status == 409 and self.client == "transmission":
                self.session_id = response.getheader("X-Transmission-Session-Id")
                headers["X-Transmission-Session-Id"] = self.session_id
                continue
            return response.status, payload
        raise RuntimeError("%s %s failed" % (method, path))

    def rpc(self, method, arguments):
        body = json.dumps({"method": method, "arguments": arguments})
        status, payload = self.request("POST", "/transmission/rpc", body, {"Content-Type": "application/json"})
        reply = json.loads(payload)
        if status != 200 or reply.get("result") != "success":
            raise RuntimeError("transmission %s: %s %s" % (method, status, payload[:200]))
        return reply["arguments"]


def add(client, url, root, first=0, count=None):
    api = Api(client, url)
    data = os.path.join(root, "data")
    folder = os.path.join(root, "torrents")
    names = sorted(os.listdir(folder))
    for name in names[first:len(names) if count is None else first + count]:
        with open(os.path.join(folder, name), "rb") as f:
            torrent = f.read()
        if client == "ferrent":
            status, payload = api.request(
                "POST", "/api/v1/torrents", torrent, {"Content-Type": "application/x-bittorrent"}
            )
            ok = status in (201, 409)
        elif client == "transmission":
            api.rpc("torrent-add", {"metainfo": base64.b64encode(torrent).decode(), "download-dir": data})
            ok = True
        else:
            query = urllib.parse.urlencode({"overwrite": "true", "output_folder": data})
            status, payload = api.request("POST", "/torrents?" + query, torrent)
            ok = status == 200
        if not ok:
            raise RuntimeError("adding %s to %s: %s %s" % (name, client, status, payload[:200]))


TRANSMISSION_FIELDS = ["id", "name", "status", "percentDone", "totalSize", "rateDownload", "rateUpload",
                       "peersConnected", "downloadDir", "addedDate", "error", "errorString"]


def fetch_list(api):
    """The client's full list with live numbers (what a UI polls), as raw bytes."""
    if api.client == "ferrent":
        return api.request("GET", "/api/v1/torrents")[1]
    if api.client == "transmission":
        body = json.dumps({"method": "torrent-get", "arguments": {"fields": TRANSMISSION_FIELDS}})
        return api.request("POST", "/transmission/rpc", body, {"Content-Type": "application/json"})[1]
    return api.request("GET", "/torrents?with_stats=true")[1]


def list_all(api):
    """Parses the full list; returns (torrents, seeding)."""
    payload = json.loads(fetch_list(api))
    if api.client == "ferrent":
        return len(payload), sum(1 for t in payload if t["state"] == "seeding")
    if api.client == "transmission":
        items = payload["arguments"]["torrents"]
        return len(items), sum(1 for t in items if t["status"] == 6)
    items = payload["torrents"]
    seeding = 0
    for t in items:
        stats = t.get("stats") or {}
        if stats.get("state") == "live" and stats.get("finished"):
            seeding += 1
    return len(items), seeding


def seeding_count(api):
    """Seeding torrents, asked as cheaply as each client allows."""
    if api.client == "ferrent":
        status, payload = api.request("GET", "/api/v1/session")
        return json.loads(payload)["states"].get("seeding", 0)
    if api.client == "transmission":
        items = api.rpc("torrent-get", {"fields": ["status"]})["torrents"]
        return sum(1 for t in items if t["status"] == 6)
    return list_all(api)[1]


def wait(client, url, n, t0, timeout):
    deadline = time.time() + timeout
    api = None
    while time.time() < deadline:
        try:
            if api is None:
                api = Api(client, url)
            if seeding_count(api) >= n:
                print("%.2f" % (time.time() - t0))
                return
        except (OSError, RuntimeError, ValueError, KeyError):
            api = None
        time.sleep(0.05)
    sys.exit("timed out: %s did not seed %d torrents within %ss" % (client, n, timeout))


def list_latency(client, url, rounds):
    api = Api(client, url)
    expected = list_all(api)[0]
    times = []
    for _ in range(rounds):
        # The HTTP exchange only: parsing JSON in Python would dominate.
        began = time.perf_counter()
        fetch_list(api)
        times.append((time.perf_counter() - began) * 1000)
    if list_all(api)[0] != expected:
        sys.exit("the list changed length while being timed")
    print("%.1f %.1f" % (statistics.median(times), max(times)))


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "make":
        make(int(args[0]), args[1], int(args[2]), *args[3:4])
        if args[3:4]:
            whitelist(args[1])
    elif command == "add":
        add(args[0], args[1], args[2], *[int(a) for a in args[3:5]])
    elif command == "wait":
        wait(args[0], args[1], int(args[2]), float(args[3]), float(args[4]))
    elif command == "list":
        list_latency(args[0], args[1], int(args[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
