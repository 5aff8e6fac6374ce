//! A small DHT of libtorrent nodes on 127.0.0.1 (`tests/peers/lt_dht.py`).
//!
//! The nodes bootstrap only from each other. The helper logs every `announce_peer` one of
//! its nodes receives (`incoming announce HASH from IP:PORT` on stderr), which is how tests
//! see who announced what.

use std::net::SocketAddr;
use std::process::{ChildStdin, Command};
use std::time::Duration;

use super::payload::run_ok;
use super::process::{Proc, Stream};
use super::{local, peers_dir, PYTHON};

/// How long the nodes may take to start.
const STARTUP: Duration = Duration::from_secs(20);

/// One `announce_peer` a node received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announce {
    /// The info hash, lowercase hex.
    pub info_hash: String,
    /// The announced address (the sender's IP with the announced port).
    pub addr: SocketAddr,
}

/// A running `lt_dht.py`; killed on drop.
pub struct LtDht {
    /// The nodes' UDP addresses (bootstrap these).
    pub nodes: Vec<SocketAddr>,
    /// The helper process.
    pub proc: Proc,
    /// Held open: the helper quits at end-of-file on its stdin.
    _stdin: ChildStdin,
}

impl LtDht {
    /// Starts `sessions` interlinked nodes and waits until they listen.
    pub fn start(sessions: usize) -> LtDht {
        let mut cmd = Command::new(PYTHON);
        cmd.arg(peers_dir().join("lt_dht.py")).arg("--sessions").arg(sessions.to_string());
        let (mut proc, stdin) = Proc::spawn_with_stdin("lt-dht", cmd);
        let nodes = proc.wait_for_line(STARTUP, "READY", |l| {
            let ports = l.strip_prefix("READY ")?;
            ports.split_whitespace().map(|p| p.parse().ok().map(local)).collect::<Option<Vec<_>>>()
        });
        assert_eq!(nodes.len(), sessions, "lt_dht.py reported {nodes:?}");
        LtDht { nodes, proc, _stdin: stdin }
    }

    /// Stores `127.0.0.1:port` as a peer for `info_hash` on every node, with plain KRPC
    /// `get_peers` + `announce_peer` (`tests/peers/dht_announce.py`): how a peer that runs no
    /// DHT node itself (say, a private torrent's seeder) still ends up in the DHT.
    pub fn announce(&self, info_hash: &str, port: u16) {
        let mut cmd = Command::new(PYTHON);
        cmd.arg(peers_dir().join("dht_announce.py"))
            .arg("--info-hash")
            .arg(info_hash)
            .arg("--port")
            .arg(port.to_string());
        for node in &self.nodes {
            cmd.arg("--node").arg(node.to_string());
        }
        run_ok("dht_announce.py", &mut cmd);
    }

    /// Every `announce_peer` the nodes received so far.
    pub fn announces(&self) -> Vec<Announce> {
        self.proc.lines(Stream::Stderr).iter().filter_map(|l| parse_announce(&l.text)).collect()
    }

    /// Waits until some node received an announce of `addr` for `info_hash`.
    pub fn wait_announce(&mut self, timeout: Duration, info_hash: &str, addr: SocketAddr) {
        let what = format!("an announce of {addr} for {info_hash}");
        self.proc.wait_for_line_in(Stream::Stderr, timeout, &what, |l| {
            parse_announce(l).filter(|a| a.info_hash == info_hash && a.addr == addr)
        });
    }
}

/// Parses `[lt_dht T] session I: incoming announce HASH from IP:PORT`.
fn parse_announce(line: &str) -> Option<Announce> {
    let (_, rest) = line.split_once("incoming announce ")?;
    let (info_hash, addr) = rest.split_once(" from ")?;
    Some(Announce { info_hash: info_hash.to_owned(), addr: addr.trim().parse().ok()? })
}
