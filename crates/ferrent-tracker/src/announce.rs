//! What an announce sends and what it gets back, whatever the transport.

use std::net::SocketAddr;
use std::time::Duration;

use ferrent_core::InfoHashV1;

/// The interval assumed when an HTTP tracker leaves out `interval`.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30 * 60);

/// The `event` of an announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AnnounceEvent {
    /// A regular announce: no `event` parameter.
    #[default]
    None,
    /// The first announce of this torrent to this tracker.
    Started,
    /// The download has just finished (sent once).
    Completed,
    /// The torrent is going away.
    Stopped,
}

impl AnnounceEvent {
    /// The value of the HTTP `event` parameter, or `None` for a regular announce.
    pub fn http_name(self) -> Option<&'static str> {
        match self {
            Self::None => None,
            Self::Started => Some("started"),
            Self::Completed => Some("completed"),
            Self::Stopped => Some("stopped"),
        }
    }

    /// The event number of a UDP announce (BEP 15).
    pub fn udp_code(self) -> u32 {
        match self {
            Self::None => 0,
            Self::Completed => 1,
            Self::Started => 2,
            Self::Stopped => 3,
        }
    }
}

/// Everything one announce tells a tracker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnounceRequest {
    /// The torrent.
    pub info_hash: InfoHashV1,
    /// Our peer id.
    pub peer_id: [u8; 20],
    /// The port we accept peer connections on.
    pub port: u16,
    /// Bytes uploaded since `started`.
    pub uploaded: u64,
    /// Bytes downloaded since `started`.
    pub downloaded: u64,
    /// Bytes still missing.
    pub left: u64,
    /// The event, if any.
    pub event: AnnounceEvent,
    /// How many peers we want; `None` lets the tracker choose.
    pub numwant: Option<u32>,
    /// A random number that stays the same for the whole session, so that the tracker can
    /// recognise us when our IP address changes.
    pub key: u32,
    /// The `tracker id` this tracker gave us earlier, to be echoed back (HTTP only).
    pub tracker_id: Option<Vec<u8>>,
}

/// What a tracker answered to an announce.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AnnounceResponse {
    /// How long to wait before the next regular announce.
    pub interval: Duration,
    /// The tracker's lower bound for announces that were not scheduled.
    pub min_interval: Option<Duration>,
    /// Peers with the whole file (`complete`).
    pub seeders: Option<u32>,
    /// Peers still downloading (`incomplete`).
    pub leechers: Option<u32>,
    /// Peers by address, IPv4 and IPv6, in the order the tracker gave them.
    pub peers: Vec<SocketAddr>,
    /// Peers that a dictionary-model response named by host name rather than by address;
    /// resolving them is up to the caller.
    pub peer_hosts: Vec<(String, u16)>,
    /// A `warning message`, already made printable.
    pub warning: Option<String>,
    /// A `tracker id` to send back on later announces to the same tracker.
    pub tracker_id: Option<Vec<u8>>,
}
