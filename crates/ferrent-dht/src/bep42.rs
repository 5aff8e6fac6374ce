//! BEP 42: node ids tied to the node's IP address, so one host cannot pick ids at will.
//!
//! The first 21 bits of a compliant id are the top bits of `crc32c((ip & mask) | r << 29)`
//! (for IPv6, over the first 8 address bytes with their own mask), where `r` is the low 3 bits
//! of the id's last byte. Local addresses (loopback, private, link-local) are exempt.

use std::net::IpAddr;

use rand::RngCore;

use crate::addr::{canonical_ip, is_local};
use crate::id::NodeId;

const V4_MASK: [u8; 4] = [0x03, 0x0f, 0x3f, 0xff];
const V6_MASK: [u8; 8] = [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];

/// CRC-32C (Castagnoli), the checksum BEP 42 specifies.
pub fn crc32c(data: &[u8]) -> u32 {
    const POLY: u32 = 0x82f6_3b78; // reflected 0x1EDC6F41
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let carry = crc & 1;
            crc >>= 1;
            if carry != 0 {
                crc ^= POLY;
            }
        }
    }
    !crc
}

/// The checksum whose top 21 bits a compliant id for `ip` starts with, for `r` in 0..8.
fn prefix_crc(ip: IpAddr, r: u8) -> u32 {
    let mut buf = [0u8; 8];
    let used = match canonical_ip(ip) {
        IpAddr::V4(v4) => {
            for (b, (o, m)) in buf.iter_mut().zip(v4.octets().iter().zip(V4_MASK)) {
                *b = o & m;
            }
            4
        }
        IpAddr::V6(v6) => {
            for (b, (o, m)) in buf.iter_mut().zip(v6.octets().iter().zip(V6_MASK)) {
                *b = o & m;
            }
            8
        }
    };
    buf[0] |= (r & 0x07) << 5;
    crc32c(&buf[..used])
}

/// A compliant id for a node whose external address is `ip`; the other bits are random.
pub fn generate_id(ip: IpAddr, rng: &mut impl RngCore) -> NodeId {
    let mut id = NodeId::random(rng).0;
    let r = id[19] & 0x07;
    let crc = prefix_crc(ip, r).to_be_bytes();
    id[0] = crc[0];
    id[1] = crc[1];
    id[2] = (crc[2] & 0xf8) | (id[2] & 0x07);
    NodeId(id)
}

/// True when `id` is acceptable for a node at `ip`: compliant, or `ip` is a local address.
pub fn id_matches_ip(id: &NodeId, ip: IpAddr) -> bool {
    if is_local(ip) {
        return true;
    }
    let crc = prefix_crc(ip, id.0[19] & 0x07).to_be_bytes();
    id.0[0] == crc[0] && id.0[1] == crc[1] && (id.0[2] & 0xf8) == (crc[2] & 0xf8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    #[test]
    fn crc32c_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    }

    /// The example ids of BEP 42's table: (ip, random byte, first 3 id bytes).
    const EXAMPLES: [(&str, u8, [u8; 3]); 5] = [
        ("124.31.75.21", 1, [0x5f, 0xbf, 0xbf]),
        ("21.75.31.124", 86, [0x5a, 0x3c, 0xe9]),
        ("65.23.51.170", 22, [0xa5, 0xd4, 0x32]),
        ("84.124.73.14", 65, [0x1b, 0x03, 0x21]),
        ("43.213.53.83", 90, [0xe5, 0x6f, 0x6c]),
    ];

    #[test]
    fn bep42_examples_verify() {
        for (ip, rand, prefix) in EXAMPLES {
            let ip: IpAddr = ip.parse().unwrap();
            let mut id = [0x55u8; 20];
            id[..3].copy_from_slice(&prefix);
            id[19] = rand;
            assert!(id_matches_ip(&NodeId(id), ip), "{ip}");
            id[1] ^= 0x01;
            assert!(!id_matches_ip(&NodeId(id), ip), "{ip} with a flipped bit");
        }
    }

    #[test]
    fn generated_ids_verify_and_are_exempt_locally() {
        let mut rng = SmallRng::seed_from_u64(42);
        for ip in ["1.2.3.4", "203.0.113.9", "2001:db8::7"] {
            let ip: IpAddr = ip.parse().unwrap();
            for _ in 0..20 {
                let id = generate_id(ip, &mut rng);
                assert!(id_matches_ip(&id, ip));
            }
        }
        let random = NodeId([0xaa; 20]);
        assert!(!id_matches_ip(&random, "1.2.3.4".parse().unwrap()));
        assert!(id_matches_ip(&random, "127.0.0.1".parse().unwrap()));
        assert!(id_matches_ip(&random, "192.168.0.3".parse().unwrap()));
    }
}
