# Shared helpers for ferrent's loopback benchmarks (sourced by bench/*.sh).
#
# Everything runs on 127.0.0.1. When possible the benchmark re-executes itself in a
# private network namespace (`unshare -n`, loopback only), so no client can reach
# anything else even by accident.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
PEERS_DIR="$REPO_DIR/tests/peers"
LT_PYTHON=/usr/bin/python3          # Debian's python, with the libtorrent module
TOOLS_DIR="$BENCH_DIR/.tools"       # `cargo install --root` target for rqbit

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Re-runs the calling script inside `unshare -n` with lo up, unless already there or
# BENCH_NO_NETNS=1. Usage: isolate_network "$0" "$@"
isolate_network() {
    if [[ "${BENCH_IN_NETNS:-}" == 1 || "${BENCH_NO_NETNS:-}" == 1 ]]; then
        return 0
    fi
    if unshare -n true 2>/dev/null; then
        log "re-running inside a private network namespace (loopback only)"
        exec unshare -n -- env BENCH_IN_NETNS=1 bash -c 'ip link set lo up && exec "$@"' bash "$@"
    fi
    log "warning: cannot unshare the network namespace; running on the host's loopback"
}

# Prints a TCP+UDP port that is free on 127.0.0.1 right now.
free_port() {
    "$LT_PYTHON" - <<'EOF'
import socket
for _ in range(64):
    t = socket.socket(); t.bind(("127.0.0.1", 0)); port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port)); print(port); break
    except OSError:
        pass
    finally:
        u.close(); t.close()
EOF
}

# make_payload FILE MIB: deterministic pseudo-random content (AES-128-CTR keystream of a
# fixed key), reused when the file already has the right size.
make_payload() {
    local file=$1 mib=$2 bytes=$(( $2 * 1024 * 1024 ))
    if [[ -f "$file" && $(stat -c %s "$file") -eq $bytes ]]; then
        log "reusing payload $file ($mib MiB)"
        return 0
    fi
    log "writing payload $file ($mib MiB)"
    mkdir -p "$(dirname "$file")"
    # openssl dies of SIGPIPE when head has enough: only the size check counts.
    (openssl enc -aes-128-ctr -nosalt -K 66657272656e742d62656e63682d3031 \
        -iv 00000000000000000000000000000000 -in /dev/zero 2>/dev/null \
        | head -c "$bytes" > "$file") || true
    [[ $(stat -c %s "$file") -eq $bytes ]] || die "payload $file has the wrong size"
}

# make_torrent PAYLOAD TORRENT PIECE_LOG2 [ANNOUNCE_URL]: private torrent via mktorrent;
# without ANNOUNCE_URL it lists no tracker.
make_torrent() {
    rm -f "$2"
    mktorrent -p -d -l "$3" ${4:+-a "$4"} -o "$2" "$1" >/dev/null || die "mktorrent failed"
}

# info_hash TORRENT: prints the v1 info hash (hex).
info_hash() {
    "$LT_PYTHON" "$PEERS_DIR/lt_peer.py" info "$1" \
        | "$LT_PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["info_hash"])'
}

# start_tracker DIR PORT INFO_HASH: opentracker (whitelist-only on Debian) in the
# background; sets TRACKER_PID.
start_tracker() {
    local dir=$1 port=$2
    mkdir -p "$dir" && chmod 755 "$dir"
    echo "$3" > "$dir/whitelist" && chmod 644 "$dir/whitelist"
    (cd "$dir" && exec opentracker -i 127.0.0.1 -p "$port" -P "$port" -d "$dir" -w whitelist) \
        > "$dir/opentracker.log" 2>&1 &
    TRACKER_PID=$!
    wait_for "opentracker on port $port" 10 \
        "$LT_PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)"
}

# wait_for WHAT SECONDS CMD...: retries CMD every 0.2 s until it succeeds.
wait_for() {
    local what=$1 deadline=$(( SECONDS + $2 ))
    shift 2
    until "$@" >/dev/null 2>&1; do
        (( SECONDS < deadline )) || die "timed out waiting for $what"
        sleep 0.2
    done
}

# wait_for_line FILE PATTERN SECONDS PID: waits until FILE has a line matching PATTERN
# while process PID is alive.
wait_for_line() {
    local deadline=$(( SECONDS + $3 ))
    until grep -q "$2" "$1" 2>/dev/null; do
        kill -0 "$4" 2>/dev/null || die "process $4 exited before printing '$2' (see $1)"
        (( SECONDS < deadline )) || die "timed out waiting for '$2' in $1"
        sleep 0.2
    done
}

# ensure_alive PID WHAT LOG: dies with PID's exit status if it is no longer running.
ensure_alive() {
    kill -0 "$1" 2>/dev/null && return 0
    local rc=0
    wait "$1" || rc=$?
    die "$2 exited (status $rc); see $3"
}

# cpu_ticks PID: user+system clock ticks used so far by PID (all its threads).
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# find_rqbit: prints the rqbit binary, installing it under bench/.tools if needed.
find_rqbit() {
    if [[ -x "$TOOLS_DIR/bin/rqbit" ]]; then
        echo "$TOOLS_DIR/bin/rqbit"
    elif command -v rqbit >/dev/null; then
        command -v rqbit
    else
        log "installing rqbit into $TOOLS_DIR (takes a few minutes)"
        cargo install rqbit --locked --root "$TOOLS_DIR" >&2 || die "cannot install rqbit"
        echo "$TOOLS_DIR/bin/rqbit"
    fi
}

# stop_pid PID: SIGTERM, then SIGKILL after 5 s.
stop_pid() {
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 25); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null
}
