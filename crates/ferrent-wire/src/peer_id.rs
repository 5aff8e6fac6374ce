//! Peer ids: generating ours and naming the client behind someone else's.

use std::fmt;

use rand::distributions::Alphanumeric;
use rand::{Rng, RngCore};

/// A 20-byte peer id, as sent in handshakes and tracker announces.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub [u8; 20]);

/// The first eight bytes of every peer id ferrent generates: Azureus style `-FE` followed by
/// this crate's major, minor and patch version, one character each (`0`-`9`, then `A`-`Z`
/// for 10 to 35), and `0`.
pub const FERRENT_PREFIX: [u8; 8] = [
    b'-',
    b'F',
    b'E',
    version_char(env!("CARGO_PKG_VERSION_MAJOR")),
    version_char(env!("CARGO_PKG_VERSION_MINOR")),
    version_char(env!("CARGO_PKG_VERSION_PATCH")),
    b'0',
    b'-',
];

/// One Azureus-style version character for a decimal version component; components above
/// 35 show as `Z`.
const fn version_char(component: &str) -> u8 {
    let digits = component.as_bytes();
    let mut value = 0u32;
    let mut i = 0;
    while i < digits.len() {
        value = value.saturating_mul(10).saturating_add((digits[i] - b'0') as u32);
        i += 1;
    }
    match value {
        0..=9 => b'0' + value as u8,
        10..=35 => b'A' + (value - 10) as u8,
        _ => b'Z',
    }
}

impl PeerId {
    /// A fresh id for ferrent: [`FERRENT_PREFIX`] followed by 12 random ASCII letters and
    /// digits drawn from `rng`.
    pub fn generate<R: RngCore + ?Sized>(rng: &mut R) -> Self {
        let mut id = [0; 20];
        id[..8].copy_from_slice(&FERRENT_PREFIX);
        for byte in &mut id[8..] {
            *byte = rng.sample(Alphanumeric);
        }
        Self(id)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// The client and version that made this id, for the common Azureus-style
    /// (`-qB4500-` is "qBittorrent 4.5.0"), Mainline-style (`M7-4-3--` is "Mainline 7.4.3",
    /// `A2-1-37-0-` is "aria2 1.37.0") and Shadow-style (`T03I--` is "BitTornado 0.3.18")
    /// conventions. `None` for a client this crate does not know.
    pub fn client_name(&self) -> Option<String> {
        azureus_style(&self.0).or_else(|| mainline_style(&self.0)).or_else(|| shadow_style(&self.0))
    }
}

impl From<[u8; 20]> for PeerId {
    fn from(bytes: [u8; 20]) -> Self {
        Self(bytes)
    }
}

impl From<PeerId> for [u8; 20] {
    fn from(id: PeerId) -> Self {
        id.0
    }
}

/// The id as ASCII, non-printable bytes escaped (`\x00`).
impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.escape_ascii())
    }
}

impl fmt::Debug for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PeerId(\"{self}\")")
    }
}

/// How an Azureus-style client writes its four version characters.
#[derive(Clone, Copy)]
enum VersionStyle {
    /// Major, minor, patch; the fourth character (often a build tag) is not shown.
    Three,
    /// Four components.
    Four,
    /// Transmission's own scheme (see [`transmission_version`]).
    Transmission,
}

/// Azureus-style client codes: `-` + code + four version characters + `-`.
const AZUREUS_CLIENTS: &[(&[u8; 2], &str, VersionStyle)] = &[
    (b"FE", "ferrent", VersionStyle::Three),
    (b"qB", "qBittorrent", VersionStyle::Three),
    (b"TR", "Transmission", VersionStyle::Transmission),
    (b"LT", "libtorrent (Rasterbar)", VersionStyle::Three),
    (b"lt", "libtorrent (rakshasa)", VersionStyle::Three),
    (b"UT", "µTorrent", VersionStyle::Three),
    (b"UM", "µTorrent Mac", VersionStyle::Three),
    (b"UW", "µTorrent Web", VersionStyle::Three),
    (b"BT", "BitTorrent", VersionStyle::Three),
    (b"DE", "Deluge", VersionStyle::Three),
    (b"rQ", "rqbit", VersionStyle::Three),
    (b"RQ", "rqbit", VersionStyle::Three),
    (b"AZ", "Vuze", VersionStyle::Four),
    (b"BI", "BiglyBT", VersionStyle::Four),
    (b"KT", "KTorrent", VersionStyle::Three),
    (b"WW", "WebTorrent", VersionStyle::Three),
    (b"XL", "Xunlei", VersionStyle::Three),
    (b"SD", "Thunder", VersionStyle::Three),
];

fn azureus_style(id: &[u8; 20]) -> Option<String> {
    let [b'-', c1, c2, v1, v2, v3, v4, b'-', ..] = *id else { return None };
    let (_, name, style) = AZUREUS_CLIENTS.iter().find(|(code, ..)| **code == [c1, c2])?;
    let version = match style {
        VersionStyle::Three => dotted(&[v1, v2, v3]),
        VersionStyle::Four => dotted(&[v1, v2, v3, v4]),
        VersionStyle::Transmission => transmission_version([v1, v2, v3, v4]),
    };
    Some(match version {
        Some(version) => format!("{name} {version}"),
        // A known client with a version we cannot read: the name alone is still useful.
        None => (*name).to_owned(),
    })
}

/// One version character: `0`-`9`, then `A`-`Z` (or `a`-`z`) for 10 to 35.
fn base36(c: u8) -> Option<u32> {
    char::from(c).to_digit(36)
}

/// Version characters as dot-separated numbers.
fn dotted(chars: &[u8]) -> Option<String> {
    let parts: Option<Vec<String>> =
        chars.iter().map(|&c| base36(c).map(|n| n.to_string())).collect();
    Some(parts?.join("."))
}

/// Transmission's scheme: `-TR0006-` is 0.6, `-TR0072-` is 0.72, `-TR2940-` is 2.94 and
/// `-TR111Z-` is 1.11+ (a development build), while from 4.0 on `-TR4050-` is 4.0.5.
fn transmission_version(v: [u8; 4]) -> Option<String> {
    let digit = |c: u8| char::from(c).to_digit(10);
    match v {
        [b'0', b'0', b'0', patch] => Some(format!("0.{}", digit(patch)?)),
        [b'0', b'0', minor1, minor2] => Some(format!("0.{}{}", digit(minor1)?, digit(minor2)?)),
        [major, minor1, minor2, tag] if digit(major)? <= 3 => {
            let dev = if matches!(tag, b'X' | b'Z') { "+" } else { "" };
            Some(format!("{}.{}{}{dev}", digit(major)?, digit(minor1)?, digit(minor2)?))
        }
        [major, minor, patch, _] => dotted(&[major, minor, patch]),
    }
}

/// Mainline-style ids: a client code, then decimal components each followed by `-`.
const MAINLINE_CLIENTS: &[(&[u8], &str)] =
    &[(b"A2-", "aria2"), (b"M", "Mainline"), (b"Q", "Queen Bee")];

fn mainline_style(id: &[u8; 20]) -> Option<String> {
    MAINLINE_CLIENTS.iter().find_map(|(code, name)| {
        let numbers = dashed_numbers(id.strip_prefix(*code)?, 3)?;
        let version: Vec<String> = numbers.iter().map(u32::to_string).collect();
        Some(format!("{name} {}", version.join(".")))
    })
}

/// `count` decimal numbers of one to three digits, each followed by a `-`.
fn dashed_numbers(mut bytes: &[u8], count: usize) -> Option<Vec<u32>> {
    let mut numbers = Vec::with_capacity(count);
    for _ in 0..count {
        let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
        if !(1..=3).contains(&digits) {
            return None;
        }
        let (number, rest) = bytes.split_at(digits);
        bytes = rest.strip_prefix(b"-")?;
        numbers.push(std::str::from_utf8(number).ok()?.parse().ok()?);
    }
    Some(numbers)
}

/// Shadow-style ids: a client letter, one to four version characters padded with `-` to six
/// bytes, then `--`.
const SHADOW_CLIENTS: &[(u8, &str)] = &[
    (b'A', "ABC"),
    (b'O', "Osprey Permaseed"),
    (b'R', "Tribler"),
    (b'S', "Shadow"),
    (b'T', "BitTornado"),
    (b'U', "UPnP NAT Bit Torrent"),
];

/// The characters of a Shadow-style version, each standing for its position here.
const SHADOW_DIGITS: &[u8; 64] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-";

fn shadow_style(id: &[u8; 20]) -> Option<String> {
    let [code, v1, v2, v3, v4, v5, b'-', b'-', ..] = *id else { return None };
    let (_, name) = SHADOW_CLIENTS.iter().find(|(c, _)| *c == code)?;
    let chars = [v1, v2, v3, v4, v5];
    let len = chars.iter().position(|&c| c == b'-')?;
    let (version, padding) = chars.split_at(len);
    if version.is_empty() || padding.iter().any(|&c| c != b'-') {
        return None;
    }
    let parts: Option<Vec<String>> = version
        .iter()
        .map(|c| SHADOW_DIGITS.iter().position(|d| d == c).map(|n| n.to_string()))
        .collect();
    Some(format!("{name} {}", parts?.join(".")))
}
