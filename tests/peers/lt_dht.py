#!/usr/bin/python3
"""A small DHT of libtorrent sessions on 127.0.0.1, for ferrent's DHT interop tests.

Runs with Debian's /usr/bin/python3 (python3-libtorrent 2.0). Every session listens
on 127.0.0.1 only, with LSD, UPnP and NAT-PMP off; the sessions bootstrap from each
other and from the --bootstrap nodes given (loopback only), never from a public router.

Usage: lt_dht.py [--sessions N] [--bootstrap HOST:PORT]...

Prints `READY P1 P2 ...` (each session's DHT/listen port) once the sessions run,
then reads commands from stdin, one per line:

  seed DIR             Create a small torrent from a new file in DIR and seed it from
                       session 0, with no tracker: only the DHT announces it.
                       Prints `SEEDING <info hash hex> <port>`.
  announce I HEX PORT  Session I announces HEX on PORT (dht_announce).
  get_peers I HEX      Session I looks HEX up; each reply prints
                       `PEERS <hex> <ip:port>,<ip:port>...`.
  add_node I HOST:PORT Session I adds a DHT node.
  nodes I              Prints `NODES I <ip:port>,...`: session I's routing table.
  quit                 Exit.

Notable alerts go to stderr.
"""

import argparse
import os
import queue
import sys
import threading
import time
import warnings

import libtorrent as lt

POLL_PERIOD = 0.05


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def log(line):
    sys.stderr.write("[lt_dht %.3f] %s\n" % (time.monotonic(), line))
    sys.stderr.flush()


def parse_node(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, got %r" % text)
    host = host.strip("[]")
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise argparse.ArgumentTypeError("only loopback nodes are allowed, got %r" % text)
    return host, int(port)


def make_session(bootstrap):
    settings = {
        "listen_interfaces": "127.0.0.1:0",
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": True,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "dht_bootstrap_nodes": ",".join("%s:%d" % n for n in bootstrap),
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_ignore_dark_internet": False,
        "dht_enforce_node_id": False,
        "dht_block_ratelimit": 100000,
        "dht_upload_rate_limit": 10000000,
        "dht_announce_interval": 5,
        "user_agent": "ferrent-test-lt-dht/" + lt.__version__,
        "alert_mask": (
            lt.alert.category_t.error_notification
            | lt.alert.category_t.status_notification
            | lt.alert.category_t.dht_notification
            | lt.alert.category_t.dht_operation_notification
        ),
    }
    return lt.session(settings)


def wait_listening(sessions, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(s.listen_port() != 0 for s in sessions):
            return
        time.sleep(POLL_PERIOD)
    raise SystemExit("sessions did not start listening")


def make_torrent(directory):
    os.makedirs(directory, exist_ok=True)
    name = "payload.bin"
    with open(os.path.join(directory, name), "wb") as f:
        f.write(os.urandom(96 * 1024))
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(directory, name))
    ct = lt.create_torrent(fs, 16 * 1024)
    ct.set_priv(False)
    lt.set_piece_hashes(ct, directory)
    return lt.torrent_info(ct.generate())


def seed(session, directory):
    ti = make_torrent(directory)
    params = lt.add_torrent_params()
    params.ti = ti
    params.save_path = directory
    params.flags |= lt.torrent_flags.seed_mode
    params.flags &= ~lt.torrent_flags.auto_managed
    params.flags &= ~lt.torrent_flags.paused
    session.add_torrent(params)
    return str(ti.info_hashes().v1)


def node_id(session):
    """The session's DHT node id (IPv4 node), as dht_live_nodes wants it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        state = session.dht_state()
    nid = state[b"node-id"][0][:20]
    return lt.sha1_hash(nid)


def read_stdin(lines):
    for line in sys.stdin:
        lines.put(line.strip())
    lines.put("quit")


def format_addr(endpoint):
    return "%s:%d" % (endpoint[0], endpoint[1])


def live_endpoints(nodes):
    """Endpoints of a dht_live_nodes_alert's nodes (dicts or (id, endpoint) pairs)."""
    for node in nodes:
        if isinstance(node, dict):
            yield node["endpoint"]
        else:
            yield node[1]


def handle_alerts(index, session):
    for alert in session.pop_alerts():
        if isinstance(alert, lt.dht_get_peers_reply_alert):
            peers = ",".join(format_addr(p) for p in alert.peers())
            out("PEERS %s %s" % (alert.info_hash, peers))
        elif isinstance(alert, lt.dht_live_nodes_alert):
            nodes = ",".join(format_addr(ep) for ep in live_endpoints(alert.nodes))
            out("NODES %d %s" % (index, nodes))
        elif isinstance(alert, lt.dht_bootstrap_alert):
            log("session %d: DHT bootstrapped" % index)
        elif isinstance(alert, lt.dht_announce_alert):
            log("session %d: incoming announce %s from %s:%d"
                % (index, alert.info_hash, alert.ip, alert.port))
        elif alert.category() & lt.alert.category_t.error_notification:
            log("session %d: %s: %s" % (index, alert.what(), alert.message()))


def run_command(sessions, words):
    command, args = words[0], words[1:]
    if command == "seed":
        info_hash = seed(sessions[0], args[0])
        out("SEEDING %s %d" % (info_hash, sessions[0].listen_port()))
    elif command == "announce":
        index, info_hash, port = int(args[0]), args[1], int(args[2])
        sessions[index].dht_announce(lt.sha1_hash(bytes.fromhex(info_hash)), port, 0)
    elif command == "get_peers":
        index, info_hash = int(args[0]), args[1]
        sessions[index].dht_get_peers(lt.sha1_hash(bytes.fromhex(info_hash)))
    elif command == "add_node":
        host, port = parse_node(args[1])
        sessions[int(args[0])].add_dht_node((host, port))
    elif command == "nodes":
        index = int(args[0])
        sessions[index].dht_live_nodes(node_id(sessions[index]))
    else:
        log("unknown command %r" % " ".join(words))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--bootstrap", type=parse_node, action="append", default=[])
    args = parser.parse_args()

    sessions = []
    for _ in range(args.sessions):
        earlier = [("127.0.0.1", s.listen_port()) for s in sessions]
        sessions.append(make_session(args.bootstrap + earlier))
        wait_listening(sessions)
    # Link every pair, so the small DHT is connected whatever the bootstrap order.
    for s in sessions:
        for other in sessions:
            if other is not s:
                s.add_dht_node(("127.0.0.1", other.listen_port()))
    out("READY " + " ".join(str(s.listen_port()) for s in sessions))

    lines = queue.Queue()
    threading.Thread(target=read_stdin, args=(lines,), daemon=True).start()
    while True:
        for index, session in enumerate(sessions):
            handle_alerts(index, session)
        try:
            line = lines.get(timeout=POLL_PERIOD)
        except queue.Empty:
            continue
        if not line:
            continue
        if line == "quit":
            return
        try:
            run_command(sessions, line.split())
        except (IndexError, ValueError, argparse.ArgumentTypeError) as error:
            log("bad command %r: %s" % (line, error))


if __name__ == "__main__":
    main()
