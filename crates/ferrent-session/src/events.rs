//! What a running torrent reports to its owner.

use std::net::SocketAddr;

/// Something that happened to a torrent, in order.
#[derive(Debug, Clone)]
pub enum TorrentEvent {
    /// The data already on disk was checked: `have` of `total` pieces are good.
    Checked {
        /// Verified pieces.
        have: u32,
        /// All pieces.
        total: u32,
    },
    /// Files changed on disk since the resume data was saved; their pieces were rechecked.
    FilesChanged {
        /// Their paths, relative to the download directory.
        files: Vec<String>,
    },
    /// A peer was disconnected for misbehaving.
    PeerDropped {
        /// Its address.
        peer: SocketAddr,
        /// Why.
        reason: String,
    },
    /// A peer sent too much bad data and will not be accepted again.
    PeerBanned {
        /// Its address.
        peer: SocketAddr,
        /// Why.
        reason: String,
    },
    /// A tracker said something worth showing.
    Tracker {
        /// The tracker's URL.
        url: String,
        /// The warning or error text.
        message: String,
    },
    /// Every selected piece is verified on disk.
    Completed,
    /// The torrent stopped on an error (e.g. the disk is full); verified data is kept.
    Failed(String),
}

/// A snapshot of a torrent's numbers.
#[derive(Debug, Clone, Copy, Default)]
pub struct TorrentStats {
    /// Verified pieces.
    pub have: u32,
    /// All pieces.
    pub total: u32,
    /// Wanted pieces still missing.
    pub remaining: u32,
    /// Payload bytes received from peers in this session.
    pub downloaded: u64,
    /// Payload bytes sent to peers in this session.
    pub uploaded: u64,
    /// Bytes received that were not used (duplicates, failed pieces).
    pub wasted: u64,
    /// Connected peers.
    pub peers: usize,
    /// Download rate, bytes per second.
    pub down_rate: u64,
    /// Upload rate, bytes per second.
    pub up_rate: u64,
    /// Bytes of wanted data still missing.
    pub left: u64,
    /// Every selected piece is verified.
    pub complete: bool,
}
