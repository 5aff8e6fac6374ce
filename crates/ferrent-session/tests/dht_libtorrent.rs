//! Interop with libtorrent's DHT: four libtorrent 2.0 sessions on 127.0.0.1 (driven by
//! `tests/peers/lt_dht.py`) form a small DHT that our node joins. A libtorrent seeder's
//! announce must be found by our `get_peers`; our announce must be found by libtorrent's
//! `dht_get_peers`; libtorrent must keep our node in its routing table. Every wait is
//! bounded, and no node outside 127.0.0.1 is ever contacted.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use ferrent_core::InfoHashV1;
use ferrent_session::dht::{DhtConfig, DhtHandle};
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};

/// Longest wait for any one check.
const WAIT: Duration = Duration::from_secs(60);
const PYTHON: &str = "/usr/bin/python3";
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/peers/lt_dht.py");

/// The libtorrent sessions' process; killed on drop.
struct LtDht {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::UnboundedReceiver<String>,
    ports: Vec<u16>,
}

impl LtDht {
    async fn start(sessions: usize) -> Self {
        assert!(
            std::path::Path::new(PYTHON).exists(),
            "{PYTHON} is missing: install python3-libtorrent to run these tests"
        );
        let mut child = Command::new(PYTHON)
            .arg(SCRIPT)
            .args(["--sessions", &sessions.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start lt_dht.py");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let (sender, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        // The test harness captures this thread's output too: shown only on failure.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
            }
        });
        let mut lt = LtDht { child, stdin, lines, ports: Vec::new() };
        let ready = lt.expect("READY", WAIT).await;
        lt.ports = ready.split_whitespace().skip(1).map(|p| p.parse().unwrap()).collect();
        assert_eq!(lt.ports.len(), sessions, "{ready}");
        lt
    }

    fn send(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").expect("write to lt_dht.py");
        self.stdin.flush().expect("flush lt_dht.py's stdin");
    }

    /// The next line starting with `prefix`, within `limit`; panics otherwise.
    async fn expect(&mut self, prefix: &str, limit: Duration) -> String {
        match self.next_line(prefix, limit).await {
            Some(line) => line,
            None => panic!("lt_dht.py printed no {prefix} line within {limit:?}"),
        }
    }

    /// The next line starting with `prefix` within `limit`, skipping others.
    async fn next_line(&mut self, prefix: &str, limit: Duration) -> Option<String> {
        let deadline = Instant::now() + limit;
        loop {
            let line =
                timeout(deadline.saturating_duration_since(Instant::now()), self.lines.recv())
                    .await
                    .ok()?
                    .expect("lt_dht.py exited");
            if line.starts_with(prefix) {
                return Some(line);
            }
        }
    }
}

impl Drop for LtDht {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs our `get_peers` until it yields `wanted`; panics after [`WAIT`].
async fn our_lookup_finds(dht: &DhtHandle, info_hash: InfoHashV1, wanted: SocketAddr) {
    let deadline = Instant::now() + WAIT;
    loop {
        let mut peers = dht.get_peers(info_hash);
        let mut seen = Vec::new();
        let left = deadline.saturating_duration_since(Instant::now());
        let _ = timeout(left, async {
            while let Some(peer) = peers.recv().await {
                seen.push(peer);
            }
        })
        .await;
        if seen.contains(&wanted) {
            return;
        }
        assert!(Instant::now() < deadline, "our get_peers never found {wanted}; last: {seen:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libtorrent_and_ferrent_find_each_others_peers() {
    let mut lt = LtDht::start(4).await;
    let config = DhtConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        bootstrap: lt.ports.iter().map(|p| format!("127.0.0.1:{p}")).collect(),
        state_file: None,
        read_only: false,
        allow_loopback: true,
        enforce_node_id: true,
    };
    let ours = DhtHandle::start(config).await.unwrap();
    let deadline = Instant::now() + WAIT;
    while ours.stats().await.unwrap().nodes < lt.ports.len() {
        assert!(Instant::now() < deadline, "bootstrap from libtorrent: {:?}", ours.stats().await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // (1) A libtorrent seeder announces its torrent on the DHT; we find it.
    let dir = std::env::temp_dir().join(format!("ferrent-lt-dht-{}", std::process::id()));
    lt.send(&format!("seed {}", dir.display()));
    let seeding = lt.expect("SEEDING", WAIT).await;
    let fields: Vec<&str> = seeding.split_whitespace().collect();
    let torrent = InfoHashV1::parse(fields[1]).unwrap();
    let seeder: SocketAddr = format!("127.0.0.1:{}", fields[2]).parse().unwrap();
    our_lookup_finds(&ours, torrent, seeder).await;

    // (2) We announce; a libtorrent session's lookup finds our port.
    let ours_torrent = InfoHashV1([0xfe; 20]);
    let our_port = 45_678;
    let wanted = format!("127.0.0.1:{our_port}");
    let deadline = Instant::now() + WAIT;
    'found: loop {
        ours.announce(ours_torrent, our_port);
        tokio::time::sleep(Duration::from_millis(500)).await;
        lt.send(&format!("get_peers 2 {}", ours_torrent.to_hex()));
        let prefix = format!("PEERS {}", ours_torrent.to_hex());
        while let Some(line) = lt.next_line(&prefix, Duration::from_secs(3)).await {
            if line.split_whitespace().nth(2).unwrap_or("").split(',').any(|p| p == wanted) {
                break 'found;
            }
        }
        assert!(Instant::now() < deadline, "libtorrent never found our announce");
    }

    // (3) libtorrent keeps our node in its routing table.
    let ours_addr = ours.local_addr().to_string();
    let deadline = Instant::now() + WAIT;
    loop {
        lt.send("nodes 1");
        let nodes = lt.expect("NODES 1", WAIT).await;
        if nodes.split_whitespace().nth(2).unwrap_or("").split(',').any(|n| n == ours_addr) {
            break;
        }
        assert!(Instant::now() < deadline, "libtorrent does not route us: {nodes}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    ours.shutdown().await;
    drop(lt);
    let _ = std::fs::remove_dir_all(&dir);
}
