//! Datagram layouts of the UDP tracker protocol (BEP 15) and URL data (BEP 41).
//!
//! All integers are big-endian. Every response starts with `action` and `transaction_id`.

use std::time::Duration;

use crate::peers::{parse_compact, Family};
use crate::text::printable;
use crate::{AnnounceRequest, AnnounceResponse};

/// The magic constant that opens a connect request.
pub const PROTOCOL_ID: u64 = 0x0417_2710_1980;

/// Size of a connect request and of a connect response.
pub const CONNECT_LEN: usize = 16;
/// Size of an announce request without BEP 41 options.
pub const ANNOUNCE_LEN: usize = 98;
/// Size of an announce response without peers.
pub const ANNOUNCE_RESPONSE_MIN_LEN: usize = 20;
/// Size of the header shared by every response: action and transaction id.
pub const HEADER_LEN: usize = 8;

const ACTION_CONNECT: u32 = 0;
const ACTION_ANNOUNCE: u32 = 1;
const ACTION_ERROR: u32 = 3;

/// BEP 41 option: end of options.
const OPTION_END: u8 = 0;
/// BEP 41 option: a chunk of URL data, at most 255 bytes.
const OPTION_URL_DATA: u8 = 2;

/// Encodes a connect request.
pub fn encode_connect(transaction_id: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(CONNECT_LEN);
    out.extend_from_slice(&PROTOCOL_ID.to_be_bytes());
    out.extend_from_slice(&ACTION_CONNECT.to_be_bytes());
    out.extend_from_slice(&transaction_id.to_be_bytes());
    out
}

/// Encodes an announce request. `url_data` is the path and query of the tracker URL,
/// appended as BEP 41 options when it is not empty.
///
/// The `ip` field is left at 0 (the tracker uses the datagram's source address) and a missing
/// `numwant` becomes -1, "the tracker's default". `tracker_id` is an HTTP-only field.
pub fn encode_announce(
    connection_id: u64,
    transaction_id: u32,
    request: &AnnounceRequest,
    url_data: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(ANNOUNCE_LEN + url_data.len() + url_data.len() / 255 + 4);
    out.extend_from_slice(&connection_id.to_be_bytes());
    out.extend_from_slice(&ACTION_ANNOUNCE.to_be_bytes());
    out.extend_from_slice(&transaction_id.to_be_bytes());
    out.extend_from_slice(&request.info_hash.0);
    out.extend_from_slice(&request.peer_id);
    out.extend_from_slice(&request.downloaded.to_be_bytes());
    out.extend_from_slice(&request.left.to_be_bytes());
    out.extend_from_slice(&request.uploaded.to_be_bytes());
    out.extend_from_slice(&request.event.udp_code().to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&request.key.to_be_bytes());
    let numwant = request.numwant.map_or(-1, |n| i32::try_from(n).unwrap_or(i32::MAX));
    out.extend_from_slice(&numwant.to_be_bytes());
    out.extend_from_slice(&request.port.to_be_bytes());
    if !url_data.is_empty() {
        for chunk in url_data.chunks(usize::from(u8::MAX)) {
            out.push(OPTION_URL_DATA);
            // `chunks(255)` yields at most 255 bytes, so the length fits in a byte.
            out.push(u8::try_from(chunk.len()).unwrap_or(u8::MAX));
            out.extend_from_slice(chunk);
        }
        out.push(OPTION_END);
    }
    out
}

/// A decoded response datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UdpResponse {
    /// The answer to a connect request.
    Connect {
        /// Echo of the request's transaction id.
        transaction_id: u32,
        /// The connection id to put in following requests.
        connection_id: u64,
    },
    /// The answer to an announce request.
    Announce {
        /// Echo of the request's transaction id.
        transaction_id: u32,
        /// Interval, seeders, leechers and peers.
        response: AnnounceResponse,
    },
    /// The tracker refused a request.
    Error {
        /// Echo of the request's transaction id.
        transaction_id: u32,
        /// The tracker's message, made printable.
        message: String,
    },
}

/// Why a datagram is not a response this crate understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UdpDecodeError {
    /// The datagram is shorter than its action requires.
    #[error("UDP tracker datagram for action {action} has {len} bytes; at least {min} needed")]
    TooShort {
        /// The action, or `None` when even the header is cut short.
        action: ActionName,
        /// The datagram's length.
        len: usize,
        /// The minimum length for that action.
        min: usize,
    },
    /// The action field holds an action this client never requests.
    #[error("UDP tracker datagram has unexpected action {0}")]
    UnexpectedAction(u32),
}

/// The action named in a [`UdpDecodeError::TooShort`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionName {
    /// The datagram is too short to hold an action.
    Unknown,
    /// A connect response.
    Connect,
    /// An announce response.
    Announce,
}

impl std::fmt::Display for ActionName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ActionName::Unknown => "(none)",
            ActionName::Connect => "connect",
            ActionName::Announce => "announce",
        })
    }
}

/// Reads the big-endian `u32` at `at`, if the slice is long enough.
fn be_u32(data: &[u8], at: usize) -> Option<u32> {
    let bytes = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

/// Reads the big-endian `u64` at `at`, if the slice is long enough.
fn be_u64(data: &[u8], at: usize) -> Option<u64> {
    let bytes = data.get(at..at.checked_add(8)?)?;
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

impl UdpResponse {
    /// Decodes a response datagram. `ipv6_peers` selects 18-byte peers, for a tracker
    /// reached over IPv6; otherwise peers are 6 bytes. A trailing partial peer is ignored.
    pub fn decode(data: &[u8], ipv6_peers: bool) -> Result<Self, UdpDecodeError> {
        let too_short = |action, min| UdpDecodeError::TooShort { action, len: data.len(), min };
        let (Some(action), Some(transaction_id)) = (be_u32(data, 0), be_u32(data, 4)) else {
            return Err(too_short(ActionName::Unknown, HEADER_LEN));
        };
        match action {
            ACTION_CONNECT => {
                let connection_id =
                    be_u64(data, 8).ok_or_else(|| too_short(ActionName::Connect, CONNECT_LEN))?;
                Ok(UdpResponse::Connect { transaction_id, connection_id })
            }
            ACTION_ANNOUNCE => {
                let field = |at| {
                    be_u32(data, at)
                        .ok_or_else(|| too_short(ActionName::Announce, ANNOUNCE_RESPONSE_MIN_LEN))
                };
                let interval = field(8)?;
                let leechers = field(12)?;
                let seeders = field(16)?;
                let family = if ipv6_peers { Family::V6 } else { Family::V4 };
                let mut peers = Vec::new();
                let peer_bytes = data.get(ANNOUNCE_RESPONSE_MIN_LEN..).unwrap_or_default();
                parse_compact(peer_bytes, family, &mut peers);
                let response = AnnounceResponse {
                    interval: Duration::from_secs(u64::from(interval)),
                    seeders: Some(seeders),
                    leechers: Some(leechers),
                    peers,
                    ..AnnounceResponse::default()
                };
                Ok(UdpResponse::Announce { transaction_id, response })
            }
            ACTION_ERROR => {
                let message = printable(data.get(HEADER_LEN..).unwrap_or_default());
                Ok(UdpResponse::Error { transaction_id, message })
            }
            other => Err(UdpDecodeError::UnexpectedAction(other)),
        }
    }

    /// The transaction id the response echoes.
    pub fn transaction_id(&self) -> u32 {
        match self {
            UdpResponse::Connect { transaction_id, .. }
            | UdpResponse::Announce { transaction_id, .. }
            | UdpResponse::Error { transaction_id, .. } => *transaction_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use ferrent_core::InfoHashV1;

    use super::*;
    use crate::AnnounceEvent;

    fn request() -> AnnounceRequest {
        AnnounceRequest {
            info_hash: InfoHashV1([0xab; 20]),
            peer_id: [0x11; 20],
            port: 0x1ae1,
            uploaded: 3,
            downloaded: 1,
            left: 2,
            event: AnnounceEvent::Completed,
            numwant: None,
            key: 0xdead_beef,
            tracker_id: Some(b"ignored".to_vec()),
        }
    }

    #[test]
    fn connect_request_layout() {
        let out = encode_connect(0x0102_0304);
        assert_eq!(out.len(), CONNECT_LEN);
        assert_eq!(out[..8], [0, 0, 0x04, 0x17, 0x27, 0x10, 0x19, 0x80]);
        assert_eq!(out[8..12], [0, 0, 0, 0]);
        assert_eq!(out[12..], [1, 2, 3, 4]);
    }

    #[test]
    fn announce_request_layout() {
        let req = request();
        let out = encode_announce(0x1122_3344_5566_7788, 7, &req, b"");
        assert_eq!(out.len(), ANNOUNCE_LEN);
        assert_eq!(be_u64(&out, 0), Some(0x1122_3344_5566_7788));
        assert_eq!(be_u32(&out, 8), Some(1));
        assert_eq!(be_u32(&out, 12), Some(7));
        assert_eq!(out[16..36], req.info_hash.0);
        assert_eq!(out[36..56], req.peer_id);
        assert_eq!(be_u64(&out, 56), Some(1), "downloaded");
        assert_eq!(be_u64(&out, 64), Some(2), "left");
        assert_eq!(be_u64(&out, 72), Some(3), "uploaded");
        assert_eq!(be_u32(&out, 80), Some(1), "event completed");
        assert_eq!(be_u32(&out, 84), Some(0), "ip");
        assert_eq!(be_u32(&out, 88), Some(0xdead_beef), "key");
        assert_eq!(be_u32(&out, 92), Some(u32::MAX), "numwant -1");
        assert_eq!(out[96..98], [0x1a, 0xe1]);
    }

    #[test]
    fn event_codes_follow_bep_15() {
        let codes: Vec<u32> = [
            AnnounceEvent::None,
            AnnounceEvent::Completed,
            AnnounceEvent::Started,
            AnnounceEvent::Stopped,
        ]
        .iter()
        .map(|e| e.udp_code())
        .collect();
        assert_eq!(codes, [0, 1, 2, 3]);
    }

    #[test]
    fn url_data_is_split_into_255_byte_options() {
        let url_data: Vec<u8> = (0..300u32).map(|i| b'a' + (i % 26) as u8).collect();
        let mut req = request();
        req.numwant = Some(u32::MAX);
        let out = encode_announce(1, 2, &req, &url_data);
        assert_eq!(be_u32(&out, 92), Some(i32::MAX as u32), "numwant saturates");
        let options = &out[ANNOUNCE_LEN..];
        assert_eq!(options[0], OPTION_URL_DATA);
        assert_eq!(options[1], 255);
        assert_eq!(options[2..257], url_data[..255]);
        assert_eq!(options[257], OPTION_URL_DATA);
        assert_eq!(options[258], 45);
        assert_eq!(options[259..304], url_data[255..]);
        assert_eq!(options[304..], [OPTION_END]);
    }

    #[test]
    fn decodes_connect_announce_and_error() {
        let mut connect = vec![0, 0, 0, 0, 0, 0, 0, 9];
        connect.extend_from_slice(&42u64.to_be_bytes());
        assert_eq!(
            UdpResponse::decode(&connect, false),
            Ok(UdpResponse::Connect { transaction_id: 9, connection_id: 42 })
        );

        let mut announce = vec![0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0x07, 0x08, 0, 0, 0, 3, 0, 0, 0, 4];
        announce.extend_from_slice(&[127, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 2, 0, 80, 1]);
        let UdpResponse::Announce { transaction_id, response } =
            UdpResponse::decode(&announce, false).unwrap()
        else {
            panic!("not an announce");
        };
        assert_eq!(transaction_id, 5);
        assert_eq!(response.interval, Duration::from_secs(0x0708));
        assert_eq!((response.leechers, response.seeders), (Some(3), Some(4)));
        assert_eq!(
            response.peers,
            vec!["127.0.0.1:6881".parse().unwrap(), "10.0.0.2:80".parse().unwrap()]
        );

        let mut error = vec![0, 0, 0, 3, 0, 0, 0, 6];
        error.extend_from_slice(b"unregistered torrent\n");
        assert_eq!(
            UdpResponse::decode(&error, false),
            Ok(UdpResponse::Error { transaction_id: 6, message: "unregistered torrent".into() })
        );
    }

    #[test]
    fn ipv6_announce_uses_18_byte_peers() {
        let mut announce = vec![0, 0, 0, 1, 0, 0, 0, 5];
        announce.extend_from_slice(&[0; 12]);
        announce.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
        announce.extend_from_slice(&[0, 99]);
        let UdpResponse::Announce { response, .. } = UdpResponse::decode(&announce, true).unwrap()
        else {
            panic!("not an announce");
        };
        assert_eq!(response.peers, vec!["[::1]:99".parse().unwrap()]);
    }

    #[test]
    fn short_or_unknown_datagrams_are_refused() {
        for len in 0..HEADER_LEN {
            assert!(matches!(
                UdpResponse::decode(&[0; 8][..len], false),
                Err(UdpDecodeError::TooShort { action: ActionName::Unknown, .. })
            ));
        }
        assert_eq!(
            UdpResponse::decode(&[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0], false),
            Err(UdpDecodeError::TooShort { action: ActionName::Connect, len: 11, min: 16 })
        );
        assert!(matches!(
            UdpResponse::decode(&[0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], false),
            Err(UdpDecodeError::TooShort { action: ActionName::Announce, len: 19, min: 20 })
        ));
        assert_eq!(
            UdpResponse::decode(&[0, 0, 0, 2, 0, 0, 0, 1], false),
            Err(UdpDecodeError::UnexpectedAction(2))
        );
    }
}
