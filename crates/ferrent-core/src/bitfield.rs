//! A fixed-length set of piece indices, in the wire's bit order (BEP 3).

use crate::geometry::PieceIndex;

/// Why a received bitfield was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BitfieldError {
    /// The byte length does not match the torrent's piece count.
    #[error("bitfield has {got} bytes, expected {expected}")]
    WrongLength {
        /// Bytes expected for the piece count.
        expected: usize,
        /// Bytes received.
        got: usize,
    },
    /// Bits past the last piece are set.
    #[error("bitfield has spare bits set past the last piece")]
    SpareBits,
}

/// Which of `len` pieces are present; bit 0 is the high bit of byte 0.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Bitfield {
    bytes: Vec<u8>,
    len: u32,
    ones: u32,
}

impl Bitfield {
    /// An empty set for `len` pieces.
    pub fn new(len: u32) -> Self {
        Self { bytes: vec![0; (len as usize).div_ceil(8)], len, ones: 0 }
    }

    /// A full set for `len` pieces.
    pub fn full(len: u32) -> Self {
        let mut bf = Self::new(len);
        bf.bytes.fill(0xff);
        bf.clear_spare_bits();
        bf.ones = len;
        bf
    }

    /// Parses a bitfield received for a torrent of `len` pieces, refusing a wrong length or
    /// spare bits set.
    pub fn from_bytes(bytes: &[u8], len: u32) -> Result<Self, BitfieldError> {
        let expected = (len as usize).div_ceil(8);
        if bytes.len() != expected {
            return Err(BitfieldError::WrongLength { expected, got: bytes.len() });
        }
        let mut bf = Self { bytes: bytes.to_vec(), len, ones: 0 };
        let before: u32 = bf.bytes.iter().map(|b| b.count_ones()).sum();
        bf.clear_spare_bits();
        bf.ones = bf.bytes.iter().map(|b| b.count_ones()).sum();
        if bf.ones != before {
            return Err(BitfieldError::SpareBits);
        }
        Ok(bf)
    }

    fn clear_spare_bits(&mut self) {
        let spare = (self.bytes.len() * 8) as u32 - self.len;
        if let Some(last) = self.bytes.last_mut() {
            *last &= 0xffu8.checked_shl(spare).unwrap_or(0);
        }
    }

    /// Number of pieces the set is about.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// True when the torrent has no pieces.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of pieces present.
    pub fn count(&self) -> u32 {
        self.ones
    }

    /// True when every piece is present.
    pub fn is_full(&self) -> bool {
        self.ones == self.len
    }

    /// True when piece `index` is present; false when out of range.
    pub fn get(&self, index: u32) -> bool {
        index < self.len && self.bytes[(index / 8) as usize] & (0x80 >> (index % 8)) != 0
    }

    /// True when `piece` is present.
    pub fn has(&self, piece: PieceIndex) -> bool {
        self.get(piece.get())
    }

    /// Marks `index` present or absent; returns whether it changed. Out of range is a no-op.
    pub fn set(&mut self, index: u32, value: bool) -> bool {
        if index >= self.len || self.get(index) == value {
            return false;
        }
        let byte = &mut self.bytes[(index / 8) as usize];
        *byte ^= 0x80 >> (index % 8);
        if value {
            self.ones += 1;
        } else {
            self.ones -= 1;
        }
        true
    }

    /// The wire form.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// True when every piece in `range` is present (an empty range is). Whole bytes are
    /// compared at once: this runs each time a piece completes, over files of up to every
    /// piece of the torrent.
    pub fn all_in(&self, range: std::ops::Range<u32>) -> bool {
        let std::ops::Range { start, end } = range;
        if start >= end {
            return true;
        }
        if end > self.len {
            return false;
        }
        let first_full = start.div_ceil(8);
        let last_full = end / 8;
        if first_full >= last_full {
            return (start..end).all(|i| self.get(i));
        }
        (start..first_full * 8).all(|i| self.get(i))
            && self.bytes[first_full as usize..last_full as usize].iter().all(|&b| b == 0xff)
            && (last_full * 8..end).all(|i| self.get(i))
    }

    /// True when a piece is present in both sets (sets of different lengths never share).
    pub fn intersects(&self, other: &Bitfield) -> bool {
        self.len == other.len && self.bytes.iter().zip(&other.bytes).any(|(a, b)| a & b != 0)
    }

    /// Indices of the present pieces, ascending.
    pub fn ones(&self) -> impl Iterator<Item = u32> + '_ {
        self.bytes.iter().enumerate().flat_map(|(i, &b)| {
            (0..8u32).filter(move |bit| b & (0x80 >> bit) != 0).map(move |bit| i as u32 * 8 + bit)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_in_and_intersects_agree_with_single_bits() {
        let mut x = 0x9e37_79b9_u32;
        for len in [0u32, 1, 7, 8, 9, 63, 64, 65, 200] {
            let mut a = Bitfield::new(len);
            let mut b = Bitfield::new(len);
            for i in 0..len {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                // Mostly set, so that long runs of ones exist.
                a.set(i, !x.is_multiple_of(8));
                b.set(i, x.is_multiple_of(5));
            }
            for start in 0..=len {
                for end in start..=len + 1 {
                    let slow = end <= len && (start..end).all(|i| a.get(i));
                    assert_eq!(a.all_in(start..end), slow, "len {len}, {start}..{end}");
                }
            }
            let slow = (0..len).any(|i| a.get(i) && b.get(i));
            assert_eq!(a.intersects(&b), slow, "len {len}");
        }
        assert!(Bitfield::full(100).all_in(0..100));
        assert!(!Bitfield::full(100).all_in(0..101), "past the end is not present");
        assert!(!Bitfield::full(8).intersects(&Bitfield::full(9)));
    }

    #[test]
    fn set_get_count() {
        let mut bf = Bitfield::new(10);
        assert!(bf.set(0, true));
        assert!(bf.set(9, true));
        assert!(!bf.set(9, true));
        assert!(!bf.set(10, true));
        assert_eq!(bf.as_bytes(), &[0x80, 0x40]);
        assert_eq!(bf.count(), 2);
        assert_eq!(bf.ones().collect::<Vec<_>>(), vec![0, 9]);
        assert!(Bitfield::full(10).is_full());
        assert_eq!(Bitfield::full(10).as_bytes(), &[0xff, 0xc0]);
    }

    #[test]
    fn refuses_wrong_length_and_spare_bits() {
        assert_eq!(
            Bitfield::from_bytes(&[0xff], 10),
            Err(BitfieldError::WrongLength { expected: 2, got: 1 })
        );
        assert_eq!(Bitfield::from_bytes(&[0xff, 0xe0], 10), Err(BitfieldError::SpareBits));
        assert_eq!(Bitfield::from_bytes(&[0xff, 0xc0], 10).unwrap().count(), 10);
    }
}
