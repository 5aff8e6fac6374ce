//! The JSON shapes of the HTTP API, shared by the server and [`crate::client`].
//!
//! Rates are bytes per second, sizes bytes, times seconds since the Unix epoch, and a
//! torrent's `id` is its v1 info hash in lowercase hex.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a torrent is, as the API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting to be started (during start-up).
    Queued,
    /// A magnet link waiting for its metadata from peers.
    FetchingMetadata,
    /// Hashing data on disk.
    Checking,
    /// Fetching wanted pieces.
    Downloading,
    /// Every wanted piece is verified; serving others.
    Seeding,
    /// Stopped by the user.
    Paused,
    /// Stopped on an error (see `error`); `resume` tries again.
    Error,
}

impl State {
    /// Every state, in display order.
    pub const ALL: [State; 7] = [
        State::Queued,
        State::FetchingMetadata,
        State::Checking,
        State::Downloading,
        State::Seeding,
        State::Paused,
        State::Error,
    ];

    /// The snake_case name used in JSON and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::FetchingMetadata => "fetching_metadata",
            State::Checking => "checking",
            State::Downloading => "downloading",
            State::Seeding => "seeding",
            State::Paused => "paused",
            State::Error => "error",
        }
    }
}

/// One torrent in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TorrentSummary {
    /// The v1 info hash, hex.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Its state.
    pub state: State,
    /// Verified fraction of the whole torrent, 0.0 to 1.0.
    pub progress: f64,
    /// Total size (0 until the metadata is known).
    pub size: u64,
    /// Wanted bytes still missing.
    pub left: u64,
    /// Verified pieces.
    pub pieces_have: u32,
    /// All pieces.
    pub pieces_total: u32,
    /// Payload bytes received since the daemon started.
    pub downloaded: u64,
    /// Payload bytes sent since the daemon started.
    pub uploaded: u64,
    /// Download rate.
    pub down_rate: u64,
    /// Upload rate.
    pub up_rate: u64,
    /// Connected peers.
    pub peer_count: usize,
    /// Its download directory.
    pub download_dir: String,
    /// When it was added.
    pub added_at: u64,
    /// Its upload cap (0 = none).
    pub upload_limit: u64,
    /// Its download cap (0 = none).
    pub download_limit: u64,
    /// Why it stopped, in state `error`; the last metadata failure while fetching.
    pub error: Option<String>,
}

/// One file of a torrent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileView {
    /// Index for priorities (as in the metainfo, pad files included).
    pub index: usize,
    /// Path relative to the download directory.
    pub path: String,
    /// Size.
    pub size: u64,
    /// Bytes of it in verified pieces.
    pub done: u64,
    /// 0 = skip, 1 = normal, higher = more important.
    pub priority: u8,
    /// A link (path and query) that streams this file without the API token, for media
    /// players and `<video>` elements, which cannot send one. It opens this file only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_url: Option<String>,
}

/// One connected peer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerView {
    /// `ip:port`.
    pub addr: String,
    /// Client name from its peer id, when recognised.
    pub client: Option<String>,
    /// Rate from it.
    pub down_rate: u64,
    /// Rate to it.
    pub up_rate: u64,
    /// Payload received from it.
    pub downloaded: u64,
    /// Payload sent to it.
    pub uploaded: u64,
    /// Fraction of the torrent it has.
    pub progress: f64,
    /// `D`/`d` downloading / interested but choked, `U`/`u` uploading / it is interested
    /// but choked, `S` snubbed, `I` incoming.
    pub flags: String,
}

/// What a tracker last said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackerView {
    /// Announce URL.
    pub url: String,
    /// The last announce worked.
    pub working: bool,
    /// The last error or warning.
    pub message: Option<String>,
    /// When it last answered.
    pub last_announce: Option<u64>,
    /// The interval it asked for, seconds.
    pub interval: Option<u64>,
    /// Seeders it reported.
    pub seeders: Option<u32>,
    /// Leechers it reported.
    pub leechers: Option<u32>,
}

/// Everything about one torrent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TorrentDetails {
    /// The list entry.
    #[serde(flatten)]
    pub summary: TorrentSummary,
    /// A magnet link for it.
    pub magnet: String,
    /// Its files (empty until the metadata is known).
    pub files: Vec<FileView>,
    /// Connected peers.
    pub peers: Vec<PeerView>,
    /// Its trackers.
    pub trackers: Vec<TrackerView>,
    /// Verified pieces as a BEP 3 bitfield (first piece = high bit), base64.
    pub pieces: String,
    /// Recent notable events (files found changed, recovered state, ...).
    pub notices: Vec<String>,
}

/// `POST /torrents` with a JSON body: exactly one of `torrent`, `magnet` and `url`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AddRequest {
    /// A .torrent file, base64.
    pub torrent: Option<String>,
    /// A magnet link.
    pub magnet: Option<String>,
    /// An http(s) URL of a .torrent file, fetched by the daemon.
    pub url: Option<String>,
    /// Download directory, relative to the download root or absolute inside it.
    pub download_dir: Option<String>,
    /// Add without starting.
    pub paused: bool,
    /// Per-file priorities (0 = skip), one per file.
    pub file_priorities: Option<Vec<u8>>,
    /// Peers to dial, `ip:port`.
    pub peers: Vec<String>,
    /// Upload cap (0 = none).
    pub upload_limit: u64,
    /// Download cap (0 = none).
    pub download_limit: u64,
}

/// `PUT /torrents/{id}/files`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrioritiesRequest {
    /// One priority per file (0 = skip).
    pub priorities: Vec<u8>,
}

/// Rate caps in bytes per second (0 = unlimited). In a request, a missing field keeps
/// the current value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Upload cap.
    pub upload: Option<u64>,
    /// Download cap.
    pub download: Option<u64>,
}

/// `GET /session`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    /// The daemon's version.
    pub version: String,
    /// Seconds since start.
    pub uptime_secs: u64,
    /// The peer port.
    pub listen_port: u16,
    /// Torrents in all.
    pub torrents: usize,
    /// Torrents per state.
    pub states: BTreeMap<State, usize>,
    /// Sum of download rates.
    pub down_rate: u64,
    /// Sum of upload rates.
    pub up_rate: u64,
    /// Payload received since start (removed torrents included).
    pub downloaded: u64,
    /// Payload sent since start (removed torrents included).
    pub uploaded: u64,
    /// Connected peers.
    pub peers: usize,
    /// Session-wide caps.
    pub limits: Limits,
    /// The download root.
    pub download_dir: String,
    /// Problems found in the state directory at start-up.
    pub problems: Vec<String>,
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorInfo,
}

/// An error's machine-readable code and human-readable message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// Stable code, e.g. `not_found`, `duplicate`, `invalid_torrent`.
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// An update on the event stream (`GET /events`, server-sent events whose `event:` is
/// the `type` field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DaemonEvent {
    /// A torrent was added.
    Added {
        /// The torrent.
        torrent: TorrentSummary,
    },
    /// A torrent was removed.
    Removed {
        /// Its id.
        id: String,
        /// Its data was deleted too.
        deleted_data: bool,
    },
    /// A torrent changed state.
    State {
        /// Its id.
        id: String,
        /// The new state.
        state: State,
    },
    /// A magnet link's metadata arrived.
    Metadata {
        /// Its id.
        id: String,
        /// The torrent's name.
        name: String,
    },
    /// Data on disk was checked.
    Checked {
        /// Its id.
        id: String,
        /// Verified pieces.
        have: u32,
        /// All pieces.
        total: u32,
    },
    /// Files changed on disk since the last run; their pieces were hashed again.
    FilesChanged {
        /// Its id.
        id: String,
        /// The files.
        files: Vec<String>,
    },
    /// Every wanted piece is verified.
    Completed {
        /// Its id.
        id: String,
    },
    /// A torrent stopped on an error.
    Error {
        /// Its id.
        id: String,
        /// Why.
        message: String,
    },
    /// A tracker said something worth showing.
    Tracker {
        /// Its id.
        id: String,
        /// The tracker.
        url: String,
        /// What it said.
        message: String,
    },
    /// Session totals, every two seconds while someone listens.
    Stats {
        /// Sum of download rates.
        down_rate: u64,
        /// Sum of upload rates.
        up_rate: u64,
        /// Connected peers.
        peers: usize,
        /// Torrents.
        torrents: usize,
    },
    /// This listener fell behind and missed events; fetch the list again.
    Lagged {
        /// Events missed.
        missed: u64,
    },
}

impl DaemonEvent {
    /// The `type` name, used as the SSE `event:` field.
    pub fn kind(&self) -> &'static str {
        match self {
            DaemonEvent::Added { .. } => "added",
            DaemonEvent::Removed { .. } => "removed",
            DaemonEvent::State { .. } => "state",
            DaemonEvent::Metadata { .. } => "metadata",
            DaemonEvent::Checked { .. } => "checked",
            DaemonEvent::FilesChanged { .. } => "files_changed",
            DaemonEvent::Completed { .. } => "completed",
            DaemonEvent::Error { .. } => "error",
            DaemonEvent::Tracker { .. } => "tracker",
            DaemonEvent::Stats { .. } => "stats",
            DaemonEvent::Lagged { .. } => "lagged",
        }
    }
}
