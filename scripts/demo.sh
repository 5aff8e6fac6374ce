#!/usr/bin/env bash
# Builds ferrent, then shows the main job offline: one ferrent process seeds a freshly made
# torrent on 127.0.0.1 and a second one downloads it, verifies it, and exits.
# Usage: bash scripts/demo.sh [SIZE_MIB]   (default 256)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-256}
cargo build --release -p ferrent-cli
bin=$PWD/target/release/ferrent
work=$(mktemp -d)
seeder=
cleanup() { [ -n "$seeder" ] && kill "$seeder" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/seed/demo"
echo "making a ${size_mib} MiB payload in $work/seed/demo"
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$work/seed/demo/data.bin"
echo "hello from ferrent" > "$work/seed/demo/README.txt"
"$bin" create "$work/seed/demo" -o "$work/demo.torrent"

port=$((20000 + RANDOM % 20000))
"$bin" download "$work/demo.torrent" -o "$work/seed" --seed --no-trackers \
  --bind 127.0.0.1 --listen-port "$port" --quiet &
seeder=$!
sleep 1
echo "downloading from the seeder at 127.0.0.1:$port"
time "$bin" download "$work/demo.torrent" -o "$work/leech" --peer "127.0.0.1:$port" \
  --no-trackers --bind 127.0.0.1
diff -r "$work/seed/demo" "$work/leech/demo" && echo "OK: the download is identical to the source"
