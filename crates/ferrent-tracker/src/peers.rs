//! Compact peer lists: 6 bytes per IPv4 peer, 18 bytes per IPv6 peer (BEP 23, BEP 7, BEP 15).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The size of one compact IPv4 peer: 4 address bytes and a big-endian port.
pub const COMPACT_V4_LEN: usize = 6;
/// The size of one compact IPv6 peer: 16 address bytes and a big-endian port.
pub const COMPACT_V6_LEN: usize = 18;

/// Address family of a compact peer list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    V4,
    V6,
}

impl Family {
    /// The size of one entry.
    pub(crate) fn entry_len(self) -> usize {
        match self {
            Family::V4 => COMPACT_V4_LEN,
            Family::V6 => COMPACT_V6_LEN,
        }
    }
}

/// Appends the peers of a compact list to `out`, ignoring a trailing partial entry.
///
/// Entries that cannot be connected to (port 0 or the unspecified address) are skipped.
pub(crate) fn parse_compact(bytes: &[u8], family: Family, out: &mut Vec<SocketAddr>) {
    for entry in bytes.chunks_exact(family.entry_len()) {
        let (ip_bytes, port_bytes) = entry.split_at(entry.len() - 2);
        let port = u16::from_be_bytes([port_bytes[0], port_bytes[1]]);
        let ip = match family {
            Family::V4 => {
                let octets: [u8; 4] = ip_bytes.try_into().unwrap_or_default();
                IpAddr::V4(Ipv4Addr::from(octets))
            }
            Family::V6 => {
                let octets: [u8; 16] = ip_bytes.try_into().unwrap_or_default();
                IpAddr::V6(Ipv6Addr::from(octets))
            }
        };
        push_peer(out, SocketAddr::new(ip, port));
    }
}

/// Appends `addr` to `out` if it can be connected to.
pub(crate) fn push_peer(out: &mut Vec<SocketAddr>, addr: SocketAddr) {
    if addr.port() != 0 && !addr.ip().is_unspecified() {
        out.push(addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_entries_decode_address_and_big_endian_port() {
        let bytes = [10, 0, 0, 1, 0x1a, 0xe1, 192, 168, 1, 2, 0x00, 0x50];
        let mut out = Vec::new();
        parse_compact(&bytes, Family::V4, &mut out);
        assert_eq!(out, vec!["10.0.0.1:6881".parse().unwrap(), "192.168.1.2:80".parse().unwrap()]);
    }

    #[test]
    fn ipv6_entries_decode() {
        let mut bytes = Ipv6Addr::LOCALHOST.octets().to_vec();
        bytes.extend_from_slice(&51413u16.to_be_bytes());
        let mut out = Vec::new();
        parse_compact(&bytes, Family::V6, &mut out);
        assert_eq!(out, vec!["[::1]:51413".parse().unwrap()]);
    }

    #[test]
    fn unusable_entries_and_partial_tail_are_skipped() {
        let bytes = [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 9, 5, 6, 7, 8, 0, 1, 9, 9];
        let mut out = Vec::new();
        parse_compact(&bytes, Family::V4, &mut out);
        assert_eq!(out, vec!["5.6.7.8:1".parse().unwrap()]);
    }
}
