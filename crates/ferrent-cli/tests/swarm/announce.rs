//! HTTP tracker announces on 127.0.0.1, seen from both ends.
//!
//! [`probe`] asks a tracker which peers it lists for a torrent, as a fresh leecher would
//! (it announces a port nothing listens on). [`RecordingTracker`] is a tiny HTTP tracker that
//! answers like a real one (compact peer lists, `stopped` removes the peer) and records every
//! announce, so a test can check a client's events and transfer numbers exactly.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ferrent_bencode::OwnedValue;

use super::local;

/// The announce interval the recording tracker asks for: long, so a test sees only the
/// announces the client's own events cause.
const INTERVAL_SECS: i64 = 1800;

/// How long either end waits on a silent HTTP connection.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// The most request bytes the recording tracker reads before the end of the headers.
const MAX_REQUEST: usize = 16 << 10;

/// The port [`probe`] announces: 9 (discard), where nothing listens on loopback.
const PROBE_PORT: u16 = 9;

/// One announce a [`RecordingTracker`] received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announce {
    /// When it arrived.
    pub at: Instant,
    /// The info hash, lowercase hex.
    pub info_hash: String,
    /// The announced port.
    pub port: u16,
    /// `started`, `completed` or `stopped`; `None` for a regular announce.
    pub event: Option<String>,
    /// Payload bytes uploaded, as the client reports them.
    pub uploaded: u64,
    /// Payload bytes downloaded, as the client reports them.
    pub downloaded: u64,
    /// Bytes the client still misses.
    pub left: u64,
}

/// The peers `tracker_port` (an HTTP tracker on 127.0.0.1 at `/announce`) lists for
/// `info_hash` (hex). Panics if the tracker cannot be asked or refuses.
pub fn probe(tracker_port: u16, info_hash: &str) -> Vec<SocketAddr> {
    let hash = hex::decode(info_hash).expect("a hex info hash");
    let query = format!(
        "info_hash={}&peer_id={}&port={PROBE_PORT}&uploaded=0&downloaded=0&left=1&compact=1\
         &numwant=200",
        escape(&hash),
        escape(b"-FTPROBE-00000000000")
    );
    let body = http_get(tracker_port, &format!("/announce?{query}"));
    let value = ferrent_bencode::decode(&body).unwrap_or_else(|e| {
        panic!("tracker answer is not bencode ({e}): {}", String::from_utf8_lossy(&body))
    });
    if let Some(reason) = value.get(b"failure reason").and_then(|v| v.as_str()) {
        panic!("tracker refused the probe: {reason}");
    }
    let peers = value.get(b"peers").and_then(|v| v.as_bytes()).unwrap_or_else(|| {
        panic!("tracker answer without compact peers: {}", String::from_utf8_lossy(&body))
    });
    decode_compact(peers)
}

/// A minimal HTTP/1.0 GET to 127.0.0.1:`port`; returns the body of a 200 answer.
fn http_get(port: u16, target: &str) -> Vec<u8> {
    let mut stream = TcpStream::connect(local(port))
        .unwrap_or_else(|e| panic!("cannot reach the tracker on port {port}: {e}"));
    stream.set_read_timeout(Some(IO_TIMEOUT)).expect("set a read timeout");
    let request = format!("GET {target} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send the probe announce");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read the tracker's answer");
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or_else(|| {
        panic!("tracker answer without a header end: {}", String::from_utf8_lossy(&answer))
    });
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    assert!(head.split_whitespace().nth(1) == Some("200"), "tracker answered {head:?}");
    answer[split + 4..].to_vec()
}

/// Percent-encodes every byte but RFC 3986 unreserved characters.
fn escape(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Decodes `%XX` escapes (and `+` as a space); `None` for a broken escape.
fn unescape(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'%' => {
                let hex = [bytes.next()?, bytes.next()?];
                out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
            }
            b'+' => out.push(b' '),
            _ => out.push(b),
        }
    }
    Some(out)
}

/// IPv4 compact peers (BEP 23): 6 bytes each.
fn decode_compact(peers: &[u8]) -> Vec<SocketAddr> {
    assert_eq!(peers.len() % 6, 0, "compact peer list of {} bytes", peers.len());
    peers
        .chunks_exact(6)
        .map(|c| {
            let ip = Ipv4Addr::new(c[0], c[1], c[2], c[3]);
            SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be_bytes([c[4], c[5]])))
        })
        .collect()
}

/// What the recording tracker knows.
#[derive(Default)]
struct State {
    /// Every announce, in arrival order.
    log: Vec<Announce>,
    /// Per info hash: the peers announced and not stopped, and whether each is a seed.
    swarms: BTreeMap<String, BTreeMap<SocketAddr, bool>>,
}

/// A tiny HTTP tracker on 127.0.0.1 that records every announce; stopped on drop.
///
/// It answers any info hash: peers are listed with the connection's IP and the announced
/// port, leave on `stopped`, and every answer lists all other peers of the torrent.
pub struct RecordingTracker {
    /// Its TCP port.
    pub port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RecordingTracker {
    /// Starts it on a free port.
    pub fn start() -> RecordingTracker {
        let listener = TcpListener::bind(local(0)).expect("bind the recording tracker");
        listener.set_nonblocking(true).expect("make the tracker's listener non-blocking");
        let port = listener.local_addr().expect("tracker address").port();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::spawn(move || serve(listener, &state, &stop))
        };
        RecordingTracker { port, state, stop, thread: Some(thread) }
    }

    /// Its announce URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/announce", self.port)
    }

    /// Every announce so far, in arrival order.
    pub fn announces(&self) -> Vec<Announce> {
        self.state.lock().expect("tracker state lock").log.clone()
    }

    /// The announces so far that named `port`.
    pub fn announces_from(&self, port: u16) -> Vec<Announce> {
        self.announces().into_iter().filter(|a| a.port == port).collect()
    }
}

impl Drop for RecordingTracker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        if std::thread::panicking() {
            eprintln!("----- recording tracker on port {} -----", self.port);
            for announce in self.announces() {
                eprintln!("{announce:?}");
            }
        }
    }
}

fn serve(listener: TcpListener, state: &Mutex<State>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, from)) => {
                // One request at a time is plenty for a handful of loopback clients.
                let _ = answer(stream, from, state);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

fn answer(mut stream: TcpStream, from: SocketAddr, state: &Mutex<State>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    let mut request = Vec::new();
    let mut buf = [0u8; 2048];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < MAX_REQUEST {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&request);
    let target = text.lines().next().and_then(|l| l.split_whitespace().nth(1)).unwrap_or("");
    let body = match parse_announce(target) {
        Ok(announce) => record(state, from, announce),
        Err(reason) => failure(&reason),
    };
    let head = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(&body)
}

/// Reads an announce from a request target `/announce?...`.
fn parse_announce(target: &str) -> Result<Announce, String> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != "/announce" {
        return Err(format!("unknown path {path}"));
    }
    let mut params = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = unescape(value).ok_or_else(|| format!("bad escape in {key}"))?;
        params.insert(key.to_owned(), value);
    }
    let text = |key: &str| -> Result<String, String> {
        let raw = params.get(key).ok_or_else(|| format!("missing {key}"))?;
        String::from_utf8(raw.clone()).map_err(|_| format!("{key} is not text"))
    };
    let number = |key: &str| -> Result<u64, String> {
        text(key)?.parse().map_err(|_| format!("{key} is not a number"))
    };
    let hash = params.get("info_hash").ok_or("missing info_hash")?;
    if hash.len() != 20 {
        return Err(format!("info_hash of {} bytes", hash.len()));
    }
    let event = params.get("event").map(|e| String::from_utf8_lossy(e).into_owned());
    Ok(Announce {
        at: Instant::now(),
        info_hash: hex::encode(hash),
        port: u16::try_from(number("port")?).map_err(|_| "port out of range")?,
        event: event.filter(|e| !e.is_empty() && e != "empty"),
        uploaded: number("uploaded")?,
        downloaded: number("downloaded")?,
        left: number("left")?,
    })
}

/// Logs `announce`, updates the swarm and returns the bencoded answer.
fn record(state: &Mutex<State>, from: SocketAddr, announce: Announce) -> Vec<u8> {
    let mut state = state.lock().expect("tracker state lock");
    let peer = SocketAddr::new(from.ip(), announce.port);
    let swarm = state.swarms.entry(announce.info_hash.clone()).or_default();
    if announce.event.as_deref() == Some("stopped") {
        swarm.remove(&peer);
    } else {
        swarm.insert(peer, announce.left == 0);
    }
    let mut compact = Vec::new();
    for addr in swarm.keys().filter(|a| **a != peer) {
        if let SocketAddr::V4(v4) = addr {
            compact.extend_from_slice(&v4.ip().octets());
            compact.extend_from_slice(&v4.port().to_be_bytes());
        }
    }
    let seeds = swarm.values().filter(|s| **s).count() as i64;
    let leechers = swarm.len() as i64 - seeds;
    state.log.push(announce);
    OwnedValue::dict([
        ("complete", OwnedValue::from(seeds)),
        ("incomplete", OwnedValue::from(leechers)),
        ("interval", OwnedValue::from(INTERVAL_SECS)),
        ("peers", OwnedValue::bytes(compact)),
    ])
    .encode()
}

fn failure(reason: &str) -> Vec<u8> {
    OwnedValue::dict([("failure reason", OwnedValue::from(reason))]).encode()
}
