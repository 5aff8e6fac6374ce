//! Magnet links (BEP 9, BEP 53, and the `btmh` v2 form of BEP 52).

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::ops::RangeInclusive;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::info_hash::{InfoHashError, InfoHashV1, InfoHashV2, InfoHashes};

/// Why a magnet link was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MagnetError {
    /// The text does not start with `magnet:?`.
    #[error("not a magnet link: expected it to start with 'magnet:?'")]
    NotMagnet,
    /// No `xt=urn:btih:` or `xt=urn:btmh:` parameter.
    #[error("no BitTorrent info hash (xt=urn:btih:... or xt=urn:btmh:...)")]
    MissingInfoHash,
    /// A `btih` hash that is not 40 hex or 32 base32 characters, or a bad `btmh` digest.
    #[error("xt: bad info hash {value:?}: {source}")]
    BadInfoHash {
        /// The hash text.
        value: String,
        /// Why it was refused.
        source: InfoHashError,
    },
    /// A `btmh` multihash that is not SHA-256 (`1220` followed by 64 hex characters).
    #[error("xt: unsupported multihash {0:?}; expected '1220' followed by 64 hex characters")]
    UnsupportedMultihash(String),
    /// Two different hashes of the same version.
    #[error("xt: conflicting info hashes {0} and {1}")]
    ConflictingHashes(String, String),
    /// A parameter's percent-decoded value is not UTF-8.
    #[error("{0}: value is not valid UTF-8 after percent-decoding")]
    NotUtf8(String),
    /// An `x.pe` value that is not `ip:port`, `[ipv6]:port` or `host:port`.
    #[error("x.pe: bad peer address {0:?}")]
    BadPeer(String),
    /// An `so` value that is not a comma-separated list of indices and ranges.
    #[error("so: bad file selection {0:?}")]
    BadSelectOnly(String),
}

/// A peer address from `x.pe`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PeerAddr {
    /// A literal IPv4 or IPv6 address and port.
    Socket(SocketAddr),
    /// A host name to resolve, and a port.
    Host {
        /// The host name.
        host: String,
        /// The port (never 0).
        port: u16,
    },
}

impl PeerAddr {
    /// Parses `1.2.3.4:6881`, `[::1]:6881` or `host.name:6881`.
    pub fn parse(text: &str) -> Result<PeerAddr, MagnetError> {
        let bad = || MagnetError::BadPeer(text.to_owned());
        if let Ok(addr) = text.parse::<SocketAddr>() {
            return if addr.port() == 0 { Err(bad()) } else { Ok(PeerAddr::Socket(addr)) };
        }
        let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
        let port: u16 = port.parse().ok().filter(|&p| p != 0).ok_or_else(bad)?;
        let host_ok = !host.is_empty()
            && !host.starts_with(['-', '.'])
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
        // A bare IPv6 address without brackets, or a malformed IPv4 one, is not a host name.
        if !host_ok || host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(bad());
        }
        Ok(PeerAddr::Host { host: host.to_owned(), port })
    }
}

impl fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerAddr::Socket(addr) => write!(f, "{addr}"),
            PeerAddr::Host { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

/// A parsed magnet link.
///
/// ```
/// use ferrent_core::{Magnet, PeerAddr};
/// let m = Magnet::parse(
///     "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=My%20File\
///      &tr=udp%3A%2F%2F127.0.0.1%3A6969&x.pe=[::1]:6881&so=0,2-3",
/// ).unwrap();
/// assert_eq!(m.display_name.as_deref(), Some("My File"));
/// assert_eq!(m.trackers, ["udp://127.0.0.1:6969"]);
/// assert_eq!(m.peers, [PeerAddr::Socket("[::1]:6881".parse().unwrap())]);
/// assert_eq!(m.select_only, [0..=0, 2..=3]);
/// assert_eq!(Magnet::parse(&m.to_uri()).unwrap(), m);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Magnet {
    /// The torrent's identities (at least one is set in a parsed link).
    pub info_hashes: InfoHashes,
    /// `dn`: a name to show until the metadata arrives.
    pub display_name: Option<String>,
    /// `tr`: tracker URLs, in order, without duplicates.
    pub trackers: Vec<String>,
    /// `ws`: web seed URLs.
    pub web_seeds: Vec<String>,
    /// `x.pe`: peers to contact directly.
    pub peers: Vec<PeerAddr>,
    /// `so` (BEP 53): indices of the files to download; empty means all.
    pub select_only: Vec<RangeInclusive<usize>>,
}

impl Magnet {
    /// Parses a magnet URI. Unknown parameters are ignored; `+` is a literal plus sign.
    pub fn parse(uri: &str) -> Result<Magnet, MagnetError> {
        let query = uri
            .get(..8)
            .filter(|scheme| scheme.eq_ignore_ascii_case("magnet:?"))
            .and_then(|_| uri.get(8..))
            .ok_or(MagnetError::NotMagnet)?;
        let mut magnet = Magnet::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
            let key = decode(key, "parameter name")?;
            let value = decode(raw, &key)?;
            // BEP 9 allows numbered parameters (`xt.1`, `tr.2`) for multi-torrent links.
            let base = match key.split_once('.') {
                Some((base, n)) if n.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty() => base,
                _ => key.as_str(),
            };
            match base {
                "xt" => magnet.add_exact_topic(&value)?,
                "dn" => magnet.display_name = Some(value),
                "tr" if !value.is_empty() => magnet.trackers.push(value),
                "ws" if !value.is_empty() => magnet.web_seeds.push(value),
                "x.pe" => magnet.peers.push(PeerAddr::parse(&value)?),
                "so" => magnet.select_only.extend(parse_select_only(&value)?),
                _ => {}
            }
        }
        if magnet.info_hashes.v1.is_none() && magnet.info_hashes.v2.is_none() {
            return Err(MagnetError::MissingInfoHash);
        }
        magnet.trackers = unique_in_order(magnet.trackers);
        magnet.web_seeds = unique_in_order(magnet.web_seeds);
        Ok(magnet)
    }

    fn add_exact_topic(&mut self, topic: &str) -> Result<(), MagnetError> {
        let bad = |source| MagnetError::BadInfoHash { value: topic.to_owned(), source };
        if let Some(hash) = strip_prefix_ignore_case(topic, "urn:btih:") {
            let parsed = InfoHashV1::parse(hash).map_err(bad)?;
            set_once(&mut self.info_hashes.v1, parsed)
        } else if let Some(multihash) = strip_prefix_ignore_case(topic, "urn:btmh:") {
            let digest = strip_prefix_ignore_case(multihash, "1220")
                .filter(|d| d.len() == 64)
                .ok_or_else(|| MagnetError::UnsupportedMultihash(multihash.to_owned()))?;
            let parsed = InfoHashV2::parse(digest).map_err(bad)?;
            set_once(&mut self.info_hashes.v2, parsed)
        } else {
            Ok(()) // Another network's URN (ed2k, sha1, ...): not ours.
        }
    }

    /// True when file `index` is selected (`so` absent or naming it).
    pub fn selects(&self, index: usize) -> bool {
        self.select_only.is_empty() || self.select_only.iter().any(|r| r.contains(&index))
    }

    /// The file selection in BEP 53 form (`0,2-4`), or `None` when every file is selected.
    pub fn select_only_text(&self) -> Option<String> {
        if self.select_only.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .select_only
            .iter()
            .map(|r| {
                if r.start() == r.end() {
                    r.start().to_string()
                } else {
                    format!("{}-{}", r.start(), r.end())
                }
            })
            .collect();
        Some(parts.join(","))
    }

    /// The link as a URI: `xt` (btih, then btmh), `dn`, `tr`, `ws`, `x.pe`, `so`.
    pub fn to_uri(&self) -> String {
        let mut out = String::from("magnet:?");
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(v1) = self.info_hashes.v1 {
            params.push(("xt", format!("urn:btih:{v1}")));
        }
        if let Some(v2) = self.info_hashes.v2 {
            params.push(("xt", format!("urn:btmh:1220{v2}")));
        }
        if let Some(name) = &self.display_name {
            params.push(("dn", encode(name)));
        }
        params.extend(self.trackers.iter().map(|t| ("tr", encode(t))));
        params.extend(self.web_seeds.iter().map(|w| ("ws", encode(w))));
        params.extend(self.peers.iter().map(|p| ("x.pe", encode(&p.to_string()))));
        if let Some(so) = self.select_only_text() {
            params.push(("so", so));
        }
        for (i, (key, value)) in params.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(key);
            out.push('=');
            out.push_str(value);
        }
        out
    }
}

impl fmt::Display for Magnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_uri())
    }
}

impl std::str::FromStr for Magnet {
    type Err = MagnetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Magnet::parse(s)
    }
}

/// Everything but RFC 3986 unreserved characters is escaped.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn encode(value: &str) -> String {
    utf8_percent_encode(value, VALUE).to_string()
}

fn decode(raw: &str, param: &str) -> Result<String, MagnetError> {
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| MagnetError::NotUtf8(param.to_owned()))
}

fn strip_prefix_ignore_case<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

fn set_once<T: Copy + PartialEq + fmt::Display>(
    slot: &mut Option<T>,
    hash: T,
) -> Result<(), MagnetError> {
    match slot {
        Some(existing) if *existing != hash => {
            Err(MagnetError::ConflictingHashes(existing.to_string(), hash.to_string()))
        }
        _ => {
            *slot = Some(hash);
            Ok(())
        }
    }
}

/// Keeps the first occurrence of each string, in order.
pub(crate) fn unique_in_order(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    items.into_iter().filter(|item| seen.insert(item.clone())).collect()
}

/// `0,2,4-6` → `[0..=0, 2..=2, 4..=6]`.
fn parse_select_only(text: &str) -> Result<Vec<RangeInclusive<usize>>, MagnetError> {
    let bad = || MagnetError::BadSelectOnly(text.to_owned());
    let number = |s: &str| -> Result<usize, MagnetError> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    text.split(',')
        .map(|part| match part.split_once('-') {
            None => number(part).map(|n| n..=n),
            Some((a, b)) => {
                let (a, b) = (number(a)?, number(b)?);
                if a <= b {
                    Ok(a..=b)
                } else {
                    Err(bad())
                }
            }
        })
        .collect()
}
