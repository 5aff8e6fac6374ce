//! Info hashes: the identity of a torrent.

use std::fmt;
use std::str::FromStr;

/// Why a textual info hash was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InfoHashError {
    /// The text has a length that is neither hex nor base32 for this hash size.
    #[error("info hash has {0} characters; expected 40 hex or 32 base32 (v1) or 64 hex (v2)")]
    BadLength(usize),
    /// The text is not valid hex.
    #[error("info hash is not valid hex")]
    BadHex,
    /// The text is not valid base32.
    #[error("info hash is not valid base32")]
    BadBase32,
}

/// A BitTorrent v1 info hash: SHA-1 of the bencoded info dictionary.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct InfoHashV1(pub [u8; 20]);

/// A BitTorrent v2 info hash: SHA-256 of the bencoded info dictionary (BEP 52).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct InfoHashV2(pub [u8; 32]);

impl InfoHashV1 {
    /// Parses 40 hex characters or 32 base32 characters (as found in magnet links).
    pub fn parse(text: &str) -> Result<Self, InfoHashError> {
        let mut out = [0u8; 20];
        match text.len() {
            40 => hex::decode_to_slice(text, &mut out).map_err(|_| InfoHashError::BadHex)?,
            32 => {
                let upper = text.to_ascii_uppercase();
                let bytes = data_encoding::BASE32_NOPAD
                    .decode(upper.as_bytes())
                    .map_err(|_| InfoHashError::BadBase32)?;
                out.copy_from_slice(&bytes);
            }
            n => return Err(InfoHashError::BadLength(n)),
        }
        Ok(Self(out))
    }

    /// Lowercase hex form (40 characters).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl InfoHashV2 {
    /// Parses 64 hex characters.
    pub fn parse(text: &str) -> Result<Self, InfoHashError> {
        let mut out = [0u8; 32];
        if text.len() != 64 {
            return Err(InfoHashError::BadLength(text.len()));
        }
        hex::decode_to_slice(text, &mut out).map_err(|_| InfoHashError::BadHex)?;
        Ok(Self(out))
    }

    /// Lowercase hex form (64 characters).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The first 20 bytes: how a v2 torrent is named in handshakes, trackers and the DHT.
    pub fn truncated(&self) -> InfoHashV1 {
        let mut out = [0u8; 20];
        out.copy_from_slice(&self.0[..20]);
        InfoHashV1(out)
    }
}

impl FromStr for InfoHashV1 {
    type Err = InfoHashError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl FromStr for InfoHashV2 {
    type Err = InfoHashError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

macro_rules! hex_fmt {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($t), self.to_hex())
            }
        }
    };
}
hex_fmt!(InfoHashV1);
hex_fmt!(InfoHashV2);

/// The identities of one torrent: v1, v2, or both for a hybrid torrent.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct InfoHashes {
    /// SHA-1 identity (v1 and hybrid torrents).
    pub v1: Option<InfoHashV1>,
    /// SHA-256 identity (v2 and hybrid torrents).
    pub v2: Option<InfoHashV2>,
}

impl InfoHashes {
    /// The 20 bytes used on the wire: the v1 hash, else the truncated v2 hash.
    ///
    /// # Panics
    /// Never for values built by this crate, which always carry at least one hash; a
    /// hand-built empty value yields all zeros.
    pub fn wire(&self) -> InfoHashV1 {
        match (self.v1, self.v2) {
            (Some(v1), _) => v1,
            (None, Some(v2)) => v2.truncated(),
            (None, None) => InfoHashV1::default(),
        }
    }

    /// True when `hash` names this torrent on the wire (v1, or truncated v2).
    pub fn matches_wire(&self, hash: &InfoHashV1) -> bool {
        self.v1.as_ref() == Some(hash) || self.v2.map(|h| h.truncated()).as_ref() == Some(hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_base32_agree() {
        let hex = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
        let a = InfoHashV1::parse(hex).unwrap();
        let b32 = data_encoding::BASE32_NOPAD.encode(&a.0).to_lowercase();
        assert_eq!(InfoHashV1::parse(&b32).unwrap(), a);
        assert_eq!(a.to_string(), hex);
        assert_eq!(InfoHashV1::parse("abc"), Err(InfoHashError::BadLength(3)));
        assert_eq!(InfoHashV1::parse(&"z".repeat(40)), Err(InfoHashError::BadHex));
    }

    #[test]
    fn wire_hash_prefers_v1() {
        let v2 = InfoHashV2([7; 32]);
        let only_v2 = InfoHashes { v1: None, v2: Some(v2) };
        assert_eq!(only_v2.wire(), InfoHashV1([7; 20]));
        let both = InfoHashes { v1: Some(InfoHashV1([1; 20])), v2: Some(v2) };
        assert_eq!(both.wire(), InfoHashV1([1; 20]));
        assert!(both.matches_wire(&InfoHashV1([7; 20])));
    }
}
