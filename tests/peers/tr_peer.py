#!/usr/bin/python3
"""A Transmission (transmission-daemon 3.00) peer for ferrent's loopback tests.

Starts its own transmission-daemon in the foreground with a private config
dir, peer port and RPC port on 127.0.0.1, DHT/LPD/PEX/uTP/port mapping off,
adds one torrent through the RPC interface and reports on stdout with the
same lines as lt_peer.py:

  seed  --torrent T --data DIR --port P --rpc-port R --config DIR
      Verify DIR, then seed: prints `READY have=N total=M` (exits 3 if the
      data is incomplete).
  leech --torrent T --data DIR --port P --rpc-port R --config DIR [--timeout S]
      Download; prints `DONE` and exits 0 once complete, 4 on timeout.

`STATUS have=N total=M uploaded=B downloaded=B peers=P announced=A` is printed
about every half second (A: trackers whose last announce succeeded). Transmission 3.00 never dials 127.0.0.0/8 peers it learns from a
tracker, so the other side must dial it. The daemon is killed when this
script exits (and, via PR_SET_PDEATHSIG, if this script is killed).
"""

import argparse
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

STATUS_PERIOD = 0.5
STARTUP_TIMEOUT = 20.0
VERIFY_TIMEOUT = 60.0
# Transmission torrent status codes (RPC spec, 3.00).
STATUS_STOPPED, STATUS_CHECK_WAIT, STATUS_CHECK = 0, 1, 2
STATUS_SEED = 6
FIELDS = [
    "status",
    "percentDone",
    "pieceCount",
    "haveValid",
    "totalSize",
    "uploadedEver",
    "downloadedEver",
    "peersConnected",
    "error",
    "errorString",
    "recheckProgress",
    "trackerStats",
]


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def log(line):
    sys.stderr.write("[tr_peer %.3f] %s\n" % (time.monotonic(), line))
    sys.stderr.flush()


def die_with_parent():
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


class Rpc:
    """Minimal Transmission RPC client (handles the session-id handshake)."""

    def __init__(self, port):
        self.url = "http://127.0.0.1:%d/transmission/rpc" % port
        self.session_id = ""

    def call(self, method, **arguments):
        body = json.dumps({"method": method, "arguments": arguments}).encode()
        for _ in range(3):
            req = urllib.request.Request(self.url, data=body, method="POST")
            req.add_header("X-Transmission-Session-Id", self.session_id)
            req.add_header("Content-Type", "application/json")
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    reply = json.loads(resp.read())
            except urllib.error.HTTPError as err:
                if err.code == 409:
                    self.session_id = err.headers.get("X-Transmission-Session-Id", "")
                    continue
                raise
            if reply.get("result") != "success":
                raise RuntimeError("%s failed: %s" % (method, reply.get("result")))
            return reply.get("arguments", {})
        raise RuntimeError("%s: no session id accepted" % method)


def write_settings(args):
    os.makedirs(args.config, exist_ok=True)
    settings = {
        "bind-address-ipv4": "127.0.0.1",
        "bind-address-ipv6": "::1",
        "blocklist-enabled": False,
        "cache-size-mb": 4,
        "dht-enabled": False,
        "download-dir": os.path.abspath(args.data),
        "encryption": 1,
        "idle-seeding-limit-enabled": False,
        "incomplete-dir-enabled": False,
        "lpd-enabled": False,
        "message-level": 2,
        "peer-port": args.port,
        "peer-port-random-on-start": False,
        "pex-enabled": False,
        "port-forwarding-enabled": False,
        "ratio-limit-enabled": False,
        "rpc-authentication-required": False,
        "rpc-bind-address": "127.0.0.1",
        "rpc-enabled": True,
        "rpc-host-whitelist-enabled": False,
        "rpc-port": args.rpc_port,
        "rpc-whitelist": "127.0.0.1",
        "rpc-whitelist-enabled": True,
        "speed-limit-up": args.upload_limit_kbps,
        "speed-limit-up-enabled": args.upload_limit_kbps > 0,
        "start-added-torrents": False,
        "utp-enabled": False,
        "watch-dir-enabled": False,
    }
    with open(os.path.join(args.config, "settings.json"), "w") as f:
        json.dump(settings, f, indent=1)


def wait_for_rpc(rpc, daemon):
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise RuntimeError("transmission-daemon exited with %s" % daemon.returncode)
        try:
            rpc.call("session-get")
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    raise RuntimeError("transmission-daemon RPC did not come up")


def get(rpc, tid):
    torrents = rpc.call("torrent-get", ids=[tid], fields=FIELDS)["torrents"]
    if not torrents:
        raise RuntimeError("torrent %d vanished" % tid)
    t = torrents[0]
    if t["error"]:
        log("torrent error %d: %s" % (t["error"], t["errorString"]))
    return t


def have_pieces(t):
    return round(t["percentDone"] * t["pieceCount"])


def status_line(t):
    announced = sum(1 for s in t["trackerStats"] if s["lastAnnounceSucceeded"])
    return "STATUS have=%d total=%d uploaded=%d downloaded=%d peers=%d announced=%d" % (
        have_pieces(t),
        t["pieceCount"],
        t["uploadedEver"],
        t["downloadedEver"],
        t["peersConnected"],
        announced,
    )


def verify(rpc, tid):
    """Runs a full recheck of the (stopped) torrent and waits for its end."""
    rpc.call("torrent-verify", ids=[tid])
    deadline = time.monotonic() + VERIFY_TIMEOUT
    seen_checking = False
    while time.monotonic() < deadline:
        t = get(rpc, tid)
        if t["status"] in (STATUS_CHECK_WAIT, STATUS_CHECK):
            seen_checking = True
        elif seen_checking or t["percentDone"] >= 1.0:
            return t
        time.sleep(0.1)
    raise RuntimeError("verify did not finish")


def run(args):
    write_settings(args)
    daemon = subprocess.Popen(
        ["transmission-daemon", "--foreground", "--log-info", "-g", args.config],
        stdout=sys.stderr,
        stderr=sys.stderr,
        preexec_fn=die_with_parent,
    )
    try:
        rpc = Rpc(args.rpc_port)
        wait_for_rpc(rpc, daemon)
        added = rpc.call(
            "torrent-add",
            filename=os.path.abspath(args.torrent),
            paused=True,
            **{"download-dir": os.path.abspath(args.data)},
        )
        tid = (added.get("torrent-added") or added.get("torrent-duplicate"))["id"]
        t = verify(rpc, tid)
        if args.command == "seed":
            if t["percentDone"] < 1.0:
                log("seed data incomplete: %d of %d pieces" % (have_pieces(t), t["pieceCount"]))
                return 3
        rpc.call("torrent-start-now", ids=[tid])
        if args.command == "seed":
            out("READY have=%d total=%d" % (have_pieces(t), t["pieceCount"]))
        else:
            out("CHECKED have=%d total=%d" % (have_pieces(t), t["pieceCount"]))
        start = time.monotonic()
        while True:
            if daemon.poll() is not None:
                log("transmission-daemon exited with %s" % daemon.returncode)
                return 2
            t = get(rpc, tid)
            out(status_line(t))
            if args.command == "leech" and t["percentDone"] >= 1.0 and t["status"] != STATUS_CHECK:
                out("DONE downloaded=%d" % t["downloadedEver"])
                return 0
            if args.timeout and time.monotonic() - start > args.timeout:
                log("timed out with %d of %d pieces" % (have_pieces(t), t["pieceCount"]))
                return 4
            time.sleep(STATUS_PERIOD)
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=5)
        except subprocess.TimeoutExpired:
            daemon.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("seed", "leech"):
        p = sub.add_parser(name)
        p.add_argument("--torrent", required=True)
        p.add_argument("--data", required=True, help="download dir (parent of the torrent's name)")
        p.add_argument("--port", type=int, required=True, help="peer port")
        p.add_argument("--rpc-port", type=int, required=True)
        p.add_argument("--config", required=True, help="private config dir")
        p.add_argument("--upload-limit-kbps", type=int, default=0)
        p.add_argument("--timeout", type=float, default=0.0)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
