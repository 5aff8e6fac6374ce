//! BEP 14 Local Service Discovery (LSD): finding peers on the local network.
//!
//! Every client on a LAN joins the multicast group [`LSD_GROUP_V4`] (or [`LSD_GROUP_V6`]) on
//! port [`LSD_PORT`] and now and then sends an HTTP-like `BT-SEARCH` packet naming the info
//! hashes it runs and the TCP port it listens on. Whoever runs one of those torrents connects
//! to the sender's address at that port. A `cookie` header lets a client recognise, and drop,
//! its own packets, which multicast loops back to it.
//!
//! [`LsdAnnounce`] is the packet codec; [`LsdState`] decides when to send which torrents (at
//! start, then every [`ANNOUNCE_INTERVAL`], never more than one packet per [`SEND_INTERVAL`])
//! and filters received packets (own cookie, at most [`MAX_RECEIVED_PER_SECOND`]). Neither
//! touches a socket or a clock: time comes in as an argument.
//!
//! ```
//! use ferrent_core::InfoHashV1;
//! use ferrent_proto::lsd::{LsdAnnounce, LsdState, Received, LSD_HOST_V4};
//! use std::time::Instant;
//!
//! let now = Instant::now();
//! let mut ours = LsdState::new(6881, "5eed".into());
//! ours.set_torrents([InfoHashV1([7; 20])], now);
//! let packet = ours.poll_announce(now).expect("a new torrent is announced at once");
//! let bytes = packet.encode(LSD_HOST_V4);
//!
//! let mut theirs = LsdState::new(51413, "cafe".into());
//! match theirs.receive(&bytes, now).unwrap() {
//!     Received::Announce(announce) => {
//!         assert_eq!(announce.port, 6881);
//!         assert_eq!(announce.info_hashes, [InfoHashV1([7; 20])]);
//!     }
//!     other => panic!("unexpected {other:?}"),
//! }
//! // Our own packet, looped back by the network, is recognised by its cookie.
//! assert_eq!(ours.receive(&bytes, now).unwrap(), Received::Own);
//! ```

use ferrent_core::InfoHashV1;
use rand::Rng;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

/// The UDP port of the LSD multicast groups.
pub const LSD_PORT: u16 = 6771;
/// The IPv4 LSD multicast group.
pub const LSD_GROUP_V4: Ipv4Addr = Ipv4Addr::new(239, 192, 152, 143);
/// The IPv6 LSD multicast group (organisation-local scope).
pub const LSD_GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff15, 0, 0, 0, 0, 0, 0xefc0, 0x988f);
/// The `Host` header value of packets sent to the IPv4 group.
pub const LSD_HOST_V4: &str = "239.192.152.143:6771";
/// The `Host` header value of packets sent to the IPv6 group.
pub const LSD_HOST_V6: &str = "[ff15::efc0:988f]:6771";
/// Larger packets are refused: an LSD packet must fit one unfragmented datagram.
pub const MAX_PACKET_LEN: usize = 1400;
/// At most this many `Infohash` headers are sent in, or accepted from, one packet.
pub const MAX_INFO_HASHES: usize = 10;
/// Each torrent is announced again this long after its previous announce.
pub const ANNOUNCE_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// At most one packet is sent per this interval, however many torrents are due.
pub const SEND_INTERVAL: Duration = Duration::from_secs(1);
/// At most this many received packets are processed per second; the rest are dropped.
pub const MAX_RECEIVED_PER_SECOND: u32 = 50;

/// Why a received LSD packet was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LsdError {
    /// The packet is longer than [`MAX_PACKET_LEN`].
    #[error("LSD packet is {len} bytes long; at most {MAX_PACKET_LEN} are accepted")]
    TooLong {
        /// The packet's length in bytes.
        len: usize,
    },
    /// The first line is not a `BT-SEARCH` request.
    #[error("LSD packet line 1 is not a `BT-SEARCH * HTTP/1.1` request line")]
    BadRequestLine,
    /// A header line has no `:` between its name and value.
    #[error("LSD packet line {line} is a header without a ':'")]
    BadHeaderLine {
        /// 1-based line number.
        line: usize,
    },
    /// The packet ends before the blank line that closes its headers (it was cut short).
    #[error("LSD packet ends before the blank line that closes its headers")]
    Unterminated,
    /// A header that may appear once appears twice.
    #[error("LSD packet line {line} repeats the {name} header")]
    DuplicateHeader {
        /// The header's name.
        name: &'static str,
        /// 1-based line number of the repetition.
        line: usize,
    },
    /// There is no `Port` header.
    #[error("LSD packet has no Port header")]
    MissingPort,
    /// The `Port` header is not a decimal number from 1 to 65535.
    #[error("LSD packet line {line}: Port {value:?} is not a number from 1 to 65535")]
    BadPort {
        /// 1-based line number.
        line: usize,
        /// The header's value (at most 16 characters of it).
        value: String,
    },
    /// There is no `Infohash` header.
    #[error("LSD packet has no Infohash header")]
    MissingInfoHash,
    /// There are more than [`MAX_INFO_HASHES`] `Infohash` headers.
    #[error("LSD packet line {line}: more than {MAX_INFO_HASHES} Infohash headers")]
    TooManyInfoHashes {
        /// 1-based line number of the first one too many.
        line: usize,
    },
    /// An `Infohash` header is not 40 hex digits.
    #[error("LSD packet line {line}: Infohash is not 40 hex digits")]
    BadInfoHash {
        /// 1-based line number.
        line: usize,
    },
}

/// One LSD packet: "peers for these torrents listen on `port` of my address".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LsdAnnounce {
    /// The TCP port the sender accepts peer connections on (never 0 in a decoded packet).
    pub port: u16,
    /// The torrents announced; keep to [`MAX_INFO_HASHES`], as receivers refuse more.
    pub info_hashes: Vec<InfoHashV1>,
    /// The sender's cookie, by which it recognises its own packets.
    pub cookie: Option<String>,
}

impl LsdAnnounce {
    /// Renders the packet as libtorrent does. `host` is the `Host` header value:
    /// [`LSD_HOST_V4`] or [`LSD_HOST_V6`]. Control characters (CR, LF, ...) in `host` and the
    /// cookie are left out, so neither can inject a header.
    pub fn encode(&self, host: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(96 + 52 * self.info_hashes.len());
        out.extend_from_slice(b"BT-SEARCH * HTTP/1.1\r\n");
        push_header(&mut out, "Host", host);
        push_header(&mut out, "Port", &self.port.to_string());
        for info_hash in &self.info_hashes {
            push_header(&mut out, "Infohash", &info_hash.to_hex());
        }
        if let Some(cookie) = &self.cookie {
            push_header(&mut out, "cookie", cookie);
        }
        // The blank line ending the headers, then an empty line more, as libtorrent sends.
        out.extend_from_slice(b"\r\n\r\n");
        out
    }

    /// Parses a received packet. Header names are case-insensitive, lines may end in CRLF or
    /// LF, and unknown headers (such as `Host`) are ignored.
    pub fn decode(packet: &[u8]) -> Result<LsdAnnounce, LsdError> {
        if packet.len() > MAX_PACKET_LEN {
            return Err(LsdError::TooLong { len: packet.len() });
        }
        let mut lines = packet.split(|&b| b == b'\n').map(|line| line.strip_suffix(b"\r").unwrap_or(line));
        let request = lines.next().unwrap_or_default();
        let method = request.split(|b| b.is_ascii_whitespace()).next().unwrap_or_default();
        if !method.eq_ignore_ascii_case(b"BT-SEARCH") {
            return Err(LsdError::BadRequestLine);
        }

        let mut port = None;
        let mut info_hashes = Vec::new();
        let mut cookie = None;
        let mut terminated = false;
        for (index, line) in lines.enumerate() {
            let line_no = index + 2;
            if line.is_empty() {
                terminated = true;
                break;
            }
            let colon = line
                .iter()
                .position(|&b| b == b':')
                .ok_or(LsdError::BadHeaderLine { line: line_no })?;
            let (name, rest) = line.split_at(colon);
            let (name, value) = (trim(name), trim(rest.get(1..).unwrap_or_default()));
            if name.eq_ignore_ascii_case(b"port") {
                if port.is_some() {
                    return Err(LsdError::DuplicateHeader { name: "Port", line: line_no });
                }
                port = Some(parse_port(value, line_no)?);
            } else if name.eq_ignore_ascii_case(b"infohash") {
                if info_hashes.len() == MAX_INFO_HASHES {
                    return Err(LsdError::TooManyInfoHashes { line: line_no });
                }
                info_hashes.push(parse_info_hash(value, line_no)?);
            } else if name.eq_ignore_ascii_case(b"cookie") {
                if cookie.is_some() {
                    return Err(LsdError::DuplicateHeader { name: "cookie", line: line_no });
                }
                cookie = Some(String::from_utf8_lossy(value).into_owned());
            }
        }
        if !terminated {
            return Err(LsdError::Unterminated);
        }
        let port = port.ok_or(LsdError::MissingPort)?;
        if info_hashes.is_empty() {
            return Err(LsdError::MissingInfoHash);
        }
        Ok(LsdAnnounce { port, info_hashes, cookie })
    }
}

fn push_header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend(value.bytes().filter(|b| !b.is_ascii_control()));
    out.extend_from_slice(b"\r\n");
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |i| i + 1);
    bytes.get(start..end).unwrap_or_default()
}

fn parse_port(value: &[u8], line: usize) -> Result<u16, LsdError> {
    let bad = || LsdError::BadPort {
        line,
        value: String::from_utf8_lossy(value).chars().take(16).collect(),
    };
    // Digits only: `u16::from_str` would also take a sign.
    if value.is_empty() || value.len() > 5 || !value.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let port = value.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
    match u16::try_from(port) {
        Ok(0) | Err(_) => Err(bad()),
        Ok(port) => Ok(port),
    }
}

fn parse_info_hash(value: &[u8], line: usize) -> Result<InfoHashV1, LsdError> {
    // Exactly 40 hex digits: `InfoHashV1::parse` would also take the base32 form.
    let text = std::str::from_utf8(value).ok().filter(|text| text.len() == 40);
    text.and_then(|text| InfoHashV1::parse(text).ok()).ok_or(LsdError::BadInfoHash { line })
}

/// What [`LsdState::receive`] made of a packet that decoded, or was never decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Another client's announce: its torrents are at the sender's address, `port`.
    Announce(LsdAnnounce),
    /// Our own packet, looped back: ignore it.
    Own,
    /// Over [`MAX_RECEIVED_PER_SECOND`]: dropped without being parsed.
    Throttled,
}

/// LSD bookkeeping for one session: which torrents to announce when, and which received
/// packets to act on.
#[derive(Debug, Clone)]
pub struct LsdState {
    port: u16,
    cookie: String,
    /// When each announced torrent is next due.
    due: BTreeMap<InfoHashV1, Instant>,
    /// No packet is sent before this.
    next_send: Option<Instant>,
    /// Start of the current one-second receive window, and packets taken in it.
    window: Option<Instant>,
    taken: u32,
}

impl LsdState {
    /// A state announcing TCP port `listen_port`, marking packets with `cookie` (see
    /// [`LsdState::random_cookie`]).
    pub fn new(listen_port: u16, cookie: String) -> Self {
        Self { port: listen_port, cookie, due: BTreeMap::new(), next_send: None, window: None, taken: 0 }
    }

    /// A fresh cookie: 8 lowercase hex digits from `rng`.
    pub fn random_cookie<R: Rng + ?Sized>(rng: &mut R) -> String {
        format!("{:08x}", rng.gen::<u32>())
    }

    /// The cookie our packets carry.
    pub fn cookie(&self) -> &str {
        &self.cookie
    }

    /// Sets the torrents to announce. Ones not seen before are due at once; ones missing
    /// from `torrents` are forgotten.
    pub fn set_torrents(&mut self, torrents: impl IntoIterator<Item = InfoHashV1>, now: Instant) {
        let old = std::mem::take(&mut self.due);
        self.due = torrents.into_iter().map(|hash| (hash, old.get(&hash).copied().unwrap_or(now))).collect();
    }

    /// The packet to send now, if any: up to [`MAX_INFO_HASHES`] of the torrents that are
    /// due, longest-waiting first, at most once per [`SEND_INTERVAL`].
    pub fn poll_announce(&mut self, now: Instant) -> Option<LsdAnnounce> {
        if self.next_send.is_some_and(|at| now < at) {
            return None;
        }
        let mut due: Vec<(Instant, InfoHashV1)> =
            self.due.iter().filter(|(_, &at)| at <= now).map(|(&hash, &at)| (at, hash)).collect();
        if due.is_empty() {
            return None;
        }
        due.sort_unstable();
        due.truncate(MAX_INFO_HASHES);
        let again = now.checked_add(ANNOUNCE_INTERVAL).unwrap_or(now);
        for (_, hash) in &due {
            self.due.insert(*hash, again);
        }
        self.next_send = Some(now.checked_add(SEND_INTERVAL).unwrap_or(now));
        let info_hashes = due.into_iter().map(|(_, hash)| hash).collect();
        Some(LsdAnnounce { port: self.port, info_hashes, cookie: Some(self.cookie.clone()) })
    }

    /// When [`LsdState::poll_announce`] will next have something to send (`None`: no
    /// torrents). May be in the past.
    pub fn next_wakeup(&self) -> Option<Instant> {
        let first_due = self.due.values().min().copied()?;
        Some(self.next_send.map_or(first_due, |at| at.max(first_due)))
    }

    /// Handles a received packet: throttles, decodes, and drops our own.
    pub fn receive(&mut self, packet: &[u8], now: Instant) -> Result<Received, LsdError> {
        let window_over = self.window.is_none_or(|start| now.saturating_duration_since(start) >= Duration::from_secs(1));
        if window_over {
            self.window = Some(now);
            self.taken = 0;
        }
        if self.taken >= MAX_RECEIVED_PER_SECOND {
            return Ok(Received::Throttled);
        }
        self.taken += 1;
        let announce = LsdAnnounce::decode(packet)?;
        if announce.cookie.as_deref() == Some(self.cookie.as_str()) {
            return Ok(Received::Own);
        }
        Ok(Received::Announce(announce))
    }
}

#[cfg(test)]
mod tests {
}
