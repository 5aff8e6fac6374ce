#!/usr/bin/env bash
# Seeding benchmark: the same payload, seeded in turn by each seeder (ferrent --seed,
# libtorrent) from the same directory, downloaded each time by the same libtorrent leecher
# through a local opentracker. Everything is on 127.0.0.1, in a private network namespace
# when `unshare -n` is allowed. Prints a Markdown table of medians: wall time and MiB/s of
# the transfer, the seeder's CPU seconds during it and its peak RSS, and the leecher's CPU.
#
# Usage: bench/seed.sh [--size MIB] [--rounds N] [--piece-log2 N]
#                      [--seeders "ferrent libtorrent"] [--workdir DIR] [--timeout SECONDS]
#
# ferrent is built with `cargo build --release -p ferrent-cli` unless FERRENT_BIN is set.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

SIZE_MIB=1024
ROUNDS=3
PIECE_LOG2=20
SEEDERS="ferrent libtorrent"
WORKDIR=/dev/shm/ferrent-bench-seed
RUN_TIMEOUT=600

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
ARGS=("$@")
while (( $# )); do
    case $1 in
        --size) SIZE_MIB=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --piece-log2) PIECE_LOG2=$2; shift 2 ;;
        --seeders) SEEDERS=$2; shift 2 ;;
        --workdir) WORKDIR=$2; shift 2 ;;
        --timeout) RUN_TIMEOUT=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        *) log "unknown argument: $1"; usage 2 ;;
    esac
done
for seeder in $SEEDERS; do
    case $seeder in ferrent|libtorrent) ;; *) die "unknown seeder: $seeder" ;; esac
done
for tool in mktorrent opentracker openssl sha256sum /usr/bin/time "$LT_PYTHON"; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
if [[ " $SEEDERS " == *" ferrent "* && -z "${FERRENT_BIN:-}" ]]; then
    log "building ferrent (release)"
    (cd "$REPO_DIR" && cargo build --release -p ferrent-cli >&2) || die "cannot build ferrent"
    export FERRENT_BIN="$REPO_DIR/target/release/ferrent"
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
SEED_PID=0
trap 'stop_pid $SEED_PID; stop_pid ${TRACKER_PID:-0}' EXIT

# start_seeder NAME PORT LOG: starts the seeder in the background (SEED_PID) and waits
# until it has verified the data.
start_seeder() {
    local port=$2 logbase=$3
    case $1 in
        ferrent)
            "$FERRENT_BIN" download "$TORRENT" -o "$PAYLOAD_DIR" --seed --json \
                --listen-port "$port" > "$logbase.out" 2> "$logbase.err" &
            SEED_PID=$!
            wait_for_line "$logbase.out" '"event":"checked"' 300 "$SEED_PID" ;;
        libtorrent)
            "$LT_PYTHON" "$PEERS_DIR/lt_peer.py" seed --torrent "$TORRENT" --data "$PAYLOAD_DIR" \
                --port "$port" > "$logbase.out" 2> "$logbase.err" &
            SEED_PID=$!
            wait_for_line "$logbase.out" '^READY' 300 "$SEED_PID" ;;
    esac
}

# peak_rss_kib PID: the process's peak resident set size so far.
peak_rss_kib() {
    awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}

RESULTS="$WORKDIR/results.tsv"
printf 'seeder\tround\twall_s\tuser_s\tsys_s\tmaxrss_kib\tpeer_cpu_s\tok\n' > "$RESULTS"
TICKS=$(getconf CLK_TCK)
for round in $(seq "$ROUNDS"); do
    for seeder in $SEEDERS; do
        out="$WORKDIR/out"
        rm -rf "$out" && mkdir -p "$out"
        seed_port=$(free_port)
        log "round $round/$ROUNDS: $seeder seeding"
        start_seeder "$seeder" "$seed_port" "$WORKDIR/$seeder-$round"
        before=$(cpu_ticks "$SEED_PID")
        ok=1
        /usr/bin/time -f '%e %U %S %M' -o "$WORKDIR/time.txt" \
            timeout -k 5 "$RUN_TIMEOUT" "$LT_PYTHON" "$PEERS_DIR/lt_peer.py" leech \
            --torrent "$TORRENT" --data "$out" --port "$(free_port)" --peer "127.0.0.1:$seed_port" \
            > "$WORKDIR/leecher-$seeder-$round.out" 2> "$WORKDIR/leecher-$seeder-$round.err" || ok=0
        ensure_alive "$SEED_PID" "the $seeder seeder" "$WORKDIR/$seeder-$round.err"
        after=$(cpu_ticks "$SEED_PID")
        peak=$(peak_rss_kib "$SEED_PID")
        stop_pid "$SEED_PID"
        read -r wall user sys _ < <(tail -1 "$WORKDIR/time.txt")
        if [[ $ok == 1 ]] && [[ $(sha256sum "$out/$NAME" | cut -d' ' -f1) == "$SOURCE_SHA" ]]; then
            log "  ok: ${wall}s wall, seeder peak $(( peak / 1024 )) MiB"
        else
            ok=0
            log "  FAILED (exit or checksum): see $WORKDIR/leecher-$seeder-$round.err"
        fi
        # The seeder is the measured client: its CPU and RSS; the leecher is the peer.
        seeder_cpu=$(awk -v t="$(( after - before ))" -v hz="$TICKS" 'BEGIN { printf "%.2f", t / hz }')
        leecher_cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$seeder" "$round" "$wall" "$seeder_cpu" 0 \
            "$peak" "$leecher_cpu" "$ok" >> "$RESULTS"
        rm -rf "$out"
    done
done

echo
echo "Seeding $SIZE_MIB MiB ($(( 1 << PIECE_LOG2 >> 10 )) KiB pieces) to one libtorrent" \
     "$("$LT_PYTHON" -c 'import libtorrent; print(libtorrent.__version__)') leecher on 127.0.0.1," \
     "median of $ROUNDS rounds (seeder CPU during the transfer, seeder peak RSS since its start):"
echo
"$LT_PYTHON" "$BENCH_DIR/lib/report.py" "$RESULTS" "$SIZE_MIB" "leecher CPU s"
