//! Compact address formats (BEP 5, BEP 32) and which addresses may enter the routing table.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::id::NodeId;

/// Length of a compact IPv4 peer: 4 address bytes and a big-endian port.
pub const COMPACT_PEER_V4: usize = 6;
/// Length of a compact IPv6 peer: 16 address bytes and a big-endian port.
pub const COMPACT_PEER_V6: usize = 18;
/// Length of a compact IPv4 node: a 20-byte id and a compact peer (`nodes`).
pub const COMPACT_NODE_V4: usize = 20 + COMPACT_PEER_V4;
/// Length of a compact IPv6 node: a 20-byte id and a compact IPv6 peer (`nodes6`).
pub const COMPACT_NODE_V6: usize = 20 + COMPACT_PEER_V6;

/// A DHT node: its id and where it listens.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct NodeInfo {
    /// The node's id.
    pub id: NodeId,
    /// Its UDP address.
    pub addr: SocketAddr,
}

/// The two address families; one DHT instance routes within one family (BEP 32).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum Family {
    /// IPv4: nodes travel in `nodes`.
    #[default]
    V4,
    /// IPv6: nodes travel in `nodes6`.
    V6,
}

impl Family {
    /// The family of `addr`, treating IPv4-mapped IPv6 addresses as IPv4.
    pub fn of(addr: &SocketAddr) -> Family {
        match canonical_ip(addr.ip()) {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// Length of one compact node entry of this family.
    pub fn node_len(self) -> usize {
        match self {
            Family::V4 => COMPACT_NODE_V4,
            Family::V6 => COMPACT_NODE_V6,
        }
    }
}

/// Unwraps IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) to IPv4.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// `addr` with an IPv4-mapped address unwrapped.
pub fn canonical_addr(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(canonical_ip(addr.ip()), addr.port())
}

/// Appends the compact form of `ip` (4 or 16 bytes).
pub fn write_compact_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match canonical_ip(ip) {
        IpAddr::V4(v4) => out.extend_from_slice(&v4.octets()),
        IpAddr::V6(v6) => out.extend_from_slice(&v6.octets()),
    }
}

/// Appends the compact form of `addr` (6 or 18 bytes).
pub fn write_compact_peer(out: &mut Vec<u8>, addr: SocketAddr) {
    write_compact_ip(out, addr.ip());
    out.extend_from_slice(&addr.port().to_be_bytes());
}

/// The compact form of `addr` as a new vector.
pub fn compact_peer(addr: SocketAddr) -> Vec<u8> {
    let mut out = Vec::with_capacity(COMPACT_PEER_V6);
    write_compact_peer(&mut out, addr);
    out
}

/// Reads a compact peer of 6 (IPv4) or 18 (IPv6) bytes; `None` for any other length.
pub fn read_compact_peer(bytes: &[u8]) -> Option<SocketAddr> {
    if bytes.len() != COMPACT_PEER_V4 && bytes.len() != COMPACT_PEER_V6 {
        return None;
    }
    let (ip, port) = bytes.split_at(bytes.len() - 2);
    let port = u16::from_be_bytes(port.try_into().ok()?);
    Some(SocketAddr::new(read_compact_ip(ip)?, port))
}

/// Reads a compact IP address of 4 or 16 bytes.
pub fn read_compact_ip(bytes: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(IpAddr::V4(Ipv4Addr::from(v4)));
    }
    let v6 = <[u8; 16]>::try_from(bytes).ok()?;
    Some(canonical_ip(IpAddr::V6(Ipv6Addr::from(v6))))
}

/// Appends the compact entries of the nodes of `family` (others are skipped).
pub fn write_compact_nodes(out: &mut Vec<u8>, nodes: &[NodeInfo], family: Family) {
    for node in nodes.iter().filter(|n| Family::of(&n.addr) == family) {
        out.extend_from_slice(&node.id.0);
        write_compact_peer(out, node.addr);
    }
}

/// Reads concatenated compact nodes of `family`; `None` when the length is not a multiple
/// of the entry size.
pub fn read_compact_nodes(bytes: &[u8], family: Family) -> Option<Vec<NodeInfo>> {
    let entries = bytes.chunks_exact(family.node_len());
    if !entries.remainder().is_empty() {
        return None;
    }
    entries
        .map(|entry| {
            let (id, peer) = entry.split_at(20);
            Some(NodeInfo { id: NodeId(id.try_into().ok()?), addr: read_compact_peer(peer)? })
        })
        .collect()
}

/// Which kinds of addresses may be queried and enter the routing table.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct AddressPolicy {
    /// Accept loopback addresses (127.0.0.0/8, `::1`): for tests and local swarms.
    pub allow_loopback: bool,
    /// Accept private, shared and link-local addresses (RFC 1918, 100.64/10,
    /// 169.254/16, fc00::/7, fe80::/10): for a DHT on a LAN.
    pub allow_private: bool,
}

impl AddressPolicy {
    /// True when a node at `addr` may be contacted and remembered.
    pub fn allows(&self, addr: &SocketAddr) -> bool {
        if addr.port() == 0 {
            return false;
        }
        let ip = canonical_ip(addr.ip());
        if ip.is_loopback() {
            return self.allow_loopback;
        }
        if is_local(ip) {
            return self.allow_private;
        }
        is_globally_plausible(ip)
    }
}

/// True for loopback, private, shared (CGNAT) and link-local addresses: the addresses
/// BEP 42 exempts from node-id checks.
pub fn is_local(ip: IpAddr) -> bool {
    match canonical_ip(ip) {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
}

/// False for addresses no internet host can have: unspecified, multicast, broadcast and
/// reserved ranges.
fn is_globally_plausible(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, ..] = v4.octets();
            !(v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast() || a == 0 || a >= 240)
        }
        IpAddr::V6(v6) => !(v6.is_unspecified() || v6.is_multicast()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn compact_peers_round_trip() {
        for a in ["1.2.3.4:6881", "[2001:db8::1]:51413"] {
            let bytes = compact_peer(addr(a));
            assert_eq!(read_compact_peer(&bytes), Some(addr(a)));
        }
        assert_eq!(compact_peer(addr("1.2.3.4:258")), [1, 2, 3, 4, 1, 2]);
        assert_eq!(read_compact_peer(&[1, 2, 3, 4, 5]), None);
        assert_eq!(read_compact_peer(&[0; 7]), None);
    }

    #[test]
    fn compact_nodes_round_trip_and_filter_family() {
        let nodes = [
            NodeInfo { id: NodeId([1; 20]), addr: addr("1.2.3.4:1") },
            NodeInfo { id: NodeId([2; 20]), addr: addr("[2001:db8::2]:2") },
            NodeInfo { id: NodeId([3; 20]), addr: addr("5.6.7.8:3") },
        ];
        let mut v4 = Vec::new();
        write_compact_nodes(&mut v4, &nodes, Family::V4);
        assert_eq!(v4.len(), 2 * COMPACT_NODE_V4);
        assert_eq!(read_compact_nodes(&v4, Family::V4).unwrap(), [nodes[0], nodes[2]]);
        let mut v6 = Vec::new();
        write_compact_nodes(&mut v6, &nodes, Family::V6);
        assert_eq!(read_compact_nodes(&v6, Family::V6).unwrap(), [nodes[1]]);
        assert_eq!(read_compact_nodes(&v4[1..], Family::V4), None);
    }

    #[test]
    fn policy() {
        let strict = AddressPolicy::default();
        assert!(strict.allows(&addr("8.8.8.8:53")));
        assert!(!strict.allows(&addr("8.8.8.8:0")));
        assert!(!strict.allows(&addr("127.0.0.1:6881")));
        assert!(!strict.allows(&addr("192.168.1.1:6881")));
        assert!(!strict.allows(&addr("100.100.1.1:6881")));
        assert!(!strict.allows(&addr("224.0.0.1:6881")));
        assert!(!strict.allows(&addr("255.255.255.255:6881")));
        assert!(!strict.allows(&addr("0.0.0.0:6881")));
        assert!(!strict.allows(&addr("[::ffff:127.0.0.1]:6881")));
        assert!(!strict.allows(&addr("[fe80::1]:6881")));
        assert!(strict.allows(&addr("[2001:db8::1]:6881")));
        let loopback = AddressPolicy { allow_loopback: true, allow_private: false };
        assert!(loopback.allows(&addr("127.0.0.1:6881")));
        assert!(loopback.allows(&addr("[::1]:6881")));
        assert!(!loopback.allows(&addr("10.0.0.1:6881")));
        let lan = AddressPolicy { allow_loopback: false, allow_private: true };
        assert!(lan.allows(&addr("10.0.0.1:6881")));
        assert!(!lan.allows(&addr("127.0.0.1:6881")));
    }
}
