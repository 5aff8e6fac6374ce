//! Session and per-torrent settings.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Settings shared by every torrent of a session.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// Address the peer listener binds; `None` means dual-stack `[::]` (or `0.0.0.0`).
    pub listen_addr: Option<IpAddr>,
    /// TCP port for incoming peers; 0 picks a free one.
    pub listen_port: u16,
    /// Connections per torrent at the most.
    pub max_peers_per_torrent: usize,
    /// Connections in the whole session at the most.
    pub max_peers_global: usize,
    /// Outgoing connection attempts in flight per torrent.
    pub max_half_open: usize,
    /// Time allowed for a TCP connect plus the handshake.
    pub connect_timeout: Duration,
    /// A connection with no incoming message for this long is closed.
    pub idle_timeout: Duration,
    /// Hash failures a peer may contribute to before it is banned.
    pub ban_after: u32,
    /// Threads that hash and write pieces (0 = one per core).
    pub disk_threads: usize,
    /// Base of the UDP tracker retransmission timeout (BEP 15 says 15 s).
    pub udp_retransmit_base: Duration,
    /// Peers asked of trackers per announce.
    pub numwant: u32,
    /// Local Service Discovery (BEP 14) for public torrents.
    pub lsd: bool,
    /// The DHT (BEP 5) for public torrents; `None` switches it off. A bind port of 0 means
    /// the peer listener's port.
    pub dht: Option<crate::dht::DhtConfig>,
    /// Session-wide upload cap in bytes per second (0 = unlimited).
    pub upload_limit: u64,
    /// Session-wide download cap in bytes per second (0 = unlimited).
    pub download_limit: u64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            listen_addr: None,
            listen_port: 0,
            max_peers_per_torrent: 100,
            max_peers_global: 500,
            max_half_open: 16,
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(150),
            ban_after: 3,
            disk_threads: 0,
            udp_retransmit_base: Duration::from_secs(15),
            numwant: 100,
            lsd: true,
            dht: Some(crate::dht::DhtConfig {
                bind: SocketAddr::from(([0, 0, 0, 0], 0)),
                ..crate::dht::DhtConfig::default()
            }),
            upload_limit: 0,
            download_limit: 0,
        }
    }
}

/// How one torrent should run.
#[derive(Clone, Debug, Default)]
pub struct TorrentOptions {
    /// Directory the torrent's files go in.
    pub download_dir: PathBuf,
    /// Peers to dial besides those the trackers give.
    pub peers: Vec<SocketAddr>,
    /// Only these files; empty means all. File indices everywhere in this crate count the
    /// files a user sees, in metainfo order, leaving out BEP 47 pad files.
    pub only_files: Vec<usize>,
    /// Request pieces in order (for streaming) instead of rarest first.
    pub sequential: bool,
    /// Do not contact the torrent's trackers.
    pub no_trackers: bool,
    /// Do not exchange peers with peers (BEP 11); private torrents never do.
    pub no_pex: bool,
    /// Per-file priorities (0 = skip); wins over `only_files` when set.
    pub file_priorities: Option<Vec<u8>>,
    /// Verified pieces and file stamps from a previous run: skips rehashing unchanged files.
    pub resume: Option<crate::ResumeData>,
    /// Start paused (no connections, no announces).
    pub paused: bool,
    /// This torrent's upload cap in bytes per second (0 = unlimited).
    pub upload_limit: u64,
    /// This torrent's download cap in bytes per second (0 = unlimited).
    pub download_limit: u64,
}
