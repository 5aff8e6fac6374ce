//! Detailed views of a torrent, for APIs and user interfaces.

use crate::events::TorrentStats;
use std::net::SocketAddr;
use std::time::SystemTime;

/// Where a torrent is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TorrentState {
    /// Fetching wanted pieces.
    Downloading,
    /// Every wanted piece is verified; serving others.
    Seeding,
    /// Stopped by the user; no connections.
    Paused,
    /// Hashing the data on disk.
    Checking,
    /// Stopped on an error (the message is in [`TorrentDetails::error`]).
    Error,
}

/// One file of a torrent.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileStatus {
    /// Path relative to the download directory.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Bytes of it in verified pieces.
    pub done: u64,
    /// 0 = skip, 1 = normal, higher = more important.
    pub priority: u8,
}

/// One connected peer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PeerStatus {
    /// Its address.
    pub addr: SocketAddr,
    /// Client name from its peer id, if recognised.
    pub client: Option<String>,
    /// Download rate from it, bytes per second.
    pub down_rate: u64,
    /// Upload rate to it, bytes per second.
    pub up_rate: u64,
    /// Payload bytes received from it.
    pub downloaded: u64,
    /// Payload bytes sent to it.
    pub uploaded: u64,
    /// Fraction of the torrent it has, 0.0 to 1.0.
    pub progress: f64,
    /// Short state flags as qBittorrent shows them: `D` downloading from it, `d` we want to
    /// but it chokes us, `U` uploading to it, `u` it wants to but we choke it, `S` snubbed,
    /// `I` it connected to us.
    pub flags: String,
}

/// What a tracker last said.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrackerStatus {
    /// The announce URL.
    pub url: String,
    /// The last announce worked.
    pub working: bool,
    /// The last error or warning.
    pub message: Option<String>,
    /// When the last announce answered.
    pub last_announce: Option<SystemTime>,
    /// The interval it asked for, seconds.
    pub interval: Option<u64>,
    /// Seeders it reported.
    pub seeders: Option<u32>,
    /// Leechers it reported.
    pub leechers: Option<u32>,
}

/// Everything about one torrent.
#[derive(Debug, Clone)]
pub struct TorrentDetails {
    /// Its numbers.
    pub stats: TorrentStats,
    /// Its state.
    pub state: TorrentState,
    /// Why it stopped, when `state` is `Error`.
    pub error: Option<String>,
    /// Its files.
    pub files: Vec<FileStatus>,
    /// Connected peers.
    pub peers: Vec<PeerStatus>,
    /// Trackers and what they said.
    pub trackers: Vec<TrackerStatus>,
    /// Verified pieces as a BEP 3 bitfield.
    pub pieces: Vec<u8>,
}
