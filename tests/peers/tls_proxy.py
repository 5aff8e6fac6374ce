#!/usr/bin/python3
"""A TLS-terminating TCP proxy on 127.0.0.1, to put an HTTPS front on a local HTTP tracker.

Runs with Debian's /usr/bin/python3, standard library only. Each client connection is
TLS-handshaked with --cert/--key, then its plain bytes are relayed both ways to
127.0.0.1:--upstream until either side closes.

Usage: tls_proxy.py --cert PEM --key PEM --upstream PORT [--port PORT] [--lifetime SECONDS]

Prints `READY <port>` on stdout once listening (--port 0, the default, lets the OS pick).
Reports on stderr, one line each: `accepted <peer>`, `handshake failed <peer>: <reason>`,
`forwarded <peer>` (handshake done, upstream connected) and `closed <peer> <up> <down>`
(bytes relayed to and from the upstream).

Exits when its stdin reaches end-of-file (the parent closed it or died) or after
--lifetime seconds, whichever comes first.
"""

import argparse
import asyncio
import os
import ssl
import sys
import threading
import time

HOST = "127.0.0.1"
HANDSHAKE_TIMEOUT = 10.0
CONNECT_TIMEOUT = 5.0
IDLE_TIMEOUT = 60.0
CHUNK = 64 * 1024


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def log(line):
    sys.stderr.write("[tls_proxy %.3f] %s\n" % (time.monotonic(), line))
    sys.stderr.flush()


def describe(error):
    """A one-line reason for a failed handshake, e.g. `TLSV1_ALERT_UNKNOWN_CA`."""
    if isinstance(error, ssl.SSLError) and error.reason:
        return "%s (%s)" % (error.reason, error)
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return "timed out"
    text = str(error)
    return "%s: %s" % (type(error).__name__, text) if text else type(error).__name__


async def pump(reader, writer, counter, key):
    """Copies reader to writer until end-of-file or IDLE_TIMEOUT without data."""
    while True:
        data = await asyncio.wait_for(reader.read(CHUNK), IDLE_TIMEOUT)
        if not data:
            return
        counter[key] += len(data)
        writer.write(data)
        await writer.drain()


async def close(writer):
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), CONNECT_TIMEOUT)
    except (OSError, ssl.SSLError, asyncio.TimeoutError):
        pass


async def handle(context, upstream, reader, writer):
    peer = "%s:%d" % writer.get_extra_info("peername")[:2]
    log("accepted %s" % peer)
    try:
        await writer.start_tls(context, ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
    except (OSError, ssl.SSLError, asyncio.TimeoutError, ConnectionError) as error:
        log("handshake failed %s: %s" % (peer, describe(error)))
        writer.transport.abort()
        return
    try:
        up_reader, up_writer = await asyncio.wait_for(
            asyncio.open_connection(HOST, upstream), CONNECT_TIMEOUT
        )
    except (OSError, asyncio.TimeoutError) as error:
        log("upstream failed %s: %s" % (peer, describe(error)))
        await close(writer)
        return
    log("forwarded %s" % peer)
    counter = {"up": 0, "down": 0}
    tasks = [
        asyncio.ensure_future(pump(reader, up_writer, counter, "up")),
        asyncio.ensure_future(pump(up_reader, writer, counter, "down")),
    ]
    # Either direction ending (end-of-file, error or idle) ends the connection.
    _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await close(up_writer)
    await close(writer)
    log("closed %s %d %d" % (peer, counter["up"], counter["down"]))


def watch_stdin(loop, done):
    """Sets `done` once stdin reaches end-of-file."""
    # The raw descriptor, not sys.stdin: a daemon thread blocked in a buffered read would
    # hold the buffer's lock while the interpreter shuts down.
    while os.read(0, CHUNK):
        pass
    loop.call_soon_threadsafe(done.set)


async def serve(args):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    server = await asyncio.start_server(
        lambda r, w: handle(context, args.upstream, r, w), HOST, args.port
    )
    port = server.sockets[0].getsockname()[1]
    done = asyncio.Event()
    threading.Thread(
        target=watch_stdin, args=(asyncio.get_running_loop(), done), daemon=True
    ).start()
    out("READY %d" % port)
    log("listening on %s:%d, relaying to %s:%d" % (HOST, port, HOST, args.upstream))
    try:
        await asyncio.wait_for(done.wait(), args.lifetime)
        log("stdin closed: exiting")
    except asyncio.TimeoutError:
        log("lifetime of %ss over: exiting" % args.lifetime)
    server.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cert", required=True, help="server certificate chain (PEM)")
    parser.add_argument("--key", required=True, help="server private key (PEM)")
    parser.add_argument("--upstream", type=int, required=True, help="plain TCP port on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any)")
    parser.add_argument("--lifetime", type=float, default=600.0, help="seconds before exiting")
    args = parser.parse_args()
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
