#!/usr/bin/python3
"""A libtorrent peer for ferrent's loopback interop tests and benchmarks.

Runs with Debian's /usr/bin/python3 (python3-libtorrent). Everything is bound
to 127.0.0.1 and every discovery mechanism except the torrent's own trackers
and PEX is switched off unless asked for, so the only peers are the ones the
test arranges.

Sub-commands:

  info TORRENT
      Print one JSON object describing the torrent (info hash, piece length,
      piece count, files with their offsets) and exit.

  seed --torrent T --data DIR --port P [--peer HOST:PORT]... [--upload-limit B]
       [--partial]
      Hash-check DIR, then serve. Prints `READY have=N total=M bits=0101..`
      once the check is done. Without --partial, exits 3 if DIR is incomplete.
      With --partial the torrent is put in upload mode: it serves the pieces
      it has and never downloads the others (so partial seeders stay partial).

  leech (--torrent T | --magnet URI) --data DIR --port P [--peer HOST:PORT]...
        [--timeout S]
      Download into DIR; prints `DONE` and exits 0 once every piece is
      verified. Exits 4 on timeout. With --magnet, `METADATA info_hash=H` is
      printed once the metadata arrived (before that, STATUS shows total=0).

Discovery options (both sub-commands):
  --dht-bootstrap HOST:PORT   switch the DHT on, bootstrapping from these
                              loopback nodes only (repeatable); torrents are
                              announced every few seconds
  --lsd                       switch Local Service Discovery on
  --lsd-interval S            seconds between LSD announces (default: the
                              libtorrent default of 5 minutes)
  --no-pex                    no peer exchange for the torrent (BEP 11)
  --keep-seed-connections     do not close connections between two seeds
                              (libtorrent does by default), so a seed keeps
                              other seeds in the peer lists it exchanges

Every ~0.5 s a `STATUS have=N total=M uploaded=B downloaded=B peers=P
announced=A` line is printed (A: successful tracker announces so far). Notable libtorrent alerts go to stderr.
"""

import argparse
import json
import sys
import time

import libtorrent as lt

STATUS_PERIOD = 0.5
RECONNECT_PERIOD = 2.0
DHT_ANNOUNCE_INTERVAL = 5


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def log(line):
    sys.stderr.write("[lt_peer %.3f] %s\n" % (time.monotonic(), line))
    sys.stderr.flush()


def parse_peer(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, got %r" % text)
    return host.strip("[]"), int(port)


def torrent_info(path):
    ti = lt.torrent_info(path)
    fs = ti.files()
    files = []
    for i in range(fs.num_files()):
        files.append(
            {
                "path": fs.file_path(i),
                "size": fs.file_size(i),
                "offset": fs.file_offset(i),
                "pad": bool(fs.file_flags(i) & lt.file_storage.flag_pad_file),
            }
        )
    return {
        "info_hash": str(ti.info_hashes().v1),
        "name": ti.name(),
        "piece_length": ti.piece_length(),
        "num_pieces": ti.num_pieces(),
        "total_size": ti.total_size(),
        "private": ti.priv(),
        "trackers": [t.url for t in ti.trackers()],
        "files": files,
    }


def discovery_settings(args):
    """Settings for the discovery options; loopback only, never a public router."""
    settings = {
        "enable_dht": bool(args.dht_bootstrap),
        "enable_lsd": args.lsd,
        "close_redundant_connections": not args.keep_seed_connections,
    }
    if args.dht_bootstrap:
        settings.update(
            {
                "dht_bootstrap_nodes": ",".join("%s:%d" % n for n in args.dht_bootstrap),
                "outgoing_interfaces": "127.0.0.1",
                "dht_restrict_routing_ips": False,
                "dht_restrict_search_ips": False,
                "dht_ignore_dark_internet": False,
                "dht_enforce_node_id": False,
                "dht_announce_interval": DHT_ANNOUNCE_INTERVAL,
            }
        )
    if args.lsd and args.lsd_interval:
        settings["local_service_announce_interval"] = args.lsd_interval
    return settings


def make_session(port, upload_limit, extra):
    alerts = (
        lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.tracker_notification
        | lt.alert.category_t.connect_notification
        | lt.alert.category_t.peer_notification
        | lt.alert.category_t.storage_notification
    )
    settings = {
        "listen_interfaces": "127.0.0.1:%d" % port,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": alerts,
        "upload_rate_limit": upload_limit,
        "user_agent": "ferrent-test-lt/" + lt.__version__,
    }
    settings.update(extra)
    ses = lt.session(settings)
    if upload_limit > 0:
        # libtorrent exempts local peers from rate limits by default; put every
        # address in the global class so the limit applies on loopback too.
        ipf = lt.ip_filter()
        ipf.add_rule("0.0.0.0", "255.255.255.255", 1 << lt.session.global_peer_class_id)
        ses.set_peer_class_filter(ipf)
    return ses


def pieces_bits(status):
    return "".join("1" if p else "0" for p in status.pieces)


def describe(alert):
    return "%s: %s" % (type(alert).__name__, alert.message())


def parse_loopback(text):
    host, port = parse_peer(text)
    if host not in ("127.0.0.1", "::1"):
        raise argparse.ArgumentTypeError("only loopback nodes are allowed, got %r" % text)
    return host, port


def torrent_params(args):
    """The add_torrent_params for --torrent or --magnet, and the torrent_info if known."""
    if getattr(args, "magnet", None):
        params = lt.parse_magnet_uri(args.magnet)
        ti = None
    else:
        ti = lt.torrent_info(args.torrent)
        params = lt.add_torrent_params()
        params.ti = ti
    if args.no_pex:
        params.flags |= lt.torrent_flags.disable_pex
    return params, ti


def run(args):
    ses = make_session(args.port, args.upload_limit, discovery_settings(args))
    params, ti = torrent_params(args)
    params.save_path = args.data
    # Not auto-managed: the queueing logic must never pause our only torrent.
    params.flags &= ~lt.torrent_flags.auto_managed
    params.flags &= ~lt.torrent_flags.paused
    if args.command == "seed" and args.partial:
        params.flags |= lt.torrent_flags.upload_mode
    handle = ses.add_torrent(params)

    checked = False
    announced = 0
    start = time.monotonic()
    last_status = 0.0
    last_connect = 0.0
    while True:
        ses.wait_for_alert(100)
        for alert in ses.pop_alerts():
            if isinstance(alert, lt.tracker_reply_alert):
                announced += 1
            if isinstance(alert, lt.torrent_error_alert):
                log(describe(alert))
                return 2
            if isinstance(alert, (lt.listen_failed_alert,)):
                log(describe(alert))
                return 2
            if not isinstance(alert, (lt.state_changed_alert, lt.stats_alert)):
                log(describe(alert))
        status = handle.status()
        now = time.monotonic()
        if ti is None and status.has_metadata:
            ti = handle.torrent_file()
            out("METADATA info_hash=%s" % ti.info_hashes().v1)
        checking = status.state in (
            lt.torrent_status.checking_files,
            lt.torrent_status.checking_resume_data,
        )
        if not checked and not checking and status.has_metadata:
            checked = True
            have = status.num_pieces
            total = ti.num_pieces()
            if args.command == "seed":
                if have != total and not args.partial:
                    log("seed data incomplete: %d of %d pieces" % (have, total))
                    return 3
                out("READY have=%d total=%d bits=%s" % (have, total, pieces_bits(status)))
            else:
                out("CHECKED have=%d total=%d" % (have, total))
        # A magnet's peers are dialled before the metadata is there (it comes from them).
        if (checked or ti is None) and now - last_connect >= RECONNECT_PERIOD:
            last_connect = now
            connected = {(p.ip[0], p.ip[1]) for p in handle.get_peer_info()}
            for peer in args.peer:
                if peer not in connected:
                    handle.connect_peer(peer)
        if now - last_status >= STATUS_PERIOD:
            last_status = now
            out(
                "STATUS have=%d total=%d uploaded=%d downloaded=%d peers=%d announced=%d"
                % (
                    status.num_pieces,
                    ti.num_pieces() if ti else 0,
                    status.total_payload_upload,
                    status.total_payload_download,
                    status.num_peers,
                    announced,
                )
            )
        if args.command == "leech":
            if checked and status.num_pieces == ti.num_pieces():
                out("DONE downloaded=%d" % status.total_payload_download)
                return 0
            if args.timeout and now - start > args.timeout:
                total = ti.num_pieces() if ti else "unknown (no metadata)"
                log("timed out with %d of %s pieces" % (status.num_pieces, total))
                return 4


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="print torrent facts as JSON")
    info.add_argument("torrent")
    for name in ("seed", "leech"):
        p = sub.add_parser(name)
        if name == "seed":
            p.add_argument("--torrent", required=True)
        else:
            source = p.add_mutually_exclusive_group(required=True)
            source.add_argument("--torrent")
            source.add_argument("--magnet", help="a magnet link instead of a .torrent")
        p.add_argument("--data", required=True, help="save path (parent of the torrent's name)")
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--peer", type=parse_peer, action="append", default=[])
        p.add_argument("--upload-limit", type=int, default=0, help="bytes per second, 0 = none")
        p.add_argument("--dht-bootstrap", type=parse_loopback, action="append", default=[])
        p.add_argument("--lsd", action="store_true")
        p.add_argument("--lsd-interval", type=int, default=0, help="seconds, 0 = default")
        p.add_argument("--no-pex", action="store_true")
        p.add_argument("--keep-seed-connections", action="store_true")
        if name == "seed":
            p.add_argument("--partial", action="store_true")
        else:
            p.add_argument("--timeout", type=float, default=0.0)
    args = parser.parse_args()
    if args.command == "info":
        print(json.dumps(torrent_info(args.torrent)))
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
