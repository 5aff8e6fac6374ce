//! The one error type of this crate.

/// Why an announce failed, or why a tracker URL or response was refused.
///
/// The variants that come from parsing name the offending field and the reason, so that a
/// message such as "tracker response field `peers` has 13 bytes, not a multiple of 6" can be
/// shown to a user as is. Text that came from the tracker has already been made safe to print
/// (see [`AnnounceResponse::warning`](crate::AnnounceResponse::warning)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackerError {
    /// The tracker URL could not be parsed or lacks a part it needs.
    #[error("tracker URL {url:?} is invalid: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The tracker URL has a scheme other than `http`, `https` or `udp`.
    #[error("tracker URL scheme {0:?} is not supported (expected http, https or udp)")]
    UnsupportedScheme(String),
    /// The tracker answered with `failure reason` (HTTP) or an error action (UDP).
    #[error("tracker refused the announce: {0}")]
    Failure(String),
    /// The HTTP response body is not valid bencode.
    #[error("tracker response is not valid bencode: {0}")]
    Bencode(#[from] ferrent_bencode::DecodeError),
    /// The HTTP response body is bencode but not a dictionary.
    #[error("tracker response is not a bencoded dictionary")]
    NotADictionary,
    /// A response field has the wrong type or an impossible value.
    #[error("tracker response field `{field}` {reason}")]
    BadField {
        /// The field name as it appears in the response.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A compact peer list whose length is not a whole number of entries.
    #[error("tracker response field `{field}` has {len} bytes, not a multiple of {entry_len}")]
    CompactPeersLength {
        /// `peers` or `peers6`.
        field: &'static str,
        /// The length of the string.
        len: usize,
        /// The size of one entry: 6 for IPv4, 18 for IPv6.
        entry_len: usize,
    },
    /// The response body exceeds the size limit.
    #[error("tracker response is larger than the {limit}-byte limit")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The tracker answered with an HTTP status other than success and no `failure reason`.
    #[error("tracker answered with HTTP status {0}")]
    HttpStatus(u16),
    /// A UDP tracker did not answer in time, after every retransmission.
    #[error("tracker did not answer after {attempts} attempts")]
    TimedOut {
        /// How many times the request was sent.
        attempts: u32,
    },
    /// Name resolution, connection or I/O failed (reported by the driver that does the I/O).
    #[error("tracker unreachable: {0}")]
    Transport(String),
}
