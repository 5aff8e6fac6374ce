#!/usr/bin/env bash
# Daemon scale benchmark: N small seeding torrents (data present) in one daemon, for
# ferrent, transmission-daemon and rqbit's server in turn. For each: add all N (not timed),
# stop it cleanly, start it again and time how long until all N seed; then its RSS (total,
# and per torrent above the empty daemon's), the bytes it read while restarting (a rehash
# reads the data), and the wall time of its full torrent list (median and max of 10).
# Prints a Markdown table. Everything is on 127.0.0.1, in a private network namespace
# when `unshare -n` is allowed.
#
# With --tracker every torrent announces to an opentracker on 127.0.0.1 (port 6969 inside
# the private namespace), as most real torrents announce somewhere.
#
# Usage: bench/daemon_scale.sh [--torrents N] [--size BYTES] [--clients "ferrent transmission rqbit"]
#                              [--workdir DIR] [--timeout SECONDS] [--tracker]
#
# ferrent is built with `cargo build --release -p ferrent-cli` unless FERRENT_BIN is set;
# rqbit is installed under bench/.tools unless found.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

TORRENTS=10000
SIZE=16384
CLIENTS="ferrent transmission rqbit"
WORKDIR=
TRACKER=
TRACKER_PORT=6969
RUN_TIMEOUT=900
HELPER="$BENCH_DIR/lib/daemon_scale.py"

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
ARGS=("$@")
while (( $# )); do
    case $1 in
        --torrents) TORRENTS=$2; shift 2 ;;
        --size) SIZE=$2; shift 2 ;;
        --clients) CLIENTS=$2; shift 2 ;;
        --workdir) WORKDIR=$2; shift 2 ;;
        --timeout) RUN_TIMEOUT=$2; shift 2 ;;
        --tracker) TRACKER="http://127.0.0.1:$TRACKER_PORT/announce"; shift ;;
        -h|--help) usage 0 ;;
        *) log "unknown argument: $1"; usage 2 ;;
    esac
done
# Torrents with and without a tracker live apart: made ones are reused.
WORKDIR=${WORKDIR:-/dev/shm/ferrent-bench-daemon${TRACKER:+-tracker}}
for client in $CLIENTS; do
    case $client in
        ferrent) ;;
        transmission) command -v transmission-daemon >/dev/null || die "missing tool: transmission-daemon" ;;
        rqbit) ;;
        *) die "unknown client: $client" ;;
    esac
done
"$LT_PYTHON" -c 'import libtorrent' || die "missing python3-libtorrent"
if [[ " $CLIENTS " == *" ferrent "* && -z "${FERRENT_BIN:-}" ]]; then
    log "building ferrent (release)"
    (cd "$REPO_DIR" && cargo build --release -p ferrent-cli >&2) || die "cannot build ferrent"
    export FERRENT_BIN="$REPO_DIR/target/release/ferrent"
fi
if [[ " $CLIENTS " == *" rqbit "* && -z "${RQBIT_BIN:-}" ]]; then
    export RQBIT_BIN="$(find_rqbit)"
fi
isolate_network "$0" "${ARGS[@]}"
# rqbit keeps descriptors per torrent: 10,000 torrents need more than the usual limits.
# Root may raise the hard limit.
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

mkdir -p "$WORKDIR"
log "making $TORRENTS torrents of $SIZE bytes (reused when present)"
"$LT_PYTHON" "$HELPER" make "$TORRENTS" "$WORKDIR" "$SIZE" $TRACKER
TRACKER_PID=0
if [[ -n $TRACKER ]]; then
    command -v opentracker >/dev/null || die "missing tool: opentracker"
    start_tracker "$WORKDIR/tracker" "$TRACKER_PORT" "$(cat "$WORKDIR/whitelist")"
fi
DATA="$WORKDIR/data"
PID=0
trap 'stop_gracefully $PID; kill $TRACKER_PID 2>/dev/null' EXIT

# stop_gracefully PID: SIGTERM, then SIGKILL after 60 s (thousands of torrents may take a
# while to save).
stop_gracefully() {
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 300); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    log "warning: process $pid ignored SIGTERM for 60 s; killing it"
    kill -KILL "$pid" 2>/dev/null
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
read_bytes() { awk '/^rchar:/ { print $2 }' "/proc/$1/io"; }

# start_client NAME DIR API_PORT PEER_PORT LOG: starts the daemon in the background (PID)
# and sets URL.
start_client() {
    local name=$1 dir=$2 api=$3 peer=$4 logfile=$5
    URL="http://127.0.0.1:$api"
    case $name in
        ferrent)
            cat > "$dir/daemon.toml" <<EOF
download_dir = "$DATA"
state_dir = "$dir/state"
[network]
listen_addr = "127.0.0.1"
listen_port = $peer
dht = false
lsd = false
[api]
bind = "127.0.0.1:$api"
EOF
            FERRENT_LOG=warn "$FERRENT_BIN" daemon --config "$dir/daemon.toml" >> "$logfile" 2>&1 &
            PID=$! ;;
        transmission)
            mkdir -p "$dir/config"
            if [[ ! -f "$dir/config/settings.json" ]]; then
                cat > "$dir/config/settings.json" <<EOF
{"download-dir": "$DATA", "incomplete-dir-enabled": false, "peer-port": $peer,
 "bind-address-ipv4": "127.0.0.1", "rpc-bind-address": "127.0.0.1", "rpc-port": $api,
 "rpc-authentication-required": false, "rpc-whitelist-enabled": false,
 "rpc-host-whitelist-enabled": false, "dht-enabled": false, "lpd-enabled": false,
 "pex-enabled": false, "utp-enabled": false, "port-forwarding-enabled": false,
 "start-added-torrents": true, "message-level": 1}
EOF
            fi
            transmission-daemon -f -g "$dir/config" >> "$logfile" 2>&1 &
            PID=$! ;;
        rqbit)
            RQBIT_HTTP_API_LISTEN_ADDR="127.0.0.1:$api" "$RQBIT_BIN" --disable-dht --disable-upnp-port-forward \
                --listen-port "$peer" --listen-ip 127.0.0.1 -v warn \
                server start --fastresume --persistence-location "$dir/state" "$DATA" >> "$logfile" 2>&1 &
            PID=$! ;;
    esac
    wait_for "$name's API" "$RUN_TIMEOUT" "$LT_PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $api), 1)"
}

declare -A RESTART RSS RSS_PER READ LIST_MED LIST_MAX
for client in $CLIENTS; do
    dir="$WORKDIR/run-$client"
    rm -rf "$dir" && mkdir -p "$dir"
    logfile="$dir/daemon.log"
    api=$(free_port)
    peer=$(free_port)

    log "$client: empty daemon"
    start_client "$client" "$dir" "$api" "$peer" "$logfile"
    sleep 2
    empty_rss=$(rss_kib "$PID")
    log "$client: adding $TORRENTS torrents"
    if [[ $client == rqbit ]] && (( $(ulimit -n) < 3 * TORRENTS )); then
        # rqbit keeps descriptors open per torrent after its first check; add in batches
        # that fit, restarting between. (ferrent closes a torrent's files while it sleeps.)
        batch=$(( $(ulimit -n) / 2 - 1000 ))
        log "$client: open-file limit $(ulimit -n): adding in batches of $batch"
        for (( first = 0; first < TORRENTS; first += batch )); do
            count=$(( batch < TORRENTS - first ? batch : TORRENTS - first ))
            "$LT_PYTHON" "$HELPER" add "$client" "$URL" "$WORKDIR" "$first" "$count"
            if (( first + batch < TORRENTS )); then
                stop_gracefully "$PID"; wait "$PID" 2>/dev/null || true
                start_client "$client" "$dir" "$api" "$peer" "$logfile"
            fi
        done
    else
        "$LT_PYTHON" "$HELPER" add "$client" "$URL" "$WORKDIR" 0 "$TORRENTS"
    fi
    "$LT_PYTHON" "$HELPER" wait "$client" "$URL" "$TORRENTS" "$(date +%s.%N)" "$RUN_TIMEOUT" > /dev/null \
        || die "$client did not seed everything after adding (see $logfile)"
    sleep 3   # let periodic state saves settle
    log "$client: restarting"
    stop_gracefully "$PID"
    wait "$PID" 2>/dev/null || true
    t0=$(date +%s.%N)
    start_client "$client" "$dir" "$api" "$peer" "$logfile"
    RESTART[$client]=$("$LT_PYTHON" "$HELPER" wait "$client" "$URL" "$TORRENTS" "$t0" "$RUN_TIMEOUT") \
        || die "$client did not seed everything after the restart (see $logfile)"
    READ[$client]=$(( $(read_bytes "$PID") / 1024 / 1024 ))
    sleep 3
    rss=$(rss_kib "$PID")
    RSS[$client]=$(( rss / 1024 ))
    RSS_PER[$client]=$(awk -v r="$rss" -v e="$empty_rss" -v n="$TORRENTS" 'BEGIN { printf "%.1f", (r - e) / n }')
    read -r LIST_MED[$client] LIST_MAX[$client] < <("$LT_PYTHON" "$HELPER" list "$client" "$URL" 10)
    log "$client: restart ${RESTART[$client]} s, read ${READ[$client]} MiB, RSS ${RSS[$client]} MiB" \
        "(${RSS_PER[$client]} KiB per torrent), list ${LIST_MED[$client]} / ${LIST_MAX[$client]} ms"
    stop_gracefully "$PID"
    wait "$PID" 2>/dev/null || true
    PID=0
done

data_mib=$(( TORRENTS * SIZE / 1024 / 1024 ))
echo
echo "$TORRENTS seeding torrents of $SIZE bytes ($data_mib MiB of data), restarted after a clean stop:"
echo
echo "| client | restart to all seeding (s) | read while restarting (MiB) | RSS (MiB) | RSS per torrent (KiB) | list all, median / max (ms) |"
echo "|---|---:|---:|---:|---:|---:|"
for client in $CLIENTS; do
    echo "| $client | ${RESTART[$client]} | ${READ[$client]} | ${RSS[$client]} | ${RSS_PER[$client]} | ${LIST_MED[$client]} / ${LIST_MAX[$client]} |"
done
