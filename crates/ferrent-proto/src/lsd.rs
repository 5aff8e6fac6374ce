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
        let mut lines =
            packet.split(|&b| b == b'\n').map(|line| line.strip_suffix(b"\r").unwrap_or(line));
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
        Self {
            port: listen_port,
            cookie,
            due: BTreeMap::new(),
            next_send: None,
            window: None,
            taken: 0,
        }
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
        self.due = torrents
            .into_iter()
            .map(|hash| (hash, old.get(&hash).copied().unwrap_or(now)))
            .collect();
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

    /// Handles a received packet: throttles, decodes, and drops our own.
    pub fn receive(&mut self, packet: &[u8], now: Instant) -> Result<Received, LsdError> {
        let window_over = self
            .window
            .is_none_or(|start| now.saturating_duration_since(start) >= Duration::from_secs(1));
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
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn hash(byte: u8) -> InfoHashV1 {
        InfoHashV1([byte; 20])
    }

    fn announce(port: u16, hashes: &[u8], cookie: Option<&str>) -> LsdAnnounce {
        LsdAnnounce {
            port,
            info_hashes: hashes.iter().map(|&b| hash(b)).collect(),
            cookie: cookie.map(str::to_owned),
        }
    }

    /// A packet as libtorrent 2.0.8 sent it on loopback (captured in a network namespace).
    const LIBTORRENT_PACKET: &[u8] = b"BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\n\
        Port: 7001\r\nInfohash: aa16507dc4d908e60f3f0d6e044596f969a901d8\r\n\
        cookie: 3e5feba6\r\n\r\n\r\n";

    #[test]
    fn reads_and_writes_libtorrent_packets() {
        let decoded = LsdAnnounce::decode(LIBTORRENT_PACKET).unwrap();
        let ih = InfoHashV1::parse("aa16507dc4d908e60f3f0d6e044596f969a901d8").unwrap();
        let expected =
            LsdAnnounce { port: 7001, info_hashes: vec![ih], cookie: Some("3e5feba6".into()) };
        assert_eq!(decoded, expected);
        assert_eq!(expected.encode(LSD_HOST_V4), LIBTORRENT_PACKET);
    }

    #[test]
    fn round_trips_many_hashes_without_cookie() {
        let hashes: Vec<u8> = (1..=MAX_INFO_HASHES as u8).collect();
        let original = announce(65535, &hashes, None);
        for host in [LSD_HOST_V4, LSD_HOST_V6] {
            let bytes = original.encode(host);
            assert!(bytes.len() <= MAX_PACKET_LEN, "{} bytes", bytes.len());
            assert_eq!(LsdAnnounce::decode(&bytes).unwrap(), original);
        }
    }

    #[test]
    fn tolerates_lf_case_whitespace_and_unknown_headers() {
        let packet = b"bt-search * HTTP/1.1\nhOsT: whatever\nX-Other: 1\n\
            PORT:\t 6881 \r\nINFOHASH:   0102030405060708090A0b0c0d0e0f1011121314\ncOoKiE: me\n\n";
        let decoded = LsdAnnounce::decode(packet).unwrap();
        assert_eq!(decoded.port, 6881);
        assert_eq!(decoded.info_hashes[0].0[..3], [1, 2, 3]);
        assert_eq!(decoded.info_hashes[0].0[19], 0x14);
        assert_eq!(decoded.cookie.as_deref(), Some("me"));
    }

    #[test]
    fn encode_drops_control_characters() {
        let sneaky = announce(6881, &[1], Some("abc\r\nPort: 1"));
        let bytes = sneaky.encode("host\n:1");
        let decoded = LsdAnnounce::decode(&bytes).unwrap();
        assert_eq!(decoded.port, 6881);
        assert_eq!(decoded.cookie.as_deref(), Some("abcPort: 1"));
        assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 7);
    }

    /// A valid packet with `line` (no line ending) inserted before the closing blank line.
    fn with_header(line: &str) -> Vec<u8> {
        let text = format!(
            "BT-SEARCH * HTTP/1.1\r\nHost: {LSD_HOST_V4}\r\nInfohash: {}\r\n{line}\r\n\r\n",
            hash(9).to_hex()
        );
        text.into_bytes()
    }

    #[test]
    fn refuses_bad_packets_with_reasons() {
        let long = vec![b'a'; MAX_PACKET_LEN + 1];
        assert_eq!(LsdAnnounce::decode(&long), Err(LsdError::TooLong { len: MAX_PACKET_LEN + 1 }));
        assert_eq!(LsdAnnounce::decode(b""), Err(LsdError::BadRequestLine));
        assert_eq!(
            LsdAnnounce::decode(b"M-SEARCH * HTTP/1.1\r\nPort: 1\r\n\r\n"),
            Err(LsdError::BadRequestLine)
        );
        assert_eq!(
            LsdAnnounce::decode(&with_header("Port 6881")),
            Err(LsdError::BadHeaderLine { line: 4 })
        );
        assert_eq!(LsdAnnounce::decode(&with_header("cookie: x")), Err(LsdError::MissingPort));
        assert_eq!(
            LsdAnnounce::decode(&with_header("Port: 1\r\nport: 2")),
            Err(LsdError::DuplicateHeader { name: "Port", line: 5 })
        );
        assert_eq!(
            LsdAnnounce::decode(&with_header("Port: 1\r\ncookie: a\r\nCookie: b")),
            Err(LsdError::DuplicateHeader { name: "cookie", line: 6 })
        );
        for port in ["0", "00000", "65536", "99999", "+80", "-1", "", "6881x", "123456"] {
            let err = LsdAnnounce::decode(&with_header(&format!("Port: {port}"))).unwrap_err();
            assert!(
                matches!(&err, LsdError::BadPort { line: 4, value } if value == port),
                "{port}: {err}"
            );
        }
        let v2 = "Infohash: 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
        let base32 = "Infohash: AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT";
        for bad in ["Infohash: zz16507dc4d908e60f3f0d6e044596f969a901d8", v2, base32, "Infohash:"] {
            let packet = with_header(&format!("Port: 1\r\n{bad}"));
            assert_eq!(
                LsdAnnounce::decode(&packet),
                Err(LsdError::BadInfoHash { line: 5 }),
                "{bad}"
            );
        }
        let no_hash = b"BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\n\r\n";
        assert_eq!(LsdAnnounce::decode(no_hash), Err(LsdError::MissingInfoHash));
        let cut = LIBTORRENT_PACKET.strip_suffix(b"\r\n\r\n\r\n").unwrap();
        assert_eq!(LsdAnnounce::decode(cut), Err(LsdError::Unterminated));
    }

    #[test]
    fn refuses_too_many_info_hashes() {
        let mut over = announce(6881, &[0; MAX_INFO_HASHES + 1], None);
        over.info_hashes.iter_mut().enumerate().for_each(|(i, h)| h.0[0] = i as u8);
        let err = LsdAnnounce::decode(&over.encode(LSD_HOST_V4)).unwrap_err();
        // Request line, Host and Port come first: the 11th Infohash is on line 14.
        assert_eq!(err, LsdError::TooManyInfoHashes { line: 14 });
        assert!(err.to_string().contains("line 14"), "{err}");
    }

    #[test]
    fn mangled_packets_never_panic() {
        let mut rng = StdRng::seed_from_u64(14);
        let valid = announce(6881, &[1, 2, 3], Some("c00k1e")).encode(LSD_HOST_V4);
        let mut accepted = 0;
        for _ in 0..20_000 {
            let mut packet = valid.clone();
            for _ in 0..rng.gen_range(1..6) {
                let at = rng.gen_range(0..packet.len());
                match rng.gen_range(0..4) {
                    0 => packet[at] = rng.gen(),
                    1 => packet[at] = *b"\r\n: 0aF".get(rng.gen_range(0..7)).unwrap(),
                    2 => {
                        packet.remove(at);
                    }
                    _ => packet.truncate(at),
                }
                if packet.is_empty() {
                    break;
                }
            }
            if let Ok(decoded) = LsdAnnounce::decode(&packet) {
                assert_ne!(decoded.port, 0);
                assert!((1..=MAX_INFO_HASHES).contains(&decoded.info_hashes.len()));
                accepted += 1;
            }
        }
        // Some mutations (e.g. inside the cookie or Host) leave the packet valid.
        assert!(accepted > 0);
    }

    #[test]
    fn random_cookie_is_eight_hex_digits_from_the_rng() {
        let a = LsdState::random_cookie(&mut StdRng::seed_from_u64(1));
        let b = LsdState::random_cookie(&mut StdRng::seed_from_u64(2));
        assert_eq!(a, LsdState::random_cookie(&mut StdRng::seed_from_u64(1)));
        assert_ne!(a, b);
        for cookie in [a, b] {
            assert_eq!(cookie.len(), 8);
            assert!(cookie.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        }
    }

    #[test]
    fn announces_at_start_then_every_five_minutes() {
        let t0 = Instant::now();
        let mut state = LsdState::new(6881, "me".into());
        assert_eq!(state.poll_announce(t0), None, "nothing to announce yet");
        state.set_torrents([hash(1)], t0);
        assert_eq!(state.poll_announce(t0), Some(announce(6881, &[1], Some("me"))));
        let almost = t0 + ANNOUNCE_INTERVAL - Duration::from_millis(1);
        state.set_torrents([hash(1)], almost);
        assert_eq!(state.poll_announce(almost), None);
        let again = t0 + ANNOUNCE_INTERVAL;
        assert_eq!(state.poll_announce(again).map(|a| a.info_hashes), Some(vec![hash(1)]));
        assert_eq!(state.poll_announce(again + SEND_INTERVAL), None);
    }

    #[test]
    fn many_torrents_are_spread_one_packet_per_second() {
        let t0 = Instant::now();
        let mut state = LsdState::new(6881, "me".into());
        state.set_torrents((0..25).map(hash), t0);
        let mut seen = Vec::new();
        let mut packets = 0;
        for ms in (0..3_000).step_by(100) {
            let now = t0 + Duration::from_millis(ms);
            if let Some(packet) = state.poll_announce(now) {
                assert_eq!(ms % 1000, 0, "a packet at {ms} ms");
                assert!(packet.info_hashes.len() <= MAX_INFO_HASHES);
                seen.extend(packet.info_hashes);
                packets += 1;
            }
        }
        assert_eq!(packets, 3);
        seen.sort();
        assert_eq!(seen, (0..25).map(hash).collect::<Vec<_>>(), "each announced exactly once");
        // The next round spreads the same way, five minutes later.
        let later = t0 + ANNOUNCE_INTERVAL;
        assert_eq!(state.poll_announce(later).map(|a| a.info_hashes.len()), Some(10));
        assert_eq!(state.poll_announce(later + SEND_INTERVAL / 2), None);
    }

    #[test]
    fn added_torrents_wait_their_turn_and_removed_ones_are_forgotten() {
        let t0 = Instant::now();
        let mut state = LsdState::new(6881, "me".into());
        state.set_torrents([hash(1), hash(2)], t0);
        assert_eq!(state.poll_announce(t0).unwrap().info_hashes, [hash(1), hash(2)]);
        let t1 = t0 + Duration::from_millis(300);
        state.set_torrents([hash(1), hash(3)], t1);
        assert_eq!(state.poll_announce(t1), None, "one packet per second");
        let t2 = t0 + SEND_INTERVAL;
        assert_eq!(state.poll_announce(t2).unwrap().info_hashes, [hash(3)]);
        // Torrent 2 was removed: only 1 and 3 come round again.
        let round = t2 + ANNOUNCE_INTERVAL;
        state.set_torrents([hash(1), hash(3)], round);
        assert_eq!(state.poll_announce(round).unwrap().info_hashes, [hash(1), hash(3)]);
        // The longest-waiting torrents go first when more are due than fit in a packet.
        let mut state = LsdState::new(6881, "me".into());
        state.set_torrents((20..31).map(hash), t0);
        state.set_torrents((0..31).map(hash), t1);
        let first = state.poll_announce(t1).unwrap().info_hashes;
        assert_eq!(first, (20..30).map(hash).collect::<Vec<_>>());
    }

    #[test]
    fn receive_drops_own_packets_and_passes_others() {
        let now = Instant::now();
        let mut state = LsdState::new(6881, "mine".into());
        let own = announce(6881, &[1], Some("mine")).encode(LSD_HOST_V4);
        assert_eq!(state.receive(&own, now), Ok(Received::Own));
        let other = announce(6881, &[1], Some("yours"));
        assert_eq!(state.receive(&other.encode(LSD_HOST_V4), now), Ok(Received::Announce(other)));
        let anonymous = announce(7000, &[2], None);
        assert_eq!(
            state.receive(&anonymous.encode(LSD_HOST_V4), now),
            Ok(Received::Announce(anonymous))
        );
        assert_eq!(state.receive(b"GET / HTTP/1.1\r\n\r\n", now), Err(LsdError::BadRequestLine));
    }

    #[test]
    fn receive_is_throttled_per_second() {
        let t0 = Instant::now();
        let mut state = LsdState::new(6881, "mine".into());
        let packet = announce(7000, &[1], Some("yours")).encode(LSD_HOST_V4);
        let count = |state: &mut LsdState, at: Instant, n: u32| {
            (0..n)
                .filter(|_| matches!(state.receive(&packet, at), Ok(Received::Announce(_))))
                .count()
        };
        assert_eq!(count(&mut state, t0, 80), MAX_RECEIVED_PER_SECOND as usize);
        // Invalid packets use the budget too: they still cost a parse.
        let later = t0 + Duration::from_millis(999);
        assert_eq!(state.receive(b"junk", later), Ok(Received::Throttled));
        let next_second = t0 + Duration::from_secs(1);
        assert_eq!(state.receive(b"junk", next_second), Err(LsdError::BadRequestLine));
        assert_eq!(count(&mut state, next_second, 80), MAX_RECEIVED_PER_SECOND as usize - 1);
    }
}
