//! Announces to a real tracker: Debian's `opentracker`, started on 127.0.0.1 for each test.
//!
//! Two fake peers announce the same torrent over HTTP and over UDP and must learn each
//! other's address; after one sends `stopped`, the other must no longer be given it.

mod tracker_support;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ferrent_core::InfoHashV1;
use ferrent_session::tracker::{announce, http_client, TrackerEvent};
use ferrent_tracker::{AnnounceEvent, AnnounceRequest, UdpConfig};
use tracker_support::{announced, config, free_port, start, wait_for, WAIT};

/// A running `opentracker` whose whitelist holds the test's info hashes; killed on drop.
struct Opentracker {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Opentracker {
    fn start(whitelist: &[InfoHashV1]) -> Self {
        let binary = "/usr/bin/opentracker";
        assert!(
            std::path::Path::new(binary).exists(),
            "{binary} is missing: install it (apt-get install opentracker) to run these tests"
        );
        for _ in 0..5 {
            let port = free_port();
            let dir =
                std::env::temp_dir().join(format!("ferrent-ot-{}-{port}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("create the tracker's directory");
            let list: String = whitelist.iter().map(|h| format!("{}\n", h.to_hex())).collect();
            std::fs::write(dir.join("whitelist.txt"), list).expect("write the whitelist");
            let port_arg = port.to_string();
            // opentracker chroots to `-d` (so the whitelist path is relative to it) and drops
            // privileges to `nobody` when started as root.
            let child = Command::new(binary)
                .args(["-i", "127.0.0.1", "-p", &port_arg, "-P", &port_arg])
                .arg("-d")
                .arg(&dir)
                .args(["-w", "whitelist.txt"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start opentracker");
            let mut tracker = Opentracker { child, dir, port };
            if tracker.wait_ready(whitelist.first()) {
                return tracker;
            }
        }
        panic!("opentracker did not start on any of 5 ports");
    }

    /// Waits until the tracker answers and has loaded its whitelist (it does so in a thread
    /// of its own, after it starts listening): a `stopped` announce for `probe` must not be
    /// refused. False if the process died first.
    fn wait_ready(&mut self, probe: Option<&InfoHashV1>) -> bool {
        let hash: String =
            probe.map_or([0; 20], |h| h.0).iter().map(|b| format!("%{b:02x}")).collect();
        let request = format!(
            "GET /announce?info_hash={hash}&peer_id=-PROBE-0000000000000&port=1&uploaded=0\
             &downloaded=0&left=0&compact=1&event=stopped HTTP/1.0\r\n\r\n"
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return false;
            }
            if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut answer = String::new();
                let answered = stream.write_all(request.as_bytes()).is_ok()
                    && stream.read_to_string(&mut answer).is_ok();
                if answered && answer.contains("interval") && !answer.contains("failure reason") {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}/announce", self.port)
    }

    fn udp_url(&self) -> String {
        format!("udp://127.0.0.1:{}/announce", self.port)
    }
}

impl Drop for Opentracker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn info_hash(seed: u8) -> InfoHashV1 {
    let mut bytes = [0u8; 20];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = seed.wrapping_mul(31).wrapping_add(i as u8 * 7);
    }
    // Bytes that need percent-encoding in HTTP queries.
    bytes[0] = b'&';
    bytes[1] = 0xff;
    InfoHashV1(bytes)
}

fn peer_id(tag: u8) -> [u8; 20] {
    let mut id = *b"-FE0001-            ";
    for (i, b) in id[8..].iter_mut().enumerate() {
        *b = tag.wrapping_add(i as u8);
    }
    id
}

/// A one-off regular announce as peer (`peer_id`, `port`), returning the peers given.
async fn peers_seen_by(
    url: &str,
    hash: InfoHashV1,
    peer_id: [u8; 20],
    port: u16,
) -> Vec<SocketAddr> {
    let request = AnnounceRequest {
        info_hash: hash,
        peer_id,
        port,
        uploaded: 0,
        downloaded: 0,
        left: 1000,
        event: AnnounceEvent::None,
        numwant: Some(50),
        key: 9,
        tracker_id: None,
    };
    let udp = UdpConfig { retransmit_base: Duration::from_millis(500), ..UdpConfig::default() };
    let client = http_client();
    let work = announce(&client, url, &request, udp);
    tokio::time::timeout(WAIT, work)
        .await
        .expect("announce timed out")
        .unwrap_or_else(|e| panic!("announce to {url} failed: {e}"))
        .peers
}

/// Peer A announces, peer B announces and is given A, A is given B, B stops and A no longer
/// is given B.
async fn two_peers_meet_and_part(url: &str, hash: InfoHashV1) {
    let (a_port, b_port) = (40_001, 40_002);
    let a_addr: SocketAddr = ([127, 0, 0, 1], a_port).into();
    let b_addr: SocketAddr = ([127, 0, 0, 1], b_port).into();

    let (a, mut a_events) = start(config(hash, peer_id(b'a'), a_port, &[&[url]]), 1000);
    let interval = announced(&mut a_events, url).await;
    assert!(interval >= Duration::from_secs(60), "opentracker's interval is long: {interval:?}");

    let (b, mut b_events) = start(config(hash, peer_id(b'b'), b_port, &[&[url]]), 1000);
    wait_for(&mut b_events, "B to be given A", |e| match e {
        TrackerEvent::Peers(peers) if peers.contains(&a_addr) => Some(()),
        _ => None,
    })
    .await;
    announced(&mut b_events, url).await;

    let seen = peers_seen_by(url, hash, peer_id(b'a'), a_port).await;
    assert!(seen.contains(&b_addr), "A should be given B; got {seen:?}");

    let stop_started = Instant::now();
    b.stop(Duration::from_secs(10)).await;
    assert!(stop_started.elapsed() < Duration::from_secs(11));
    let seen = peers_seen_by(url, hash, peer_id(b'a'), a_port).await;
    assert!(!seen.contains(&b_addr), "B sent `stopped` but is still listed: {seen:?}");

    a.stop(Duration::from_secs(10)).await;
}

#[tokio::test]
async fn http_peers_meet_and_stopped_removes_a_peer() {
    let hash = info_hash(1);
    let tracker = Opentracker::start(&[hash]);
    two_peers_meet_and_part(&tracker.http_url(), hash).await;
}

#[tokio::test]
async fn udp_peers_meet_and_stopped_removes_a_peer() {
    let hash = info_hash(2);
    let tracker = Opentracker::start(&[hash]);
    two_peers_meet_and_part(&tracker.udp_url(), hash).await;
}

#[tokio::test]
async fn torrent_not_on_the_whitelist_is_reported() {
    let tracker = Opentracker::start(&[info_hash(3)]);
    let url = tracker.http_url();
    let (handle, mut events) = start(config(info_hash(4), peer_id(b'c'), 40_003, &[&[&url]]), 5);
    let message = wait_for(&mut events, "an Error", |e| match e {
        TrackerEvent::Error { url: u, message } if *u == url => Some(message.clone()),
        _ => None,
    })
    .await;
    assert!(message.contains("not authorized"), "{message}");
    handle.stop(Duration::from_secs(5)).await;
}
