#!/usr/bin/python3
"""Regenerates the interop fixtures: .torrent files made by libtorrent and mktorrent, and
.expect files holding what libtorrent reads from them.

Run from this directory with Debian's python3 (python3-libtorrent, mktorrent installed):
    /usr/bin/python3 make_fixtures.py
"""
import os
import shutil
import subprocess
import tempfile

import libtorrent as lt

HERE = os.path.dirname(os.path.abspath(__file__))
PIECE = 16384


def content(n, seed):
    """Deterministic bytes, so fixtures are reproducible."""
    return bytes((i * 31 + seed * 7 + (i >> 8)) & 0xFF for i in range(n))


def make_tree(root, spec):
    for i, (rel, size) in enumerate(spec):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content(size, i))


def lt_create(src, out, flags, trackers=(), seeds=(), comment=None):
    fs = lt.file_storage()
    lt.add_files(fs, src)
    ct = lt.create_torrent(fs, PIECE, flags=flags)
    for tier, url in trackers:
        ct.add_tracker(url, tier)
    for url in seeds:
        ct.add_url_seed(url)
    if comment:
        ct.set_comment(comment)
    ct.set_creator("ferrent fixtures")
    lt.set_piece_hashes(ct, os.path.dirname(src))
    with open(out, "wb") as f:
        f.write(lt.bencode(ct.generate()))


def write_expect(torrent):
    ti = lt.torrent_info(torrent)
    ih = ti.info_hashes()
    fs = ti.files()
    lines = [
        "v1 " + (str(ih.v1) if ih.has_v1() else "-"),
        "v2 " + (str(ih.v2) if ih.has_v2() else "-"),
        "name " + ti.name(),
        "piece_length %d" % ti.piece_length(),
        "pieces %d" % ti.num_pieces(),
        "total %d" % ti.total_size(),
    ]
    for t in ti.trackers():
        lines.append("tracker %d %s" % (t.tier, t.url))
    for s in ti.web_seeds():
        lines.append("seed " + s["url"])
    for i in range(fs.num_files()):
        pad = 1 if fs.file_flags(i) & lt.file_storage.flag_pad_file else 0
        path = fs.file_path(i).replace(os.sep, "/")
        lines.append("file %d %d %d %s" % (fs.file_offset(i), fs.file_size(i), pad, path))
    with open(torrent[: -len(".torrent")] + ".expect", "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    multi = [
        ("a.bin", 40000),
        ("empty.txt", 0),
        ("sub/b.bin", 16384),
        ("sub/deeper/c.bin", 70001),
        ("z.txt", 5),
    ]
    work = tempfile.mkdtemp()
    try:
        make_tree(os.path.join(work, "multi"), multi)
        single = os.path.join(work, "single.bin")
        with open(single, "wb") as f:
            f.write(content(50000, 9))
        trackers = [(0, "http://127.0.0.1:6969/announce"), (1, "udp://127.0.0.1:6969")]
        seeds = ["http://127.0.0.1:8080/files/"]
        out = lambda name: os.path.join(HERE, name + ".torrent")
        lt_create(os.path.join(work, "multi"), out("lt_hybrid_multi"), 0, trackers, seeds, "hybrid")
        lt_create(os.path.join(work, "multi"), out("lt_v2_multi"), lt.create_torrent.v2_only, trackers)
        lt_create(os.path.join(work, "multi"), out("lt_v1_multi"), lt.create_torrent.v1_only, trackers)
        lt_create(single, out("lt_hybrid_single"), 0)
        lt_create(single, out("lt_v2_single"), lt.create_torrent.v2_only)
        subprocess.run(
            ["mktorrent", "-l", "15", "-a", "http://127.0.0.1:6969/announce", "-w", seeds[0],
             "-c", "mk", "-o", out("mk_v1_multi"), os.path.join(work, "multi")],
            check=True, stdout=subprocess.DEVNULL)
        subprocess.run(
            ["mktorrent", "-l", "16", "-p", "-o", out("mk_v1_single"), single],
            check=True, stdout=subprocess.DEVNULL)
        for name in sorted(os.listdir(HERE)):
            if name.endswith(".torrent"):
                write_expect(os.path.join(HERE, name))
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
