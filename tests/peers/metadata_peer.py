#!/usr/bin/python3
"""A peer that serves bad BEP 9 metadata, for ferrent's magnet-link robustness tests.

Plain sockets, no libtorrent. It listens on 127.0.0.1:PORT (--port may be
repeated: one listener per port, like that many peers), answers the
handshake for the torrent given with --torrent (reserved bit 20: extension
protocol), sends a BEP 10 extension handshake offering ut_metadata, and then
answers every ut_metadata request with a piece that is wrong according to
--mode. It never sends a bitfield and never serves payload.

Modes:
  corrupt     right sizes, but one byte of every piece is flipped
  short       each piece one byte shorter than it must be
  long        each piece 100 bytes longer than it must be
  bad-total   metadata_size (handshake and data messages) is the real size
              plus 1000; pieces are cut from the real info dictionary padded
              with junk to that size

It reports on stdout, one event per line:
  READY ports=P,Q,... metadata_size=N pieces=K
  CONNECTED peer=IP:PORT
  REQUESTED piece=I peer=IP:PORT
  SENT what=MODE piece=I length=L total=T peer=IP:PORT
  CLOSED peer=IP:PORT reason=...
"""

import argparse
import hashlib
import os
import sys
import threading

from hostile_peer import PeerSession, accept_forever, bdecode, info_span, listen, message, out

METADATA_PIECE = 16384
MSG_EXTENDED = 20
EXT_HANDSHAKE = 0
# The id under which we ask peers to send us ut_metadata messages.
OUR_UT_METADATA = 3
BAD_TOTAL_EXTRA = 1000
LONG_EXTRA = 100
MODES = ("corrupt", "short", "long", "bad-total")


def bencode(value):
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError("cannot bencode %r" % type(value))


class Metadata:
    """The torrent's raw info dictionary and its bad variants."""

    def __init__(self, path, mode):
        with open(path, "rb") as f:
            raw = f.read()
        start, end = info_span(raw)
        self.info = raw[start:end]
        self.info_hash = hashlib.sha1(self.info).digest()
        self.mode = mode
        if mode == "bad-total":
            self.served = self.info + os.urandom(BAD_TOTAL_EXTRA)
        else:
            self.served = self.info

    def size(self):
        """The metadata_size we advertise."""
        return len(self.served)

    def pieces(self):
        return (self.size() + METADATA_PIECE - 1) // METADATA_PIECE

    def piece(self, index):
        """The bytes sent for piece `index`, or None if it does not exist."""
        start = index * METADATA_PIECE
        if index < 0 or start >= self.size():
            return None
        data = bytearray(self.served[start : start + METADATA_PIECE])
        if self.mode == "corrupt":
            data[len(data) // 2] ^= 0x5A
        elif self.mode == "short":
            del data[-1]
        elif self.mode == "long":
            data += os.urandom(LONG_EXTRA)
        return bytes(data)


class Session(PeerSession):
    CLIENT = b"-MP0001-"
    # Reserved bit 20: the extension protocol (BEP 10).
    RESERVED = bytes([0, 0, 0, 0, 0, 0x10, 0, 0])

    def __init__(self, sock, addr, metadata):
        super().__init__(sock, addr, metadata.info_hash)
        self.metadata = metadata
        self.their_ut_metadata = None

    def opening(self):
        hello = {
            "m": {"ut_metadata": OUR_UT_METADATA},
            "metadata_size": self.metadata.size(),
            "v": "ferrent-test-metadata-peer",
        }
        self.send_extended(EXT_HANDSHAKE, bencode(hello))

    def send_extended(self, ext_id, payload):
        self.sock.sendall(message(MSG_EXTENDED, bytes([ext_id]) + payload))

    def on_extended(self, payload):
        if not payload:
            raise ConnectionError("empty extended message")
        ext_id, body = payload[0], payload[1:]
        if ext_id == EXT_HANDSHAKE:
            hello, _ = bdecode(body, 0)
            self.their_ut_metadata = hello.get(b"m", {}).get(b"ut_metadata")
        elif ext_id == OUR_UT_METADATA:
            request, _ = bdecode(body, 0)
            if request.get(b"msg_type") == 0:
                self.on_request(request.get(b"piece", -1))

    def on_request(self, index):
        out("REQUESTED piece=%d peer=%s" % (index, self.peer))
        if not self.their_ut_metadata:
            raise ConnectionError("request before an extension handshake naming ut_metadata")
        data = self.metadata.piece(index)
        if data is None:
            reply = bencode({"msg_type": 2, "piece": index})
            self.send_extended(self.their_ut_metadata, reply)
            return
        total = self.metadata.size()
        header = bencode({"msg_type": 1, "piece": index, "total_size": total})
        self.send_extended(self.their_ut_metadata, header + data)
        out(
            "SENT what=%s piece=%d length=%d total=%d peer=%s"
            % (self.metadata.mode, index, len(data), total, self.peer)
        )

    def on_message(self, msg_id, payload):
        if msg_id == MSG_EXTENDED:
            self.on_extended(payload)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torrent", required=True)
    parser.add_argument("--port", type=int, action="append", required=True)
    parser.add_argument("--mode", required=True, choices=MODES)
    args = parser.parse_args()
    metadata = Metadata(args.torrent, args.mode)
    listeners = [listen("127.0.0.1", port) for port in args.port]
    for listener in listeners:
        serve = (listener, lambda sock, addr: Session(sock, addr, metadata))
        threading.Thread(target=accept_forever, args=serve, daemon=True).start()
    out(
        "READY ports=%s metadata_size=%d pieces=%d"
        % (",".join(map(str, args.port)), metadata.size(), metadata.pieces())
    )
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
