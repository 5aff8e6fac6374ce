#!/usr/bin/python3
"""Announce a peer into a loopback DHT with plain KRPC (BEP 5), for ferrent's tests.

Usage: dht_announce.py --node HOST:PORT... --info-hash HEX --port P

For each node: `get_peers` for the info hash (to obtain a write token), then
`announce_peer` with that token, the given port and implied_port=0. This is what
a DHT-less peer's friend would do on its behalf; libtorrent's Python binding
cannot call dht_announce itself (its flags argument has no converter).

Prints `ANNOUNCED node=HOST:PORT` per node that accepted, and exits 0 only if
every node did (1 otherwise). Loopback nodes only.
"""

import argparse
import os
import socket
import sys

from metadata_peer import bencode
from hostile_peer import bdecode

TIMEOUT = 2.0
ATTEMPTS = 3


def parse_node(text):
    host, _, port = text.rpartition(":")
    if host not in ("127.0.0.1", "localhost") or not port.isdigit():
        raise argparse.ArgumentTypeError("expected 127.0.0.1:PORT, got %r" % text)
    return "127.0.0.1", int(port)


def query(sock, node, method, args):
    """Sends one KRPC query (retrying), returns the response's `r` dict."""
    for attempt in range(ATTEMPTS):
        tid = os.urandom(2)
        sock.sendto(bencode({"t": tid, "y": "q", "q": method, "a": args}), node)
        try:
            while True:
                data, sender = sock.recvfrom(65536)
                reply, _ = bdecode(data, 0)
                if sender[:2] != node or reply.get(b"t") != tid:
                    continue
                if reply.get(b"y") == b"r":
                    return reply[b"r"]
                raise RuntimeError("%s:%d answered %s with %r" % (node + (method, reply)))
        except socket.timeout:
            sys.stderr.write("no answer to %s from %s:%d (try %d)\n" % ((method,) + node + (attempt + 1,)))
    raise RuntimeError("%s:%d never answered %s" % (node + (method,)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node", type=parse_node, action="append", required=True)
    parser.add_argument("--info-hash", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    info_hash = bytes.fromhex(args.info_hash)
    if len(info_hash) != 20:
        parser.error("--info-hash must be 40 hex digits")
    our_id = os.urandom(20)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(TIMEOUT)
    failed = 0
    for node in args.node:
        try:
            found = query(sock, node, "get_peers", {"id": our_id, "info_hash": info_hash})
            token = found[b"token"]
            query(
                sock,
                node,
                "announce_peer",
                {
                    "id": our_id,
                    "info_hash": info_hash,
                    "port": args.port,
                    "token": token,
                    "implied_port": 0,
                },
            )
            print("ANNOUNCED node=%s:%d" % node, flush=True)
        except (RuntimeError, KeyError, ValueError) as error:
            sys.stderr.write("announce to %s:%d failed: %s\n" % (node + (error,)))
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
