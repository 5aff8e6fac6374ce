//! BEP 11 peer exchange (ut_pex) messages.

use crate::extension::ExtensionError;
use ferrent_bencode::{decode, OwnedValue, Value};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// At most this many peers are sent in each of `added` and `dropped`, and at most this many
/// are taken from a received message (the rest is ignored).
pub const PEX_MAX_PEERS: usize = 50;

/// Flag bit: the peer prefers encryption.
pub const FLAG_ENCRYPTION: u8 = 0x01;
/// Flag bit: the peer is a seed.
pub const FLAG_SEED: u8 = 0x02;
/// Flag bit: the peer is reachable (we connected to it, or it told us its port).
pub const FLAG_CONNECTABLE: u8 = 0x10;

/// A ut_pex message: peers that joined and left the sender's swarm since its last message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PexMessage {
    /// New peers with their flags.
    pub added: Vec<(SocketAddr, u8)>,
    /// Peers gone.
    pub dropped: Vec<SocketAddr>,
}

fn compact(addrs: impl Iterator<Item = SocketAddr>, v6: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for addr in addrs {
        match (addr.ip(), v6) {
            (IpAddr::V4(ip), false) => out.extend_from_slice(&ip.octets()),
            (IpAddr::V6(ip), true) => out.extend_from_slice(&ip.octets()),
            _ => continue,
        }
        out.extend_from_slice(&addr.port().to_be_bytes());
    }
    out
}

fn parse_compact(bytes: &[u8], v6: bool) -> Vec<SocketAddr> {
    let size = if v6 { 18 } else { 6 };
    bytes
        .chunks_exact(size)
        .filter_map(|c| {
            let port = u16::from_be_bytes([c[size - 2], c[size - 1]]);
            let ip = if v6 {
                IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&c[..16]).ok()?))
            } else {
                IpAddr::V4(Ipv4Addr::new(c[0], c[1], c[2], c[3]))
            };
            (port != 0 && !ip.is_unspecified()).then_some(SocketAddr::new(ip, port))
        })
        .take(PEX_MAX_PEERS)
        .collect()
}

impl PexMessage {
    /// Parses a ut_pex payload; at most [`PEX_MAX_PEERS`] of each list are kept.
    pub fn decode(payload: &[u8]) -> Result<Self, ExtensionError> {
        const MSG: &str = "ut_pex message";
        let value = decode(payload).map_err(|_| ExtensionError::NotADict { message: MSG })?;
        value.as_dict().ok_or(ExtensionError::NotADict { message: MSG })?;
        let bytes = |key: &[u8]| value.get(key).and_then(Value::as_bytes).unwrap_or_default();
        let mut out = PexMessage::default();
        for (key, flags_key, v6) in
            [(b"added" as &[u8], b"added.f" as &[u8], false), (b"added6", b"added6.f", true)]
        {
            let flags = bytes(flags_key);
            for (i, addr) in parse_compact(bytes(key), v6).into_iter().enumerate() {
                out.added.push((addr, flags.get(i).copied().unwrap_or(0)));
            }
        }
        out.dropped = parse_compact(bytes(b"dropped"), false);
        out.dropped.extend(parse_compact(bytes(b"dropped6"), true));
        out.added.truncate(PEX_MAX_PEERS);
        out.dropped.truncate(PEX_MAX_PEERS);
        Ok(out)
    }

    /// Encodes the message (callers keep each list within [`PEX_MAX_PEERS`]).
    pub fn encode(&self) -> Vec<u8> {
        let added = || self.added.iter().map(|(a, _)| *a);
        let flags = |v6: bool| -> Vec<u8> {
            self.added.iter().filter(|(a, _)| a.is_ipv6() == v6).map(|(_, f)| *f).collect()
        };
        OwnedValue::dict([
            ("added", OwnedValue::bytes(compact(added(), false))),
            ("added.f", OwnedValue::bytes(flags(false))),
            ("added6", OwnedValue::bytes(compact(added(), true))),
            ("added6.f", OwnedValue::bytes(flags(true))),
            ("dropped", OwnedValue::bytes(compact(self.dropped.iter().copied(), false))),
            ("dropped6", OwnedValue::bytes(compact(self.dropped.iter().copied(), true))),
        ])
        .encode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_v4_and_v6() {
        let msg = PexMessage {
            added: vec![
                ("10.0.0.1:6881".parse().unwrap(), FLAG_SEED),
                ("[2001:db8::1]:51413".parse().unwrap(), FLAG_CONNECTABLE),
            ],
            dropped: vec!["10.0.0.2:1".parse().unwrap()],
        };
        assert_eq!(PexMessage::decode(&msg.encode()).unwrap(), msg);
    }

    #[test]
    fn hostile_lists_are_capped_and_cleaned() {
        let mut added = Vec::new();
        for i in 0..1000u32 {
            added.extend_from_slice(&i.to_be_bytes());
            added.extend_from_slice(&[0x1a, 0xe1]);
        }
        added.extend_from_slice(&[1, 2, 3]); // trailing junk
        let payload = OwnedValue::dict([("added", OwnedValue::bytes(added))]).encode();
        let msg = PexMessage::decode(&payload).unwrap();
        assert_eq!(msg.added.len(), PEX_MAX_PEERS);
        assert!(msg.added.iter().all(|(a, _)| !a.ip().is_unspecified()));
        assert!(PexMessage::decode(b"le").is_err());
    }
}
