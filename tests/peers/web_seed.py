#!/usr/bin/python3
"""A web seed (BEP 19) for ferrent's tests: an HTTP server on 127.0.0.1 that serves the
files under --root and honours one byte range per request (206 with Content-Range), as
the web servers holding torrents' files do. Python's own http.server ignores Range.

  web_seed.py --root DIR --port P [--corrupt]

With --corrupt every byte served is flipped (status and lengths stay right), so only a
hash check can tell.

It reports on stdout, one event per line:
  READY port=P
  SERVED path=/url/path start=S end=E   (one per range answered; path as requested,
                                        end inclusive)
"""

import argparse
import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

print_lock = threading.Lock()


def out(line):
    with print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def parse_range(header, size):
    """(start, end) inclusive for a single `bytes=a-b` / `a-` / `-n` range, else None."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[len("bytes="):].partition("-")
    try:
        if first == "":
            n = int(last)
            return (max(size - n, 0), size - 1) if n > 0 else None
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start > end or start >= size:
        return None
    return start, min(end, size - 1)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        rel = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        root = os.path.realpath(self.server.root)
        path = os.path.realpath(os.path.join(root, rel))
        if not path.startswith(root + os.sep) or not os.path.isfile(path):
            self.send_error(404)
            return
        size = os.path.getsize(path)
        wanted = parse_range(self.headers.get("Range"), size)
        if wanted is None:
            self.send_error(416 if self.headers.get("Range") else 400)
            return
        start, end = wanted
        with open(path, "rb") as f:
            f.seek(start)
            data = f.read(end - start + 1)
        if self.server.corrupt:
            data = bytes(b ^ 0xFF for b in data)
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        # The request target as sent (already percent-encoded: no spaces).
        out("SERVED path=%s start=%d end=%d" % (self.path, start, end))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--corrupt", action="store_true")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.root = args.root
    server.corrupt = args.corrupt
    out("READY port=%d" % args.port)
    server.serve_forever()


if __name__ == "__main__":
    main()
