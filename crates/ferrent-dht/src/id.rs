//! Node ids and the XOR metric.

use std::fmt;

use ferrent_core::InfoHashV1;
use rand::RngCore;

/// Number of bits in a node id.
pub const ID_BITS: usize = 160;

/// A 160-bit DHT node id; info hashes live in the same space.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct NodeId(pub [u8; 20]);

/// The XOR distance between two ids; smaller is closer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Distance(pub [u8; 20]);

impl NodeId {
    /// A uniformly random id.
    pub fn random(rng: &mut impl RngCore) -> Self {
        let mut id = [0u8; 20];
        rng.fill_bytes(&mut id);
        Self(id)
    }

    /// The XOR distance to `other`.
    pub fn distance(&self, other: &NodeId) -> Distance {
        let mut out = [0u8; 20];
        for (o, (a, b)) in out.iter_mut().zip(self.0.iter().zip(other.0.iter())) {
            *o = a ^ b;
        }
        Distance(out)
    }

    /// How many leading bits `self` and `other` share (160 when equal).
    pub fn common_prefix_len(&self, other: &NodeId) -> usize {
        for (i, (a, b)) in self.0.iter().zip(other.0.iter()).enumerate() {
            let x = a ^ b;
            if x != 0 {
                return i * 8 + x.leading_zeros() as usize;
            }
        }
        ID_BITS
    }

    /// A random id that shares exactly `prefix` leading bits with `self` (so differs in bit
    /// `prefix`), or, when `prefix` is 160 or more, `self` itself.
    pub fn random_at_prefix(&self, prefix: usize, rng: &mut impl RngCore) -> NodeId {
        if prefix >= ID_BITS {
            return *self;
        }
        let mut out = NodeId::random(rng).0;
        for bit in 0..=prefix {
            let (byte, mask) = (bit / 8, 0x80u8 >> (bit % 8));
            let own = self.0[byte] & mask;
            let wanted = if bit == prefix { own ^ mask } else { own };
            out[byte] = (out[byte] & !mask) | wanted;
        }
        NodeId(out)
    }

    /// A random id sharing at least `prefix` leading bits with `self`.
    pub fn random_within_prefix(&self, prefix: usize, rng: &mut impl RngCore) -> NodeId {
        let mut out = NodeId::random(rng).0;
        for bit in 0..prefix.min(ID_BITS) {
            let (byte, mask) = (bit / 8, 0x80u8 >> (bit % 8));
            out[byte] = (out[byte] & !mask) | (self.0[byte] & mask);
        }
        NodeId(out)
    }

    /// Lowercase hex (40 characters).
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl From<InfoHashV1> for NodeId {
    fn from(hash: InfoHashV1) -> Self {
        NodeId(hash.0)
    }
}

impl From<NodeId> for InfoHashV1 {
    fn from(id: NodeId) -> Self {
        InfoHashV1(id.0)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({})", self.to_hex())
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    #[test]
    fn distance_and_prefix() {
        let a = NodeId([0u8; 20]);
        let mut b = [0u8; 20];
        b[2] = 0b0001_0000;
        let b = NodeId(b);
        assert_eq!(a.common_prefix_len(&b), 19);
        assert_eq!(a.common_prefix_len(&a), 160);
        assert_eq!(a.distance(&b).0[2], 0b0001_0000);
        assert!(a.distance(&a) < a.distance(&b));
    }

    #[test]
    fn random_ids_land_in_the_asked_range() {
        let mut rng = SmallRng::seed_from_u64(7);
        let own = NodeId::random(&mut rng);
        for prefix in [0, 1, 7, 8, 9, 100, 159] {
            for _ in 0..20 {
                let id = own.random_at_prefix(prefix, &mut rng);
                assert_eq!(own.common_prefix_len(&id), prefix);
                let id = own.random_within_prefix(prefix, &mut rng);
                assert!(own.common_prefix_len(&id) >= prefix);
            }
        }
        assert_eq!(own.random_at_prefix(160, &mut rng), own);
    }
}
