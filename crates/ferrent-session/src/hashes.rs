//! The v1 piece hashes, read in place from the torrent's info dictionary.
//!
//! The info dictionary's raw bytes are kept anyway (peers fetch them over BEP 9), and its
//! `pieces` string is exactly the hashes back to back; a view into it costs no copy.

use bytes::Bytes;

/// One SHA-1 per piece, in piece order.
#[derive(Clone, Debug)]
pub(crate) struct PieceHashes(Bytes);

impl PieceHashes {
    /// The `pieces` string of `info_bytes`, when it holds exactly `parsed` (the hashes the
    /// metainfo parser read from the same bytes); otherwise a copy of `parsed`.
    pub(crate) fn new(info_bytes: &Bytes, parsed: &[[u8; 20]]) -> Self {
        let in_place = ferrent_bencode::decode(info_bytes)
            .ok()
            .and_then(|info| info.get(b"pieces")?.as_bytes())
            .filter(|pieces| *pieces == parsed.as_flattened())
            .map(|pieces| info_bytes.slice_ref(pieces));
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
        let view = PieceHashes::new(&info_bytes, &hashes);
        assert_eq!(view.as_slice(), &hashes);
        assert_eq!(view.get(1), Some(&[2u8; 20]));
        assert_eq!(view.get(2), None);
        let inside = info_bytes.as_ptr_range();
        assert!(inside.contains(&view.0.as_ptr()), "no copy was made");
    }

    #[test]
    fn bytes_that_disagree_with_the_parsed_hashes_give_a_copy() {
        let info_bytes = Bytes::from_static(b"d6:pieces20:aaaaaaaaaaaaaaaaaaaae");
        let parsed = [[b'b'; 20]];
        assert_eq!(PieceHashes::new(&info_bytes, &parsed).as_slice(), &parsed);
        let garbage = Bytes::from_static(b"not bencode");
        assert_eq!(PieceHashes::new(&garbage, &parsed).as_slice(), &parsed);
    }
}
