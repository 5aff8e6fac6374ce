//! Piece and block geometry.
//!
//! Raw indices and offsets from the network are checked once, here, and travel as
//! [`PieceIndex`] and [`BlockRef`] afterwards; only a [`Lengths`] can make them.

/// The size of a request: 16 KiB, as every mainstream client uses.
pub const BLOCK_SIZE: u32 = 16 * 1024;

/// Why a torrent's length and piece length cannot describe a torrent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LengthsError {
    /// The piece length is zero, not a power of two, or below 16 KiB.
    #[error("piece length {0} is not a power of two of at least 16 KiB")]
    BadPieceLength(u64),
    /// The torrent has more pieces than fit a 32-bit index.
    #[error("{0} pieces do not fit a 32-bit index")]
    TooManyPieces(u64),
}

/// A piece index known to be in range for its torrent.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct PieceIndex(u32);

impl PieceIndex {
    /// The raw index.
    pub fn get(self) -> u32 {
        self.0
    }

    /// The raw index as a `usize`, for indexing tables.
    pub fn as_usize(self) -> usize {
        self.0 as usize
    }
}

/// A block inside a piece, known to be in range: `len` bytes at `offset` of `piece`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct BlockRef {
    /// The piece the block belongs to.
    pub piece: PieceIndex,
    /// Byte offset inside the piece.
    pub offset: u32,
    /// Length in bytes (at most [`BLOCK_SIZE`] for blocks we request or serve).
    pub len: u32,
}

impl BlockRef {
    /// The index of this block inside its piece when blocks are [`BLOCK_SIZE`] apart.
    pub fn block_index(&self) -> u32 {
        self.offset / BLOCK_SIZE
    }
}

/// The geometry of a torrent's byte stream: total length and piece length.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Lengths {
    total: u64,
    piece_length: u32,
    piece_count: u32,
}

impl Lengths {
    /// Checks that `piece_length` is a power of two of at least 16 KiB and that the piece
    /// count fits 32 bits. A total length of zero gives zero pieces.
    pub fn new(total: u64, piece_length: u64) -> Result<Self, LengthsError> {
        if piece_length < u64::from(BLOCK_SIZE)
            || !piece_length.is_power_of_two()
            || piece_length > u64::from(u32::MAX / 2 + 1)
        {
            return Err(LengthsError::BadPieceLength(piece_length));
        }
        let count = total.div_ceil(piece_length);
        let piece_count = u32::try_from(count).map_err(|_| LengthsError::TooManyPieces(count))?;
        Ok(Self { total, piece_length: piece_length as u32, piece_count })
    }

    /// Total length of the torrent's data in bytes.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The nominal piece length.
    pub fn piece_length(&self) -> u32 {
        self.piece_length
    }

    /// Number of pieces.
    pub fn piece_count(&self) -> u32 {
        self.piece_count
    }

    /// Validates a raw piece index.
    pub fn piece(&self, index: u32) -> Option<PieceIndex> {
        (index < self.piece_count).then_some(PieceIndex(index))
    }

    /// Every piece index, in order.
    pub fn pieces(&self) -> impl Iterator<Item = PieceIndex> {
        (0..self.piece_count).map(PieceIndex)
    }

    /// Length of `piece` in bytes: the nominal length, or less for the last piece.
    pub fn piece_len(&self, piece: PieceIndex) -> u32 {
        let start = self.piece_offset(piece);
        (self.total - start).min(u64::from(self.piece_length)) as u32
    }

    /// Offset of `piece` in the torrent's byte stream.
    pub fn piece_offset(&self, piece: PieceIndex) -> u64 {
        u64::from(piece.0) * u64::from(self.piece_length)
    }

    /// Number of [`BLOCK_SIZE`] blocks in `piece`.
    pub fn block_count(&self, piece: PieceIndex) -> u32 {
        self.piece_len(piece).div_ceil(BLOCK_SIZE)
    }

    /// The `n`th [`BLOCK_SIZE`] block of `piece`, or `None` past its end.
    pub fn nth_block(&self, piece: PieceIndex, n: u32) -> Option<BlockRef> {
        let piece_len = self.piece_len(piece);
        let offset = n.checked_mul(BLOCK_SIZE)?;
        (offset < piece_len).then(|| BlockRef {
            piece,
            offset,
            len: (piece_len - offset).min(BLOCK_SIZE),
        })
    }

    /// Validates a raw block request: `len` bytes at `offset` of piece `index`, with `len`
    /// between 1 and `max_len` and the whole range inside the piece.
    pub fn block(&self, piece: PieceIndex, offset: u32, len: u32) -> Option<BlockRef> {
        let end = offset.checked_add(len)?;
        (len > 0 && len <= BLOCK_SIZE && end <= self.piece_len(piece)).then_some(BlockRef {
            piece,
            offset,
            len,
        })
    }

    /// Validates all three raw numbers of a request or piece message.
    pub fn raw_block(&self, index: u32, offset: u32, len: u32) -> Option<BlockRef> {
        self.block(self.piece(index)?, offset, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_piece_lengths() {
        assert!(Lengths::new(10, 0).is_err());
        assert!(Lengths::new(10, 8192).is_err());
        assert!(Lengths::new(10, 3 * 16384).is_err());
        assert!(Lengths::new(u64::MAX, 16384).is_err());
        assert!(Lengths::new(10, 16384).is_ok());
    }

    #[test]
    fn last_piece_and_blocks() {
        let l = Lengths::new(3 * 32768 + 20000, 32768).unwrap();
        assert_eq!(l.piece_count(), 4);
        let last = l.piece(3).unwrap();
        assert!(l.piece(4).is_none());
        assert_eq!(l.piece_len(last), 20000);
        assert_eq!(l.block_count(last), 2);
        assert_eq!(l.nth_block(last, 1).unwrap().len, 20000 - 16384);
        assert!(l.nth_block(last, 2).is_none());
        assert!(l.block(last, 16384, 16384).is_none());
        assert!(l.block(last, 16384, 20000 - 16384).is_some());
        assert!(l.raw_block(0, u32::MAX, 2).is_none());
        assert!(l.raw_block(0, 0, 0).is_none());
        assert!(l.raw_block(0, 0, 16385).is_none());
    }

    #[test]
    fn empty_torrent_has_no_pieces() {
        let l = Lengths::new(0, 16384).unwrap();
        assert_eq!(l.piece_count(), 0);
        assert!(l.piece(0).is_none());
    }
}
