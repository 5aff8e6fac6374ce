#!/usr/bin/env python3
"""Turns a benchmark results TSV into a Markdown table of medians.

Usage: report.py RESULTS.tsv SIZE_MIB PEER_LABEL
       report.py --pairs RESULTS.tsv SIZE_MIB

RESULTS.tsv has a header line and one row per run, as bench/download.sh and
bench/seed.sh write it: the measured client's role and name first (e.g.
`leecher`), then round, wall_s, user_s, sys_s, maxrss_kib (the measured
client's CPU time and peak RSS), peer_cpu_s (CPU of the fixed client on the
other end, shown under PEER_LABEL) and ok. Failed runs (ok=0) are counted but
left out of the medians. Ratios are against ferrent when it is in the table,
else against the first client listed.

With --pairs, RESULTS.tsv is what bench/pair.sh writes: pair, round, wall_s,
seeder_cpu_s, leecher_cpu_s, seeder_rss_kib, leecher_rss_kib, ok; one row per
transfer between two instances of the same client.
"""

import csv
import statistics
import sys


def median(rows, key):
    values = [float(r[key]) for r in rows]
    return statistics.median(values) if values else float("nan")


def ratio(value, base):
    if base == 0 or base != base or value != value:
        return "n/a"
    return "%.2fx" % (value / base)


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if not rows:
        sys.exit("no results in " + path)
    return rows


def rate(size_mib, wall):
    return size_mib / wall if wall == wall and wall > 0 else float("nan")


def pairs_table(path, size_mib):
    """One row per pair: medians of both ends' CPU and peak RSS, ratios to ferrent's."""
    rows = load(path)
    pairs = list(dict.fromkeys(r["pair"] for r in rows))
    stats = {}
    for pair in pairs:
        runs = [r for r in rows if r["pair"] == pair]
        good = [r for r in runs if r["ok"] == "1"]
        for r in good:
            r["total_cpu_s"] = float(r["seeder_cpu_s"]) + float(r["leecher_cpu_s"])
            r["seeder_rss_mib"] = float(r["seeder_rss_kib"]) / 1024
            r["leecher_rss_mib"] = float(r["leecher_rss_kib"]) / 1024
        wall = median(good, "wall_s")
        stats[pair] = {
            "runs": "%d/%d" % (len(good), len(runs)),
            "wall": wall,
            "rate": rate(size_mib, wall),
            "seeder": median(good, "seeder_cpu_s"),
            "leecher": median(good, "leecher_cpu_s"),
            "total": median(good, "total_cpu_s"),
            "seeder_rss": median(good, "seeder_rss_mib"),
            "leecher_rss": median(good, "leecher_rss_mib"),
        }
    base_name = "ferrent" if "ferrent" in stats else pairs[0]
    base = stats[base_name]
    print(
        "| pair (seeder → leecher) | ok runs | wall s | MiB/s | seeder CPU s | leecher CPU s "
        "| total CPU s | seeder peak RSS MiB | leecher peak RSS MiB | wall vs %s "
        "| total CPU vs %s |" % (base_name, base_name)
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for pair in pairs:
        s = stats[pair]
        print(
            "| %s → %s | %s | %.2f | %.1f | %.2f | %.2f | %.2f | %.1f | %.1f | %s | %s |"
            % (
                pair,
                pair,
                s["runs"],
                s["wall"],
                s["rate"],
                s["seeder"],
                s["leecher"],
                s["total"],
                s["seeder_rss"],
                s["leecher_rss"],
                ratio(s["wall"], base["wall"]),
                ratio(s["total"], base["total"]),
            )
        )


def main():
    if sys.argv[1] == "--pairs":
        pairs_table(sys.argv[2], float(sys.argv[3]))
        return
    path, size_mib, peer_label = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    rows = load(path)
    role = list(rows[0].keys())[0]
    clients = list(dict.fromkeys(r[role] for r in rows))
    stats = {}
    for client in clients:
        runs = [r for r in rows if r[role] == client]
        good = [r for r in runs if r["ok"] == "1"]
        for r in good:
            r["cpu_s"] = float(r["user_s"]) + float(r["sys_s"])
            r["rss_mib"] = float(r["maxrss_kib"]) / 1024
        wall = median(good, "wall_s")
        stats[client] = {
            "runs": "%d/%d" % (len(good), len(runs)),
            "wall": wall,
            "rate": rate(size_mib, wall),
            "cpu": median(good, "cpu_s"),
            "rss": median(good, "rss_mib"),
            "peer": median(good, "peer_cpu_s"),
        }
    base_name = "ferrent" if "ferrent" in stats else clients[0]
    base = stats[base_name]
    print(
        "| %s | ok runs | wall s | MiB/s | CPU s | peak RSS MiB | %s "
        "| wall vs %s | CPU vs %s | RSS vs %s |" % (role, peer_label, base_name, base_name, base_name)
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for client in clients:
        s = stats[client]
        print(
            "| %s | %s | %.2f | %.1f | %.2f | %.1f | %.2f | %s | %s | %s |"
            % (
                client,
                s["runs"],
                s["wall"],
                s["rate"],
                s["cpu"],
                s["rss"],
                s["peer"],
                ratio(s["wall"], base["wall"]),
                ratio(s["cpu"], base["cpu"]),
                ratio(s["rss"], base["rss"]),
            )
        )


if __name__ == "__main__":
    main()
