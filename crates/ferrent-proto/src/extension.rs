//! BEP 10 extension protocol: the extended handshake and the ids we assign.

use ferrent_bencode::{decode, OwnedValue, Value};
use std::net::IpAddr;

/// Our local id for ut_metadata (BEP 9) messages sent to us.
pub const UT_METADATA: u8 = 1;
/// Our local id for ut_pex (BEP 11) messages sent to us.
pub const UT_PEX: u8 = 2;
/// The extended handshake's message id.
pub const HANDSHAKE_ID: u8 = 0;

/// Why an extension message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtensionError {
    /// The payload is not bencode or not a dictionary.
    #[error("{message} is not a bencoded dictionary")]
    NotADict {
        /// Which message.
        message: &'static str,
    },
    /// A field has the wrong type or an impossible value.
    #[error("{message}: field `{field}` is invalid")]
    BadField {
        /// Which message.
        message: &'static str,
        /// Which field.
        field: &'static str,
    },
}

/// The extended handshake (BEP 10), both ours and the peer's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtHandshake {
    /// Extension names and the ids the sender wants them sent with (0 = disabled).
    pub extensions: Vec<(String, u8)>,
    /// Client name and version (`v`).
    pub client: Option<String>,
    /// The sender's TCP listen port (`p`).
    pub listen_port: Option<u16>,
    /// How many outstanding requests the sender accepts (`reqq`).
    pub reqq: Option<u32>,
    /// Our address as the sender sees it (`yourip`).
    pub yourip: Option<IpAddr>,
    /// Size of the info dictionary (`metadata_size`, BEP 9).
    pub metadata_size: Option<u64>,
}

impl ExtHandshake {
    /// The id the sender wants for extension `name`, if it supports it.
    pub fn id_of(&self, name: &str) -> Option<u8> {
        self.extensions.iter().find(|(n, id)| n == name && *id != 0).map(|(_, id)| *id)
    }

    /// Parses a handshake payload. Unknown keys are ignored; a wrongly typed known key is an
    /// error only where it matters (`m`).
    pub fn decode(payload: &[u8]) -> Result<Self, ExtensionError> {
        const MSG: &str = "extended handshake";
        let value = decode(payload).map_err(|_| ExtensionError::NotADict { message: MSG })?;
        value.as_dict().ok_or(ExtensionError::NotADict { message: MSG })?;
        let mut out = ExtHandshake::default();
        if let Some(m) = value.get(b"m") {
            let dict = m.as_dict().ok_or(ExtensionError::BadField { message: MSG, field: "m" })?;
            for (name, id) in dict.iter() {
                let (Ok(name), Some(id)) = (std::str::from_utf8(name), id.as_int()) else {
                    continue;
                };
                if let Ok(id) = u8::try_from(id) {
                    out.extensions.push((name.to_string(), id));
                }
            }
        }
        let int = |key: &[u8]| value.get(key).and_then(Value::as_int);
        out.client = value.get(b"v").and_then(Value::as_str).map(|s| s.chars().take(64).collect());
        out.listen_port = int(b"p").and_then(|p| u16::try_from(p).ok()).filter(|p| *p != 0);
        out.reqq = int(b"reqq").and_then(|r| u32::try_from(r).ok()).filter(|r| *r > 0);
        out.metadata_size = int(b"metadata_size").and_then(|s| u64::try_from(s).ok());
        out.yourip = value.get(b"yourip").and_then(Value::as_bytes).and_then(|b| match b.len() {
            4 => Some(IpAddr::from(<[u8; 4]>::try_from(b).ok()?)),
            16 => Some(IpAddr::from(<[u8; 16]>::try_from(b).ok()?)),
            _ => None,
        });
        Ok(out)
    }

    /// Encodes the handshake.
    pub fn encode(&self) -> Vec<u8> {
        let m = OwnedValue::dict(
            self.extensions.iter().map(|(n, id)| (n.as_bytes(), OwnedValue::Int(i64::from(*id)))),
        );
        let mut dict = OwnedValue::dict([("m", m)]);
        if let Some(v) = &self.client {
            dict = dict.with("v", v.as_str());
        }
        if let Some(p) = self.listen_port {
            dict = dict.with("p", i64::from(p));
        }
        if let Some(r) = self.reqq {
            dict = dict.with("reqq", i64::from(r));
        }
        if let Some(size) = self.metadata_size {
            dict = dict.with("metadata_size", size as i64);
        }
        if let Some(ip) = self.yourip {
            let bytes = match ip {
                IpAddr::V4(v4) => v4.octets().to_vec(),
                IpAddr::V6(v6) => v6.octets().to_vec(),
            };
            dict = dict.with("yourip", bytes);
        }
        dict.encode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_lookup() {
        let hs = ExtHandshake {
            extensions: vec![("ut_metadata".into(), 3), ("ut_pex".into(), 0)],
            client: Some("ferrent 0.1".into()),
            listen_port: Some(6881),
            reqq: Some(500),
            yourip: Some("127.0.0.1".parse().unwrap()),
            metadata_size: Some(12345),
        };
        let back = ExtHandshake::decode(&hs.encode()).unwrap();
        assert_eq!(back, hs);
        assert_eq!(back.id_of("ut_metadata"), Some(3));
        assert_eq!(back.id_of("ut_pex"), None);
    }

    #[test]
    fn refuses_garbage_and_ignores_odd_fields() {
        assert!(ExtHandshake::decode(b"i3e").is_err());
        assert!(ExtHandshake::decode(b"d1:mi1ee").is_err());
        let odd = ExtHandshake::decode(b"d1:md1:xi999ee1:pi-5e4:reqqi0ee").unwrap();
        assert_eq!(odd.id_of("x"), None);
        assert_eq!(odd.listen_port, None);
        assert_eq!(odd.reqq, None);
    }
}
