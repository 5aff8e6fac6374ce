#!/usr/bin/env bash
# Download benchmark: the same payload, served by the same hash-checked libtorrent seeder
# through a local opentracker, fetched in turn by each leecher (ferrent, rqbit, aria2c,
# libtorrent), rounds interleaved. Everything is on 127.0.0.1, in a private network
# namespace when `unshare -n` is allowed. Prints a Markdown table of medians.
#
# Usage: bench/download.sh [--size MIB] [--rounds N] [--piece-log2 N]
#                          [--leechers "ferrent rqbit aria2 libtorrent"]
#                          [--workdir DIR] [--timeout SECONDS]
#
# ferrent is built with `cargo build --release -p ferrent-cli` unless FERRENT_BIN is set;
# rqbit is taken from bench/.tools/bin, $PATH, or installed there with `cargo install`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

SIZE_MIB=1024
ROUNDS=3
PIECE_LOG2=20
LEECHERS="ferrent rqbit aria2 libtorrent"
WORKDIR=/dev/shm/ferrent-bench
RUN_TIMEOUT=600

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
ARGS=("$@")
while (( $# )); do
    case $1 in
        --size) SIZE_MIB=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --piece-log2) PIECE_LOG2=$2; shift 2 ;;
        --leechers) LEECHERS=$2; shift 2 ;;
        --workdir) WORKDIR=$2; shift 2 ;;
        --timeout) RUN_TIMEOUT=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        *) log "unknown argument: $1"; usage 2 ;;
    esac
done
for leecher in $LEECHERS; do
    case $leecher in ferrent|rqbit|aria2|libtorrent) ;; *) die "unknown leecher: $leecher" ;; esac
done
for tool in mktorrent opentracker openssl sha256sum aria2c /usr/bin/time "$LT_PYTHON"; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done

# Binaries are prepared before entering the network namespace (cargo may need the network).
if [[ " $LEECHERS " == *" ferrent "* && -z "${FERRENT_BIN:-}" ]]; then
    log "building ferrent (release)"
    (cd "$REPO_DIR" && cargo build --release -p ferrent-cli >&2) || die "cannot build ferrent"
    export FERRENT_BIN="$REPO_DIR/target/release/ferrent"
fi
if [[ " $LEECHERS " == *" rqbit "* && -z "${RQBIT_BIN:-}" ]]; then
    RQBIT_BIN=$(find_rqbit)
    export RQBIT_BIN
fi
isolate_network "$0" "${ARGS[@]}"

mkdir -p "$WORKDIR"
PAYLOAD_DIR="$WORKDIR/source"
NAME=bench.bin
make_payload "$PAYLOAD_DIR/$NAME" "$SIZE_MIB"
log "hashing the payload"
SOURCE_SHA=$(sha256sum "$PAYLOAD_DIR/$NAME" | cut -d' ' -f1)

TRACKER_PORT=$(free_port)
TORRENT="$WORKDIR/bench.torrent"
make_torrent "$PAYLOAD_DIR/$NAME" "$TORRENT" "$PIECE_LOG2" "http://127.0.0.1:$TRACKER_PORT/announce"
start_tracker "$WORKDIR/tracker" "$TRACKER_PORT" "$(info_hash "$TORRENT")"

SEED_PORT=$(free_port)
"$LT_PYTHON" "$PEERS_DIR/lt_peer.py" seed --torrent "$TORRENT" --data "$PAYLOAD_DIR" \
    --port "$SEED_PORT" > "$WORKDIR/seeder.out" 2> "$WORKDIR/seeder.err" &
SEED_PID=$!
trap 'stop_pid $SEED_PID; stop_pid ${TRACKER_PID:-0}' EXIT
log "libtorrent seeder on port $SEED_PORT: hash-checking"
wait_for_line "$WORKDIR/seeder.out" '^READY' 300 "$SEED_PID"

# leecher_command NAME OUT PORT: sets CMD to the leecher's argv.
leecher_command() {
    local out=$2 port=$3
    case $1 in
        ferrent)
            CMD=("$FERRENT_BIN" download "$TORRENT" -o "$out" --listen-port "$port"
                 --peer "127.0.0.1:$SEED_PORT") ;;
        rqbit)
            CMD=("$RQBIT_BIN" --disable-dht --disable-dht-persistence --disable-upnp-port-forward
                 --disable-lsd --listen-ip 127.0.0.1 --listen-port "$port" --announce-port "$port"
                 --ipv4-only download -e --disable-http-api -o "$out"
                 --initial-peers "127.0.0.1:$SEED_PORT" "$TORRENT") ;;
        aria2)
            CMD=(aria2c --enable-dht=false --enable-dht6=false --bt-enable-lpd=false
                 --enable-peer-exchange=false --interface=127.0.0.1 --file-allocation=none
                 --seed-time=0 --listen-port="$port" --dir="$out" --summary-interval=0
                 --console-log-level=warn "$TORRENT") ;;
        libtorrent)
            CMD=("$LT_PYTHON" "$PEERS_DIR/lt_peer.py" leech --torrent "$TORRENT" --data "$out"
                 --port "$port" --peer "127.0.0.1:$SEED_PORT") ;;
    esac
}

RESULTS="$WORKDIR/results.tsv"
printf 'leecher\tround\twall_s\tuser_s\tsys_s\tmaxrss_kib\tpeer_cpu_s\tok\n' > "$RESULTS"
TICKS=$(getconf CLK_TCK)
for round in $(seq "$ROUNDS"); do
    for leecher in $LEECHERS; do
        out="$WORKDIR/out-$leecher"
        rm -rf "$out" && mkdir -p "$out"
        leecher_command "$leecher" "$out" "$(free_port)"
        log "round $round/$ROUNDS: $leecher"
        ensure_alive "$SEED_PID" "the libtorrent seeder" "$WORKDIR/seeder.err"
        seed_before=$(cpu_ticks "$SEED_PID")
        ok=1
        /usr/bin/time -f '%e %U %S %M' -o "$WORKDIR/time.txt" \
            timeout -k 5 "$RUN_TIMEOUT" "${CMD[@]}" \
            > "$WORKDIR/$leecher-$round.out" 2> "$WORKDIR/$leecher-$round.err" || ok=0
        ensure_alive "$SEED_PID" "the libtorrent seeder" "$WORKDIR/seeder.err"
        seed_after=$(cpu_ticks "$SEED_PID")
        read -r wall user sys maxrss < <(tail -1 "$WORKDIR/time.txt")
        file=$(find "$out" -type f -name "$NAME" | head -1)
        if [[ $ok == 1 && -n "$file" ]] && [[ $(sha256sum "$file" | cut -d' ' -f1) == "$SOURCE_SHA" ]]; then
            log "  ok: ${wall}s wall, $(( maxrss / 1024 )) MiB peak"
        else
            ok=0
            log "  FAILED (exit or checksum): see $WORKDIR/$leecher-$round.err"
        fi
        seeder_cpu=$(awk -v t="$(( seed_after - seed_before ))" -v hz="$TICKS" 'BEGIN { printf "%.2f", t / hz }')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$leecher" "$round" "$wall" "$user" "$sys" \
            "$maxrss" "$seeder_cpu" "$ok" >> "$RESULTS"
        rm -rf "$out"
    done
done

# The floor: what any leecher must spend on this machine for the payload, measured the same
# way: SHA-1 over it (openssl, hardware accelerated) and writing as many bytes into a new
# tmpfs file (the copy into the page cache). The socket copy comes on top.
/usr/bin/time -f '%U %S' -o "$WORKDIR/floor.txt" \
    sh -c "openssl sha1 '$PAYLOAD_DIR/$NAME' > /dev/null &&
           dd if=/dev/zero of='$WORKDIR/floor.bin' bs=1M count=$SIZE_MIB status=none"
rm -f "$WORKDIR/floor.bin"
FLOOR=$(awk '{ printf "%.2f", $1 + $2 }' "$WORKDIR/floor.txt")

echo
echo "Download of $SIZE_MIB MiB ($(( 1 << PIECE_LOG2 >> 10 )) KiB pieces) from one libtorrent" \
     "$("$LT_PYTHON" -c 'import libtorrent; print(libtorrent.__version__)') seeder on 127.0.0.1," \
     "median of $ROUNDS rounds:"
echo
"$LT_PYTHON" "$BENCH_DIR/lib/report.py" "$RESULTS" "$SIZE_MIB" "seeder CPU s"
echo
echo "Floor on this machine for the same payload (SHA-1 plus writing it into tmpfs, without the" \
     "socket copy): $FLOOR CPU s."
echo "Peak RSS is the leecher's max resident set; it includes file pages a client maps" \
     "(libtorrent 2.0 mmaps the files it writes, which sit on $(df --output=fstype "$WORKDIR" | tail -1))."
