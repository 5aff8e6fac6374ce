//! The v1 piece hashes, read in place from the torrent's info dictionary.
//!
//! The info dictionary's raw bytes are kept anyway (peers fetch them over BEP 9), and its
//! `pieces` string is exactly the hashes back to back; a view into it costs no copy.

use bytes::Bytes;
use std::ops::Range;

/// One SHA-1 per piece, in piece order.
#[derive(Clone, Debug)]
pub(crate) struct PieceHashes(Bytes);

impl PieceHashes {
    /// The hashes where `span` says they lie in `info_bytes` (the metainfo parser's
    /// `pieces_span`), when they are exactly `parsed`; otherwise a copy of `parsed`.
    pub(crate) fn new(info_bytes: &Bytes, span: Range<usize>, parsed: &[[u8; 20]]) -> Self {
        let in_place = info_bytes
            .get(span.clone())
            .filter(|pieces| *pieces == parsed.as_flattened())
            .map(|_| info_bytes.slice(span));
        Self(in_place.unwrap_or_else(|| Bytes::copy_from_slice(parsed.as_flattened())))
    }

    /// Every hash.
    pub(crate) fn as_slice(&self) -> &[[u8; 20]] {
        self.0.as_chunks::<20>().0
    }

    /// The hash of piece `index`.
    pub(crate) fn get(&self, index: usize) -> Option<&[u8; 20]> {
        self.as_slice().get(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrent_bencode::OwnedValue;

    #[test]
    fn hashes_are_a_view_into_the_info_bytes() {
        let hashes = [[1u8; 20], [2u8; 20]];
        let info = OwnedValue::dict([
            (b"name".as_slice(), OwnedValue::bytes("x")),
            (b"pieces".as_slice(), OwnedValue::bytes(hashes.as_flattened())),
        ]);
        let info_bytes = Bytes::from(info.encode());
        let start = info_bytes.windows(7).position(|w| w == b"40:\x01\x01\x01\x01").unwrap() + 3;
        let view = PieceHashes::new(&info_bytes, start..start + 40, &hashes);
        assert_eq!(view.as_slice(), &hashes);
        assert_eq!(view.get(1), Some(&[2u8; 20]));
        assert_eq!(view.get(2), None);
        let inside = info_bytes.as_ptr_range();
        assert!(inside.contains(&view.0.as_ptr()), "no copy was made");
    }

    #[test]
    fn a_span_that_disagrees_with_the_parsed_hashes_gives_a_copy() {
        let info_bytes = Bytes::from_static(b"d6:pieces20:aaaaaaaaaaaaaaaaaaaae");
        let parsed = [[b'b'; 20]];
        assert_eq!(PieceHashes::new(&info_bytes, 12..32, &parsed).as_slice(), &parsed);
        assert_eq!(PieceHashes::new(&info_bytes, 30..50, &parsed).as_slice(), &parsed);
    }
}
