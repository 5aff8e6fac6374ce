#!/usr/bin/env bash
# Pair benchmark: each client seeding to a second instance of itself (ferrent → ferrent,
# rqbit → rqbit, libtorrent → libtorrent), the same payload, rounds interleaved. The
# torrent lists no tracker and trackers are off where a client has the switch: the
# leecher is given the seeder's address (ferrent --peer, rqbit --initial-peers,
# lt_peer.py --peer). Everything is on 127.0.0.1, in a private network namespace when
# `unshare -n` is allowed. The seeder is started and hash-checks its data untimed; the
# wall time runs from the leecher's start to its exit (it exits once it has every
# piece). Prints a Markdown table of medians: wall time and MiB/s, both processes' CPU
# seconds during the transfer, their peak RSS, and ratios to ferrent's pair.
#
# Usage: bench/pair.sh [--size MIB] [--rounds N] [--piece-log2 N] [--workdir DIR]
#                      [--clients "ferrent rqbit libtorrent"] [--timeout SECONDS]
#
# ferrent is built with `cargo build --release -p ferrent-cli` unless FERRENT_BIN is set;
# rqbit is taken from bench/.tools/bin, $PATH, or installed there with `cargo install`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/clients.sh"

SIZE_MIB=1024
ROUNDS=3
PIECE_LOG2=20
CLIENTS=$LEECHER_CLIENTS
WORKDIR=/dev/shm/ferrent-bench-pair
RUN_TIMEOUT=600
USE_TRACKERS=0

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
ARGS=("$@")
while (( $# )); do
    case $1 in
        --size) SIZE_MIB=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --piece-log2) PIECE_LOG2=$2; shift 2 ;;
        --clients) CLIENTS=$2; shift 2 ;;
        --workdir) WORKDIR=$2; shift 2 ;;
        --timeout) RUN_TIMEOUT=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        *) log "unknown argument: $1"; usage 2 ;;
    esac
done
for tool in mktorrent openssl sha256sum /usr/bin/time "$LT_PYTHON"; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done

# Binaries are prepared before entering the network namespace (cargo may need the network).
if [[ " $CLIENTS " == *" ferrent "* && -z "${FERRENT_BIN:-}" ]]; then
    log "building ferrent (release)"
    (cd "$REPO_DIR" && cargo build --release -p ferrent-cli >&2) || die "cannot build ferrent"
    export FERRENT_BIN="$REPO_DIR/target/release/ferrent"
fi
if [[ " $CLIENTS " == *" rqbit "* && -z "${RQBIT_BIN:-}" ]]; then
    RQBIT_BIN=$(find_rqbit)
    export RQBIT_BIN
fi
# shellcheck disable=SC2086  # the list is split on purpose
need_client_tools seeder $CLIENTS
# shellcheck disable=SC2086
need_client_tools leecher $CLIENTS
isolate_network "$0" "${ARGS[@]}"

mkdir -p "$WORKDIR"
PAYLOAD_DIR="$WORKDIR/source"
NAME=bench.bin
make_payload "$PAYLOAD_DIR/$NAME" "$SIZE_MIB"
log "hashing the payload"
SOURCE_SHA=$(sha256sum "$PAYLOAD_DIR/$NAME" | cut -d' ' -f1)
TORRENT="$WORKDIR/bench.torrent"
make_torrent "$PAYLOAD_DIR/$NAME" "$TORRENT" "$PIECE_LOG2"

SEED_PID=0
trap 'stop_pid $SEED_PID' EXIT
RESULTS="$WORKDIR/results.tsv"
FAILURES="$WORKDIR/failures.txt"
printf 'pair\tround\twall_s\tseeder_cpu_s\tleecher_cpu_s\tseeder_rss_kib\tleecher_rss_kib\tok\n' \
    > "$RESULTS"
: > "$FAILURES"

# fail CLIENT ROUND WHY: logs a failed run and remembers why for the summary.
fail() {
    log "  FAILED: $3"
    printf -- '- %s → %s, round %s: %s\n' "$1" "$1" "$2" "$3" >> "$FAILURES"
}

for round in $(seq "$ROUNDS"); do
    for client in $CLIENTS; do
        out="$WORKDIR/out"
        state="$WORKDIR/$client-$round"
        rm -rf "$out" && mkdir -p "$out"
        seed_port=$(free_port)
        log "round $round/$ROUNDS: $client → $client"
        if ! start_seeder "$client" "$TORRENT" "$PAYLOAD_DIR" "$seed_port" "$state.seeder"; then
            fail "$client" "$round" "the seeder did not come up (see $state.seeder.*)"
            stop_pid "$SEED_PID"
            printf '%s\t%s\tnan\tnan\tnan\tnan\tnan\t0\n' "$client" "$round" >> "$RESULTS"
            continue
        fi
        leecher_command "$client" "$TORRENT" "$out" "$(free_port)" "$seed_port"
        before=$(cpu_ticks "$SEED_PID")
        ok=1
        why=""
        /usr/bin/time -f '%e %U %S %M' -o "$WORKDIR/time.txt" \
            timeout -k 5 "$RUN_TIMEOUT" "${CMD[@]}" \
            > "$state.leecher.out" 2> "$state.leecher.err" || { ok=0; why="the leecher failed or timed out"; }
        if kill -0 "$SEED_PID" 2>/dev/null; then
            after=$(cpu_ticks "$SEED_PID")
            seeder_rss=$(peak_rss_kib "$SEED_PID")
        else
            after=$before seeder_rss=nan ok=0 why="the seeder exited during the transfer"
        fi
        stop_pid "$SEED_PID"
        read -r wall user sys leecher_rss < <(tail -1 "$WORKDIR/time.txt")
        file=$(find "$out" -type f -name "$NAME" | head -1)
        if [[ $ok == 1 ]] && ! file_matches "$file" "$SOURCE_SHA"; then
            ok=0 why="the download does not match the payload"
        fi
        if [[ $ok == 1 ]]; then
            log "  ok: ${wall}s wall"
        else
            fail "$client" "$round" "$why (see $state.*)"
        fi
        leecher_cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$client" "$round" "$wall" \
            "$(cpu_seconds $(( after - before )))" "$leecher_cpu" "$seeder_rss" "$leecher_rss" \
            "$ok" >> "$RESULTS"
        rm -rf "$out"
    done
done

echo
echo "Each client seeding $SIZE_MIB MiB ($(( 1 << PIECE_LOG2 >> 10 )) KiB pieces) to another" \
     "instance of itself on 127.0.0.1, no tracker, median of $ROUNDS rounds (libtorrent" \
     "$(lt_version) via python3-libtorrent; seeder CPU during the transfer, leecher CPU over" \
     "its whole run; peak RSS is VmHWM, which counts mmapped payload pages):"
echo
"$LT_PYTHON" "$BENCH_DIR/lib/report.py" --pairs "$RESULTS" "$SIZE_MIB"
if [[ -s "$FAILURES" ]]; then
    echo
    echo "Failed runs:"
    cat "$FAILURES"
fi
