#!/usr/bin/python3
"""A deliberately misbehaving BitTorrent peer for ferrent's robustness tests.

Plain sockets, no libtorrent. It listens on 127.0.0.1:PORT, answers the
handshake for the torrent given with --torrent, claims to have every piece,
unchokes, and then misbehaves according to --mode:

  corrupt       answers every request with random bytes of the right length
  oversize      sends a 100 MiB length prefix (and nothing after it)
  bad-bitfield  sends a bitfield one byte longer than the piece count allows
  spare-bits    sends a correctly sized bitfield with the spare bits set
  unrequested   floods piece messages for blocks that were never requested

It reports on stdout, one event per line:
  READY port=P pieces=N
  CONNECTED peer=IP:PORT
  SERVED index=I begin=B length=L peer=IP:PORT   (corrupt: one bad block sent)
  SENT what=... peer=IP:PORT               (the misbehaviour went out)
  CLOSED peer=IP:PORT reason=...
"""

import argparse
import hashlib
import os
import socket
import struct
import sys
import threading

BLOCK = 16384
OVERSIZE = 100 * 1024 * 1024
PROTOCOL = b"\x13BitTorrent protocol"
MSG_UNCHOKE, MSG_HAVE, MSG_BITFIELD, MSG_REQUEST, MSG_PIECE = 1, 4, 5, 6, 7
UNREQUESTED_BLOCKS = 64

print_lock = threading.Lock()


def out(line):
    with print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class BencodeError(ValueError):
    pass


def bdecode(data, pos):
    """Returns (value, end) for the bencoded value starting at data[pos]."""
    c = data[pos : pos + 1]
    if c == b"i":
        end = data.index(b"e", pos)
        return int(data[pos + 1 : end]), end + 1
    if c in (b"l", b"d"):
        pos += 1
        items = []
        while data[pos : pos + 1] != b"e":
            if pos >= len(data):
                raise BencodeError("unterminated list/dict")
            item, pos = bdecode(data, pos)
            items.append(item)
        if c == b"l":
            return items, pos + 1
        return dict(zip(items[0::2], items[1::2])), pos + 1
    if c.isdigit():
        colon = data.index(b":", pos)
        length = int(data[pos:colon])
        return data[colon + 1 : colon + 1 + length], colon + 1 + length
    raise BencodeError("unexpected byte %r at offset %d" % (c, pos))


def info_span(raw):
    """Returns (start, end) of the raw `info` value in a metainfo file."""
    if raw[:1] != b"d":
        raise BencodeError("metainfo is not a dictionary")
    pos = 1
    while raw[pos : pos + 1] != b"e":
        key, pos = bdecode(raw, pos)
        start = pos
        _, pos = bdecode(raw, pos)
        if key == b"info":
            return start, pos
    raise BencodeError("metainfo has no info dictionary")


class Torrent:
    def __init__(self, path):
        with open(path, "rb") as f:
            raw = f.read()
        start, end = info_span(raw)
        info, _ = bdecode(raw, start)
        self.info_hash = hashlib.sha1(raw[start:end]).digest()
        self.piece_length = info[b"piece length"]
        if b"length" in info:
            self.total = info[b"length"]
        else:
            self.total = sum(f[b"length"] for f in info[b"files"])
        self.num_pieces = len(info[b"pieces"]) // 20
        hashes = info[b"pieces"]
        self.piece_hashes = [hashes[i : i + 20] for i in range(0, 20 * self.num_pieces, 20)]

    def piece_size(self, index):
        if index == self.num_pieces - 1:
            return self.total - self.piece_length * index
        return self.piece_length

    def bitfield(self, extra_byte=False, spare_bits=False):
        nbytes = (self.num_pieces + 7) // 8
        bits = bytearray(b"\xff" * nbytes)
        spare = nbytes * 8 - self.num_pieces
        if spare and not spare_bits:
            bits[-1] = (0xFF << spare) & 0xFF
        if extra_byte:
            bits.append(0xFF)
        return bytes(bits)


def message(msg_id, payload=b""):
    return struct.pack(">IB", len(payload) + 1, msg_id) + payload


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("peer closed")
        buf += chunk
    return bytes(buf)


def read_message(sock):
    """Returns (id, payload) or None for a keep-alive."""
    (length,) = struct.unpack(">I", recv_exact(sock, 4))
    if length == 0:
        return None
    if length > 1 << 20:
        raise ConnectionError("peer sent a %d byte message" % length)
    body = recv_exact(sock, length)
    return body[0], body[1:]


class PeerSession:
    """One accepted connection: answers the handshake for `info_hash`, sends `opening`,
    then hands every message to `on_message` until the connection ends. Reports
    CONNECTED and CLOSED."""

    CLIENT = b"-XX0001-"
    RESERVED = bytes(8)

    def __init__(self, sock, addr, info_hash):
        self.sock = sock
        self.peer = "%s:%d" % addr[:2]
        self.info_hash = info_hash

    def handshake(self):
        theirs = recv_exact(self.sock, 68)
        if theirs[:20] != PROTOCOL:
            raise ConnectionError("bad protocol string")
        if theirs[28:48] != self.info_hash:
            raise ConnectionError("unknown info hash %s" % theirs[28:48].hex())
        peer_id = self.CLIENT + os.urandom(6).hex().encode()[:12]
        self.sock.sendall(PROTOCOL + self.RESERVED + self.info_hash + peer_id)

    def opening(self):
        """What goes out right after the handshake."""

    def on_message(self, msg_id, payload):
        """One message from the peer."""

    def run(self):
        reason = "closed"
        try:
            self.handshake()
            out("CONNECTED peer=%s" % self.peer)
            self.opening()
            while True:
                msg = read_message(self.sock)
                if msg is not None:
                    self.on_message(*msg)
        except (ConnectionError, OSError, ValueError, AttributeError) as err:
            reason = str(err).replace(" ", "_") or "closed"
        finally:
            self.sock.close()
            out("CLOSED peer=%s reason=%s" % (self.peer, reason))


def listen(host, port):
    """A listening TCP socket on host:port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(16)
    return listener


def accept_forever(listener, make_session):
    """Runs `make_session(sock, addr).run` on its own thread for every connection."""
    while True:
        sock, addr = listener.accept()
        threading.Thread(target=make_session(sock, addr).run, daemon=True).start()


class Session(PeerSession):
    CLIENT = b"-HP0001-"

    def __init__(self, sock, addr, torrent, mode):
        super().__init__(sock, addr, torrent.info_hash)
        self.torrent = torrent
        self.mode = mode

    def opening(self):
        t = self.torrent
        if self.mode == "bad-bitfield":
            self.sock.sendall(message(MSG_BITFIELD, t.bitfield(extra_byte=True)))
            out("SENT what=bitfield-too-long peer=%s" % self.peer)
        elif self.mode == "spare-bits":
            self.sock.sendall(message(MSG_BITFIELD, t.bitfield(spare_bits=True)))
            out("SENT what=bitfield-spare-bits peer=%s" % self.peer)
        else:
            self.sock.sendall(message(MSG_BITFIELD, t.bitfield()))
        self.sock.sendall(message(MSG_UNCHOKE))
        if self.mode == "oversize":
            self.sock.sendall(struct.pack(">IB", OVERSIZE, MSG_PIECE) + bytes(64))
            out("SENT what=oversize-prefix peer=%s" % self.peer)
        elif self.mode == "unrequested":
            self.flood_unrequested()

    def flood_unrequested(self):
        t = self.torrent
        blocks = [
            (index, begin, min(BLOCK, t.piece_size(index) - begin))
            for index in range(t.num_pieces)
            for begin in range(0, t.piece_size(index), BLOCK)
        ]
        for n, (index, begin, length) in enumerate(blocks[:UNREQUESTED_BLOCKS]):
            payload = struct.pack(">II", index, begin) + os.urandom(length)
            self.sock.sendall(message(MSG_PIECE, payload))
            if n == 0:
                out("SENT what=unrequested-block peer=%s" % self.peer)

    def on_request(self, payload):
        if len(payload) != 12:
            raise ConnectionError("bad request length %d" % len(payload))
        index, begin, length = struct.unpack(">III", payload)
        if self.mode in ("oversize", "unrequested"):
            return
        if index >= self.torrent.num_pieces or length > 2 * BLOCK:
            raise ConnectionError("request out of range")
        self.sock.sendall(message(MSG_PIECE, struct.pack(">II", index, begin) + os.urandom(length)))
        out("SERVED index=%d begin=%d length=%d peer=%s" % (index, begin, length, self.peer))

    def on_message(self, msg_id, payload):
        if msg_id == MSG_REQUEST:
            self.on_request(payload)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torrent", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    parser.add_argument(
        "--mode",
        required=True,
        choices=["corrupt", "oversize", "bad-bitfield", "spare-bits", "unrequested"],
    )
    args = parser.parse_args()
    torrent = Torrent(args.torrent)
    if args.mode == "spare-bits" and torrent.num_pieces % 8 == 0:
        sys.stderr.write("spare-bits needs a piece count that is not a multiple of 8\n")
        return 2
    listener = listen(args.host, args.port)
    out("READY port=%d pieces=%d" % (args.port, torrent.num_pieces))
    accept_forever(listener, lambda sock, addr: Session(sock, addr, torrent, args.mode))


if __name__ == "__main__":
    sys.exit(main())
