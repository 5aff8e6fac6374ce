#!/usr/bin/python3
"""A misbehaving leecher for ferrent's seeding robustness tests.

Plain sockets, no libtorrent. It dials a seeder (--peer, loopback only),
handshakes for the torrent given with --torrent and then, per --mode:

  bad-index    sends `interested`, waits for the unchoke, then requests a
               block of piece N (one past the last piece)
  bad-offset   the same, with a block starting at the end of piece 0
  huge-length  the same, with a 1 MiB block at the start of piece 0
  flood        sends `interested`, waits for the unchoke, then sends 10,000
               distinct valid requests at once (16 KiB blocks starting every
               KiB, so they do not repeat even in a small torrent)
  choked       never sends `interested`: sends 64 requests for the first
               blocks at once while choked, watches, then (as a control)
               sends `interested`, waits for the unchoke and fetches piece 0,
               checking it against the torrent's SHA-1

All modes read everything the seeder sends, all the time, so the seeder is
never stuck on a full socket. With --fast the handshake advertises the fast
extension (BEP 6), so a seeder should reject what it will not serve.

Output, one line each:
  CONNECTED local=IP:PORT
  UNCHOKED after=S            (seconds after `interested`)
  SENT what=... count=N       (the offence went out)
  SUMMARY mode=M unchoked=0|1 closed=0|1 closed_after=S pieces=N
          pieces_at_offence=N rejects=N verified=0|1 unchoked_before_offence=0|1
          local=IP:PORT

`closed` says whether the seeder closed the connection within --watch seconds
after the offence; `pieces` counts every block received, `pieces_at_offence`
those received before the offence went out; `verified` is the control fetch's
result. The choked mode adds `pieces_while_choked` (blocks received before it
said `interested`) and `unchokes_while_uninterested`. Exits 0 once the summary is out,
2 if the connection or handshake failed.
"""

import argparse
import hashlib
import os
import socket
import struct
import sys
import threading
import time

from hostile_peer import PROTOCOL, MSG_REQUEST, MSG_PIECE, Torrent, message, recv_exact

BLOCK = 16384
MSG_CHOKE, MSG_UNCHOKE, MSG_INTERESTED = 0, 1, 2
MSG_REJECT = 16
FLOOD_REQUESTS = 10_000
FLOOD_STEP = 1024
CHOKED_REQUESTS = 64
UNCHOKE_WAIT = 10.0
FETCH_WAIT = 15.0
HUGE_LENGTH = 1 << 20


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def parse_loopback(text):
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    if host not in ("127.0.0.1", "::1") or not port.isdigit():
        raise argparse.ArgumentTypeError("expected a loopback HOST:PORT, got %r" % text)
    return host, int(port)


def request(index, begin, length):
    return message(MSG_REQUEST, struct.pack(">III", index, begin, length))


class Reader(threading.Thread):
    """Reads and tallies every message the seeder sends until the socket closes."""

    def __init__(self, sock):
        super().__init__(daemon=True)
        self.sock = sock
        self.cond = threading.Condition()
        self.unchoked = False
        self.unchokes = 0
        self.closed_at = None
        self.pieces = 0
        self.rejects = 0
        self.blocks = {}

    def run(self):
        try:
            while True:
                (length,) = struct.unpack(">I", recv_exact(self.sock, 4))
                if length == 0:
                    continue
                if length > 2 * BLOCK + 9:
                    raise ConnectionError("seeder sent a %d byte message" % length)
                body = recv_exact(self.sock, length)
                self.on_message(body[0], body[1:])
        except (ConnectionError, OSError):
            pass
        with self.cond:
            self.closed_at = time.monotonic()
            self.cond.notify_all()

    def on_message(self, msg_id, payload):
        with self.cond:
            if msg_id == MSG_UNCHOKE:
                self.unchoked = True
                self.unchokes += 1
            elif msg_id == MSG_CHOKE:
                self.unchoked = False
            elif msg_id == MSG_REJECT:
                self.rejects += 1
            elif msg_id == MSG_PIECE and len(payload) >= 8:
                index, begin = struct.unpack(">II", payload[:8])
                self.pieces += 1
                self.blocks[(index, begin)] = payload[8:]
            self.cond.notify_all()

    def wait(self, predicate, timeout):
        """Waits until predicate() (called under the lock) holds; returns its last value."""
        with self.cond:
            return self.cond.wait_for(predicate, timeout)


class Leecher:
    def __init__(self, args, torrent):
        self.args = args
        self.torrent = torrent
        self.sock = socket.create_connection(args.peer, timeout=10)
        self.sock.settimeout(None)
        self.local = "%s:%d" % self.sock.getsockname()[:2]
        self.reader = Reader(self.sock)
        self.summary = {
            "mode": args.mode,
            "unchoked": 0,
            "closed": 0,
            "closed_after": -1,
            "pieces_at_offence": 0,
            "verified": 0,
            "unchoked_before_offence": 0,
            "local": self.local,
        }

    def handshake(self):
        reserved = bytearray(8)
        if self.args.fast:
            reserved[7] |= 0x04
        peer_id = b"-HL0001-" + os.urandom(6).hex().encode()
        self.sock.sendall(PROTOCOL + bytes(reserved) + self.torrent.info_hash + peer_id)
        theirs = recv_exact(self.sock, 68)
        if theirs[:20] != PROTOCOL or theirs[28:48] != self.torrent.info_hash:
            raise ConnectionError("the seeder answered with another protocol or torrent")
        out("CONNECTED local=%s" % self.local)
        self.reader.start()

    def interested(self):
        """Sends `interested` and waits (bounded) for the unchoke."""
        start = time.monotonic()
        self.sock.sendall(message(MSG_INTERESTED))
        r = self.reader
        if r.wait(lambda: r.unchoked or r.closed_at is not None, UNCHOKE_WAIT) and r.unchoked:
            self.summary["unchoked"] = 1
            out("UNCHOKED after=%.3f" % (time.monotonic() - start))

    def offend(self, what, payload, count):
        """Sends the offence and notes what had arrived before it."""
        with self.reader.cond:
            self.summary["pieces_at_offence"] = self.reader.pieces
            self.summary["unchoked_before_offence"] = int(self.reader.unchoked)
        sent_at = time.monotonic()
        try:
            self.sock.sendall(payload)
        except OSError as err:
            out("SEND_FAILED what=%s error=%s" % (what, str(err).replace(" ", "_")))
        out("SENT what=%s count=%d" % (what, count))
        return sent_at

    def watch_close(self, sent_at):
        """Waits up to --watch seconds for the seeder to close the connection."""
        r = self.reader
        if r.wait(lambda: r.closed_at is not None, self.args.watch):
            self.summary["closed"] = 1
            self.summary["closed_after"] = "%.3f" % max(0.0, r.closed_at - sent_at)

    def run(self):
        t = self.torrent
        mode = self.args.mode
        if mode == "choked":
            self.choked()
            return
        self.interested()
        if mode == "bad-index":
            sent = self.offend("bad-index", request(t.num_pieces, 0, BLOCK), 1)
        elif mode == "bad-offset":
            sent = self.offend("bad-offset", request(0, t.piece_size(0), BLOCK), 1)
        elif mode == "huge-length":
            sent = self.offend("huge-length", request(0, 0, HUGE_LENGTH), 1)
        else:
            batch = b"".join(request(i, b, n) for i, b, n in self.flood_blocks())
            sent = self.offend("flood", batch, FLOOD_REQUESTS)
        self.watch_close(sent)

    def flood_blocks(self):
        t = self.torrent
        blocks = []
        for index in range(t.num_pieces):
            size = t.piece_size(index)
            for begin in range(0, size, FLOOD_STEP):
                blocks.append((index, begin, min(BLOCK, size - begin)))
                if len(blocks) == FLOOD_REQUESTS:
                    return blocks
        raise SystemExit("the torrent is too small for %d distinct requests" % FLOOD_REQUESTS)

    def first_blocks(self, count):
        t = self.torrent
        blocks = []
        for index in range(t.num_pieces):
            size = t.piece_size(index)
            for begin in range(0, size, BLOCK):
                blocks.append((index, begin, min(BLOCK, size - begin)))
                if len(blocks) == count:
                    return blocks
        return blocks

    def choked(self):
        """Requests while choked, then fetches piece 0 once unchoked as a control."""
        blocks = self.first_blocks(CHOKED_REQUESTS)
        batch = b"".join(request(i, b, n) for i, b, n in blocks)
        sent = self.offend("requests-while-choked", batch, len(blocks))
        self.watch_close(sent)
        with self.reader.cond:
            self.summary["pieces_while_choked"] = self.reader.pieces
            self.summary["unchokes_while_uninterested"] = self.reader.unchokes
        if self.summary["closed"]:
            return
        self.interested()
        per_piece = self.torrent.piece_size(0) // BLOCK + 1
        piece0 = [b for b in self.first_blocks(per_piece) if b[0] == 0]
        self.sock.sendall(b"".join(request(i, b, n) for i, b, n in piece0))
        r = self.reader
        wanted = {(i, b) for i, b, _ in piece0}
        r.wait(lambda: wanted <= r.blocks.keys() or r.closed_at is not None, FETCH_WAIT)
        with r.cond:
            if wanted <= r.blocks.keys():
                data = b"".join(r.blocks[(0, b)] for _, b, _ in piece0)
                digest = hashlib.sha1(data).digest()
                self.summary["verified"] = int(digest == self.torrent.piece_hashes[0])
        # Anything still in flight for the choked requests would arrive now.
        time.sleep(1.0)

    def finish(self):
        with self.reader.cond:
            self.summary["pieces"] = self.reader.pieces
            self.summary["rejects"] = self.reader.rejects
        out("SUMMARY " + " ".join("%s=%s" % kv for kv in self.summary.items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torrent", required=True)
    parser.add_argument("--peer", type=parse_loopback, required=True, help="the seeder")
    modes = ["bad-index", "bad-offset", "huge-length", "flood", "choked"]
    parser.add_argument("--mode", required=True, choices=modes)
    parser.add_argument("--fast", action="store_true", help="advertise the fast extension")
    parser.add_argument(
        "--watch", type=float, default=5.0, help="seconds to wait for the seeder to hang up"
    )
    args = parser.parse_args()
    torrent = Torrent(args.torrent)
    try:
        leecher = Leecher(args, torrent)
        leecher.handshake()
    except (ConnectionError, OSError) as err:
        sys.stderr.write("cannot connect to the seeder: %s\n" % err)
        return 2
    leecher.run()
    leecher.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
