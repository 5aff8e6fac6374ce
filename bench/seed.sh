#!/usr/bin/env bash
# Seeding benchmark: the same payload, seeded in turn by each seeder (ferrent --seed,
# libtorrent, rqbit, aria2c, qbittorrent-nox) from the same directory, rounds interleaved,
# downloaded each time by the same libtorrent leecher, which dials the seeder directly (a
# local opentracker serves the torrent's announce URL too). Everything is on 127.0.0.1, in
# a private network namespace when `unshare -n` is allowed. Prints a Markdown table of
# medians: wall time and MiB/s of the transfer, the seeder's CPU seconds during it and its
# peak RSS, and the leecher's CPU. Seeders are started and hash-check their data untimed.
#
# Usage: bench/seed.sh [--size MIB] [--rounds N] [--piece-log2 N] [--workdir DIR]
#                      [--seeders "ferrent libtorrent rqbit aria2 qbittorrent"]
#                      [--timeout SECONDS]
#
# ferrent is built with `cargo build --release -p ferrent-cli` unless FERRENT_BIN is set;
# rqbit is taken from bench/.tools/bin, $PATH, or installed there with `cargo install`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/clients.sh"

SIZE_MIB=1024
ROUNDS=3
PIECE_LOG2=20
SEEDERS=$SEEDER_CLIENTS
WORKDIR=/dev/shm/ferrent-bench-seed
RUN_TIMEOUT=600

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
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
for tool in mktorrent opentracker openssl sha256sum /usr/bin/time "$LT_PYTHON"; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done

# Binaries are prepared before entering the network namespace (cargo may need the network).
if [[ " $SEEDERS " == *" ferrent "* && -z "${FERRENT_BIN:-}" ]]; then
    log "building ferrent (release)"
    (cd "$REPO_DIR" && cargo build --release -p ferrent-cli >&2) || die "cannot build ferrent"
    export FERRENT_BIN="$REPO_DIR/target/release/ferrent"
fi
if [[ " $SEEDERS " == *" rqbit "* && -z "${RQBIT_BIN:-}" ]]; then
    RQBIT_BIN=$(find_rqbit)
    export RQBIT_BIN
fi
# shellcheck disable=SC2086  # the list is split on purpose
need_client_tools seeder $SEEDERS
need_client_tools leecher libtorrent
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

RESULTS="$WORKDIR/results.tsv"
FAILURES="$WORKDIR/failures.txt"
printf 'seeder\tround\twall_s\tuser_s\tsys_s\tmaxrss_kib\tpeer_cpu_s\tok\n' > "$RESULTS"
: > "$FAILURES"

# fail SEEDER ROUND WHY: logs a failed run and remembers why for the summary.
fail() {
    log "  FAILED: $3"
    printf -- '- %s, round %s: %s\n' "$1" "$2" "$3" >> "$FAILURES"
}

for round in $(seq "$ROUNDS"); do
    for seeder in $SEEDERS; do
        out="$WORKDIR/out"
        state="$WORKDIR/$seeder-$round"
        rm -rf "$out" && mkdir -p "$out"
        seed_port=$(free_port)
        log "round $round/$ROUNDS: $seeder seeding"
        if ! start_seeder "$seeder" "$TORRENT" "$PAYLOAD_DIR" "$seed_port" "$state"; then
            fail "$seeder" "$round" "the seeder did not come up (see $state.out, $state.err)"
            stop_pid "$SEED_PID"
            rm -rf "$out" "$state.d"
            printf '%s\t%s\tnan\tnan\t0\tnan\tnan\t0\n' "$seeder" "$round" >> "$RESULTS"
            continue
        fi
        before=$(cpu_ticks "$SEED_PID")
        ok=1
        why=""
        /usr/bin/time -f '%e %U %S %M' -o "$WORKDIR/time.txt" \
            timeout -k 5 "$RUN_TIMEOUT" "$LT_PYTHON" "$PEERS_DIR/lt_peer.py" leech \
            --torrent "$TORRENT" --data "$out" --port "$(free_port)" --peer "127.0.0.1:$seed_port" \
            > "$state.leecher.out" 2> "$state.leecher.err" || { ok=0; why="the leecher failed or timed out"; }
        if kill -0 "$SEED_PID" 2>/dev/null; then
            after=$(cpu_ticks "$SEED_PID")
            peak=$(peak_rss_kib "$SEED_PID")
        else
            after=$before peak=nan ok=0 why="the seeder exited during the transfer"
        fi
        stop_pid "$SEED_PID"
        read -r wall user sys _ < <(tail -1 "$WORKDIR/time.txt")
        if [[ $ok == 1 ]] && ! file_matches "$out/$NAME" "$SOURCE_SHA"; then
            ok=0 why="the download does not match the payload"
        fi
        if [[ $ok == 1 ]]; then
            log "  ok: ${wall}s wall, seeder peak $(( peak / 1024 )) MiB"
        else
            fail "$seeder" "$round" "$why (see $state.*)"
        fi
        # The seeder is the measured client: its CPU and RSS; the leecher is the peer.
        leecher_cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$seeder" "$round" "$wall" \
            "$(cpu_seconds $(( after - before )))" 0 "$peak" "$leecher_cpu" "$ok" >> "$RESULTS"
        rm -rf "$out" "$state.d"
    done
done

echo
echo "Seeding $SIZE_MIB MiB ($(( 1 << PIECE_LOG2 >> 10 )) KiB pieces) to one libtorrent" \
     "$(lt_version) leecher on 127.0.0.1, median of $ROUNDS rounds (seeder CPU during the" \
     "transfer, seeder peak RSS since its start):"
echo
"$LT_PYTHON" "$BENCH_DIR/lib/report.py" "$RESULTS" "$SIZE_MIB" "leecher CPU s"
echo
echo "Peak RSS is VmHWM: it counts the payload pages a seeder maps (libtorrent 2.0 and" \
     "qBittorrent mmap the files, which sit on $(df --output=fstype "$WORKDIR" | tail -1))."
if [[ -s "$FAILURES" ]]; then
    echo
    echo "Failed runs:"
    cat "$FAILURES"
fi
