# How the loopback benchmarks drive each BitTorrent client (sourced after common.sh).
#
# Seeders: ferrent, libtorrent (tests/peers/lt_peer.py), rqbit, aria2 (aria2c) and
# qbittorrent (qbittorrent-nox, driven through its WebUI API). Leechers: ferrent, rqbit,
# libtorrent. Every client listens on 127.0.0.1 with DHT, LSD, PEX (where it can be
# switched off) and UPnP/NAT-PMP off. With USE_TRACKERS=0 the clients that would
# otherwise announce to the torrent's trackers are told not to (ferrent --no-trackers,
# rqbit --disable-trackers); peers are then found only through the address they are given.

USE_TRACKERS=${USE_TRACKERS:-1}
SEEDER_CLIENTS="ferrent libtorrent rqbit aria2 qbittorrent"
LEECHER_CLIENTS="ferrent rqbit libtorrent"
READY_TIMEOUT=${READY_TIMEOUT:-300}   # seconds a seeder may take to verify its data

# need_client_tools ROLE NAME...: dies unless every client's program is there. rqbit and
# ferrent are located (and built) by the caller: RQBIT_BIN and FERRENT_BIN.
need_client_tools() {
    local role=$1 name
    shift
    for name in "$@"; do
        case $role:$name in
            seeder:ferrent|leecher:ferrent) [[ -x "${FERRENT_BIN:-}" ]] || die "FERRENT_BIN is not set" ;;
            seeder:rqbit|leecher:rqbit) [[ -x "${RQBIT_BIN:-}" ]] || die "RQBIT_BIN is not set" ;;
            seeder:libtorrent|leecher:libtorrent) "$LT_PYTHON" -c 'import libtorrent' 2>/dev/null \
                || die "python3-libtorrent is missing (apt-get install python3-libtorrent)" ;;
            seeder:aria2) command -v aria2c >/dev/null || die "aria2c is missing (apt-get install aria2)" ;;
            seeder:qbittorrent)
                command -v qbittorrent-nox >/dev/null \
                    || die "qbittorrent-nox is missing (apt-get install qbittorrent-nox)"
                command -v curl >/dev/null || die "curl is missing" ;;
            *) die "unknown $role: $name" ;;
        esac
    done
}

# await_line FILE PATTERN SECONDS PID: like wait_for_line, but logs and returns 1 instead
# of exiting.
await_line() {
    local deadline=$(( SECONDS + $3 ))
    until grep -q "$2" "$1" 2>/dev/null; do
        if ! kill -0 "$4" 2>/dev/null; then
            log "process $4 exited before printing '$2' (see $1)"
            return 1
        fi
        if (( SECONDS >= deadline )); then
            log "timed out after $3 s waiting for '$2' in $1"
            return 1
        fi
        sleep 0.2
    done
}

# rqbit_globals PORT: sets RQBIT_GLOBALS, rqbit's options that precede its subcommand.
rqbit_globals() {
    RQBIT_GLOBALS=(--disable-dht --disable-dht-persistence --disable-lsd
                   --disable-upnp-port-forward --ipv4-only --listen-ip 127.0.0.1
                   --listen-port "$1" --announce-port "$1")
    (( USE_TRACKERS )) || RQBIT_GLOBALS+=(--disable-trackers)
}

# ferrent_flags: sets FERRENT_FLAGS, the loopback-only options for both roles.
ferrent_flags() {
    FERRENT_FLAGS=(--no-dht --no-lsd --bind 127.0.0.1)
    (( USE_TRACKERS )) || FERRENT_FLAGS+=(--no-trackers)
}

# start_seeder NAME TORRENT DATA PORT STATE: starts NAME seeding TORRENT from DATA (the
# directory holding the torrent's content) on 127.0.0.1:PORT, in the background, and
# waits until it has verified the data and serves it. Sets SEED_PID. STATE is a path
# prefix for its logs (STATE.out, STATE.err) and, for daemons, its state (STATE.d/).
# Returns 1 (after logging why) if the seeder did not come up; the caller stops SEED_PID.
start_seeder() {
    local name=$1 torrent=$2 data=$3 port=$4 state=$5
    SEED_PID=0
    rm -rf "$state.d" "$state.out" "$state.err"
    case $name in
        ferrent)
            ferrent_flags
            "$FERRENT_BIN" download "$torrent" -o "$data" --seed --json --listen-port "$port" \
                "${FERRENT_FLAGS[@]}" > "$state.out" 2> "$state.err" &
            SEED_PID=$!
            await_line "$state.out" '"event":"checked"' "$READY_TIMEOUT" "$SEED_PID" || return 1
            # Without --partial ferrent would start downloading: the data must be complete.
            grep -q '"event":"completed"' "$state.out" || await_line "$state.out" \
                '"event":"completed"' 5 "$SEED_PID" || { log "ferrent: data incomplete"; return 1; } ;;
        libtorrent)
            "$LT_PYTHON" "$PEERS_DIR/lt_peer.py" seed --torrent "$torrent" --data "$data" \
                --port "$port" > "$state.out" 2> "$state.err" &
            SEED_PID=$!
            await_line "$state.out" '^READY' "$READY_TIMEOUT" "$SEED_PID" ;;
        rqbit)
            rqbit_globals "$port"
            # `download` without -e keeps running; --overwrite reuses (and checks) the data.
            "$RQBIT_BIN" "${RQBIT_GLOBALS[@]}" download -o "$data" --overwrite \
                --disable-http-api "$torrent" > "$state.out" 2>&1 &
            SEED_PID=$!
            # rqbit logs to stdout.
            await_line "$state.out" 'Initial check results' "$READY_TIMEOUT" "$SEED_PID" || return 1
            grep -q 'Initial check results.*needed 0,' "$state.out" \
                || { log "rqbit: data incomplete: $(grep -o 'Initial check results.*' "$state.out")"; return 1; } ;;
        aria2)
            # --seed-ratio=0.0 and no --seed-time: seed until stopped. aria2 starts its BT
            # listener only once the integrity check is over.
            aria2c --dir="$data" --check-integrity=true --bt-seed-unverified=false \
                --seed-ratio=0.0 --enable-dht=false --enable-dht6=false --bt-enable-lpd=false \
                --enable-peer-exchange=false --disable-ipv6=true --interface=127.0.0.1 \
                --listen-port="$port" --file-allocation=none --bt-save-metadata=false \
                --follow-torrent=false --summary-interval=0 --show-console-readout=false \
                --console-log-level=notice "$torrent" > "$state.out" 2> "$state.err" &
            SEED_PID=$!
            await_line "$state.out" 'BitTorrent: listening on TCP port' "$READY_TIMEOUT" "$SEED_PID" \
                || return 1
            grep -q 'Verification finished successfully' "$state.out" \
                || { log "aria2: the data did not verify (see $state.out)"; return 1; } ;;
        qbittorrent)
            start_qbittorrent "$torrent" "$data" "$port" "$state" ;;
        *)
            log "unknown seeder: $name"; return 1 ;;
    esac
}

# start_qbittorrent TORRENT DATA PORT STATE: qbittorrent-nox with a fresh profile in
# STATE.d, the torrent added through the WebUI API, waited for until it seeds.
start_qbittorrent() {
    local torrent=$1 data=$2 port=$3 state=$4 webui ih deadline status
    webui=$(free_port)
    ih=$(info_hash "$torrent")
    mkdir -p "$state.d/qBittorrent/config"
    # The legal notice is pre-accepted (otherwise qbittorrent-nox prompts or exits), the
    # session is bound to lo, discovery is off and localhost needs no WebUI login.
    cat > "$state.d/qBittorrent/config/qBittorrent.conf" <<EOF
[LegalNotice]
Accepted=true

[BitTorrent]
Session\\DHTEnabled=false
Session\\LSDEnabled=false
Session\\PeXEnabled=false
Session\\Interface=lo
Session\\InterfaceName=lo
Session\\InterfaceAddress=127.0.0.1
Session\\Port=$port
Session\\BTProtocol=TCP
Session\\QueueingSystemEnabled=false
Session\\DefaultSavePath=$data
Session\\TempPathEnabled=false
Session\\MultiConnectionsPerIp=true
Session\\GlobalMaxRatio=-1
Session\\AnonymousModeEnabled=false

[Network]
PortForwardingEnabled=false

[Preferences]
Connection\\UPnP=false
Connection\\ResolvePeerCountries=false
Connection\\ResolvePeerHostNames=false
General\\Locale=en
WebUI\\Address=127.0.0.1
WebUI\\Port=$webui
WebUI\\LocalHostAuth=false
WebUI\\CSRFProtection=false
WebUI\\HostHeaderValidation=false
EOF
    qbittorrent-nox --profile="$state.d" < /dev/null > "$state.out" 2> "$state.err" &
    SEED_PID=$!
    local api="http://127.0.0.1:$webui/api/v2"
    deadline=$(( SECONDS + 30 ))
    until curl -sf --max-time 2 "$api/app/version" >/dev/null; do
        kill -0 "$SEED_PID" 2>/dev/null || { log "qbittorrent-nox exited (see $state.out)"; return 1; }
        (( SECONDS < deadline )) || { log "qbittorrent WebUI not up after 30 s"; return 1; }
        sleep 0.2
    done
    # No skip_checking: qBittorrent hash-checks the existing data like the other seeders.
    curl -sS --fail --max-time 10 -F "torrents=@$torrent" -F "savepath=$data" -F paused=false \
        "$api/torrents/add" > "$state.add" 2>&1 && grep -q '^Ok' "$state.add" \
        || { log "qbittorrent: adding the torrent failed: $(cat "$state.add")"; return 1; }
    deadline=$(( SECONDS + READY_TIMEOUT ))
    while :; do
        status=$(curl -sf --max-time 5 "$api/torrents/info?hashes=$ih" | "$LT_PYTHON" -c '
import json, sys
t = json.load(sys.stdin)
print("%s %d" % (t[0]["state"], t[0]["progress"] >= 1) if t else "absent 0")' 2>/dev/null) || status="unknown 0"
        case $status in
            "uploading 1"|"stalledUP 1"|"forcedUP 1"|"queuedUP 1") return 0 ;;
            error*|missingFiles*|pausedDL*|downloading*|stalledDL*)
                log "qbittorrent: torrent state '$status' (data missing or incomplete?)"; return 1 ;;
        esac
        kill -0 "$SEED_PID" 2>/dev/null || { log "qbittorrent-nox exited (see $state.out)"; return 1; }
        (( SECONDS < deadline )) || { log "qbittorrent: still '$status' after $READY_TIMEOUT s"; return 1; }
        sleep 0.2
    done
}

# leecher_command NAME TORRENT OUT PORT SEED_PORT: sets CMD to the argv of a leecher that
# downloads TORRENT into OUT, listening on PORT, dialling 127.0.0.1:SEED_PORT, and exits
# 0 once the download is complete and verified.
leecher_command() {
    local name=$1 torrent=$2 out=$3 port=$4 seed_port=$5
    case $name in
        ferrent)
            ferrent_flags
            CMD=("$FERRENT_BIN" download "$torrent" -o "$out" --listen-port "$port"
                 --peer "127.0.0.1:$seed_port" "${FERRENT_FLAGS[@]}" --quiet) ;;
        rqbit)
            rqbit_globals "$port"
            CMD=("$RQBIT_BIN" "${RQBIT_GLOBALS[@]}" download -e --disable-http-api -o "$out"
                 --initial-peers "127.0.0.1:$seed_port" "$torrent") ;;
        libtorrent)
            CMD=("$LT_PYTHON" "$PEERS_DIR/lt_peer.py" leech --torrent "$torrent" --data "$out"
                 --port "$port" --peer "127.0.0.1:$seed_port") ;;
        *)
            die "unknown leecher: $name" ;;
    esac
}

# peak_rss_kib PID: the process's peak resident set size so far (VmHWM; counts the file
# pages it maps, e.g. libtorrent 2.0's mmapped payload on tmpfs).
peak_rss_kib() {
    awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}

# cpu_seconds TICKS: clock ticks as seconds with two decimals.
cpu_seconds() {
    awk -v t="$1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

# file_matches FILE SHA256: true if FILE exists and has this SHA-256.
file_matches() {
    [[ -f "$1" ]] && [[ $(sha256sum "$1" | cut -d' ' -f1) == "$2" ]]
}

# lt_version: the python3-libtorrent version.
lt_version() {
    "$LT_PYTHON" -c 'import libtorrent; print(libtorrent.__version__)'
}
