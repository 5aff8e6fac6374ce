#!/usr/bin/env bash
# Benchmarks torrent creation: `ferrent create` against `mktorrent` and libtorrent.
#
# Usage: bench/create.sh            (from anywhere inside the repository)
#   BENCH_SIZE_MIB=1024             payload size in MiB (default 1 GiB)
#   BENCH_ROUNDS=3                  rounds; tools run interleaved within each round
#   BENCH_DIR=/dev/shm/ferrent-bench  where the payload and outputs go (RAM-backed)
#   FERRENT_BIN=path                use this ferrent binary instead of building one
#
# The payload is pseudo-random (AES-CTR keystream) on /dev/shm and read once before timing,
# so every tool hashes from memory and the numbers measure hashing, not the disk. All tools
# use the same piece length (512 KiB, what ferrent picks for 1 GiB) and create v1 torrents;
# the script checks that ferrent and mktorrent agree on the info hash. ferrent's hybrid
# (v1 + v2) mode is timed too, for reference. Prints a Markdown table of the median wall
# time and CPU time (user + sys) per tool.
#
# Then, if crates/ferrent-core/examples/parse_bench.rs exists, runs it (metainfo parsing
# of a 50,000-file torrent).
#
# Needs: cargo, openssl, mktorrent, /usr/bin/time, and Debian's python3-libtorrent.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
size_mib=${BENCH_SIZE_MIB:-1024}
rounds=${BENCH_ROUNDS:-3}
dir=${BENCH_DIR:-/dev/shm/ferrent-bench}
piece_log2=19
piece_length=$((1 << piece_log2))
threads=$(nproc)
python=/usr/bin/python3

for tool in cargo openssl mktorrent /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "create.sh: $tool is required" >&2; exit 1; }
done
"$python" -c 'import libtorrent' 2>/dev/null \
    || { echo "create.sh: python3-libtorrent is required (apt-get install python3-libtorrent)" >&2; exit 1; }

if [[ -n ${FERRENT_BIN:-} ]]; then
    ferrent=$FERRENT_BIN
else
    echo "building ferrent (release)..." >&2
    (cd "$repo" && cargo build --release -q -p ferrent-cli)
    ferrent=$repo/target/release/ferrent
fi

mkdir -p "$dir"
payload=$dir/payload.bin
if [[ ! -f $payload || $(stat -c %s "$payload") -ne $((size_mib << 20)) ]]; then
    echo "writing a ${size_mib} MiB payload to $payload..." >&2
    head -c $((size_mib << 20)) /dev/zero \
        | openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass pass:ferrent-bench >"$payload"
fi
cat "$payload" >/dev/null # warm the page cache (a no-op on tmpfs, kept for other dirs)

cat >"$dir/lt_create.py" <<'PY'
import sys
import libtorrent as lt
path, piece_length, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fs = lt.file_storage()
lt.add_files(fs, path)
ct = lt.create_torrent(fs, piece_length, flags=lt.create_torrent.v1_only)
ct.add_tracker("http://127.0.0.1:6969/announce")
lt.set_piece_hashes(ct, sys.argv[4])
open(out, "wb").write(lt.bencode(ct.generate()))
PY

run_tool() { # name -> command line
    case $1 in
        ferrent) echo "$ferrent create $payload -o $dir/ferrent.torrent --force --no-date --piece-length $piece_length -t http://127.0.0.1:6969/announce" ;;
        ferrent-hybrid) echo "$ferrent create $payload -o $dir/ferrent-hybrid.torrent --force --no-date --piece-length $piece_length --hybrid -t http://127.0.0.1:6969/announce" ;;
        mktorrent) echo "mktorrent -t $threads -l $piece_log2 -d -a http://127.0.0.1:6969/announce -o $dir/mktorrent.torrent $payload" ;;
        libtorrent) echo "$python $dir/lt_create.py $payload $piece_length $dir/libtorrent.torrent $dir" ;;
    esac
}

tools=(ferrent mktorrent libtorrent ferrent-hybrid)
results=$dir/results.tsv
: >"$results"
for round in $(seq 1 "$rounds"); do
    for tool in "${tools[@]}"; do
        [[ $tool == mktorrent ]] && rm -f "$dir/mktorrent.torrent" # it refuses to overwrite
        read -r -a cmd <<<"$(run_tool "$tool")"
        /usr/bin/time -f "%e %U %S" -o "$dir/time.txt" "${cmd[@]}" >/dev/null 2>"$dir/stderr.txt" \
            || { echo "create.sh: $tool failed:" >&2; cat "$dir/stderr.txt" >&2; exit 1; }
        read -r wall user sys <"$dir/time.txt"
        printf '%s\t%s\t%s\t%s\t%s\n' "$tool" "$round" "$wall" "$user" "$sys" >>"$results"
        echo "round $round: $tool ${wall}s wall, ${user}s user, ${sys}s sys" >&2
    done
done

"$python" - "$dir" <<'PY'
import sys
import libtorrent as lt
d = sys.argv[1]
hashes = {t: str(lt.torrent_info(f"{d}/{t}.torrent").info_hashes().v1) for t in ("ferrent", "mktorrent", "libtorrent")}
if hashes["ferrent"] != hashes["mktorrent"]:
    sys.exit(f"create.sh: ferrent and mktorrent disagree on the info hash: {hashes}")
# libtorrent's v1 torrent names the file the same way but may add keys; compare pieces.
pieces = {t: lt.bdecode(open(f"{d}/{t}.torrent", "rb").read())[b"info"][b"pieces"] for t in ("ferrent", "libtorrent")}
if pieces["ferrent"] != pieces["libtorrent"]:
    sys.exit("create.sh: ferrent and libtorrent disagree on the piece hashes")
print(f"info hash check: ferrent == mktorrent ({hashes['ferrent']}), piece hashes == libtorrent", file=sys.stderr)
PY

echo
echo "### Torrent creation: ${size_mib} MiB file on /dev/shm, piece length $((piece_length >> 10)) KiB, $threads CPUs, median of $rounds"
echo
"$python" - "$results" "$threads" <<'PY'
import statistics, sys
rows = [line.split("\t") for line in open(sys.argv[1]).read().splitlines()]
threads = sys.argv[2]
labels = {
    "ferrent": "ferrent create (v1)",
    "mktorrent": f"mktorrent -t {threads}",
    "libtorrent": "libtorrent 2.0 create_torrent + set_piece_hashes",
    "ferrent-hybrid": "ferrent create --hybrid (v1 + v2)",
}
stats = {}
for tool in labels:
    mine = [r for r in rows if r[0] == tool]
    wall = statistics.median(float(r[2]) for r in mine)
    cpu = statistics.median(float(r[3]) + float(r[4]) for r in mine)
    stats[tool] = (wall, cpu)
base_wall, base_cpu = stats["ferrent"]
print("| tool | wall (s) | CPU user+sys (s) | wall vs ferrent | CPU vs ferrent |")
print("|---|---:|---:|---:|---:|")
for tool, label in labels.items():
    wall, cpu = stats[tool]
    print(f"| {label} | {wall:.2f} | {cpu:.2f} | {wall / base_wall:.2f}x | {cpu / base_cpu:.2f}x |")
PY

if [[ -f $repo/crates/ferrent-core/examples/parse_bench.rs ]]; then
    echo
    echo "### Metainfo parsing (crates/ferrent-core/examples/parse_bench.rs)"
    echo
    (cd "$repo" && cargo run --release -q -p ferrent-core --example parse_bench)
fi
