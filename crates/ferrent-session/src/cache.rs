//! A small read cache for serving: whole pieces, most recently used kept.
//!
//! Peers request a piece's blocks one after another, so reading the whole piece once and
//! serving its blocks as slices costs one disk read (and one thread hop) per piece instead of
//! one per 16 KiB block. Requests for a piece whose read is under way wait for it.

use bytes::Bytes;
use ferrent_core::{BlockRef, PieceIndex};
use ferrent_proto::PeerKey;
use std::collections::{HashMap, VecDeque};

/// Evicted buffers kept for reuse at the most.
const SPARE_BUFFERS: usize = 4;

/// What the cache says about a block.
pub(crate) enum Lookup {
    /// The block's bytes.
    Hit(Bytes),
    /// The piece is being read; the block was queued and comes back from `insert`.
    Pending,
    /// Nobody is reading the piece: the caller must, then call `insert` or `fail`.
    Miss,
}

/// Recently read pieces, bounded in bytes.
pub(crate) struct ReadCache {
    /// Buffers of evicted pieces that nobody references any more, for the next reads.
    spare: Vec<Vec<u8>>,
    pieces: VecDeque<(PieceIndex, Bytes)>,
    bytes: usize,
    max_bytes: usize,
    pending: HashMap<PieceIndex, Vec<(PeerKey, BlockRef)>>,
}

impl ReadCache {
    pub(crate) fn new(max_bytes: usize) -> Self {
        Self {
            spare: Vec::new(),
            pieces: VecDeque::new(),
            bytes: 0,
            max_bytes,
            pending: HashMap::new(),
        }
    }

    /// True when no read is under way (blocks wait for none).
    pub(crate) fn is_idle(&self) -> bool {
        self.pending.is_empty()
    }

    /// A buffer for the next piece read: a recycled one when there is one.
    pub(crate) fn buffer(&mut self) -> Vec<u8> {
        self.spare.pop().unwrap_or_default()
    }

    pub(crate) fn lookup(&mut self, key: PeerKey, block: BlockRef) -> Lookup {
        if let Some(i) = self.pieces.iter().position(|(p, _)| *p == block.piece) {
            let entry = self.pieces.remove(i).expect("index from position");
            let data = slice(&entry.1, &block);
            self.pieces.push_front(entry);
            return data.map_or(Lookup::Miss, Lookup::Hit);
        }
        match self.pending.get_mut(&block.piece) {
            Some(waiters) => {
                waiters.push((key, block));
                Lookup::Pending
            }
            None => {
                self.pending.insert(block.piece, vec![(key, block)]);
                Lookup::Miss
            }
        }
    }

    /// A piece was read: caches it and returns every waiting block with its bytes.
    pub(crate) fn insert(
        &mut self,
        piece: PieceIndex,
        data: Bytes,
    ) -> Vec<(PeerKey, BlockRef, Bytes)> {
        let waiters = self.pending.remove(&piece).unwrap_or_default();
        let out =
            waiters.into_iter().filter_map(|(k, b)| Some((k, b, slice(&data, &b)?))).collect();
        self.bytes += data.len();
        self.pieces.push_front((piece, data));
        while self.bytes > self.max_bytes {
            let Some((_, old)) = self.pieces.pop_back() else { break };
            self.bytes -= old.len();
            if let (Ok(buffer), true) = (old.try_into_mut(), self.spare.len() < SPARE_BUFFERS) {
                self.spare.push(buffer.into());
            }
        }
        out
    }

    /// Reading a piece failed: returns the blocks that waited for it.
    pub(crate) fn fail(&mut self, piece: PieceIndex) -> Vec<(PeerKey, BlockRef)> {
        self.pending.remove(&piece).unwrap_or_default()
    }
}

fn slice(piece: &Bytes, block: &BlockRef) -> Option<Bytes> {
    let start = block.offset as usize;
    let end = start.checked_add(block.len as usize)?;
    (end <= piece.len()).then(|| piece.slice(start..end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrent_core::Lengths;

    #[test]
    fn miss_then_pending_then_hit_and_eviction() {
        let lengths = Lengths::new(4 * 32768, 32768).unwrap();
        let b = |p, n| lengths.nth_block(lengths.piece(p).unwrap(), n).unwrap();
        let mut cache = ReadCache::new(2 * 32768);
        assert!(matches!(cache.lookup(1, b(0, 0)), Lookup::Miss));
        assert!(matches!(cache.lookup(2, b(0, 1)), Lookup::Pending));
        let data = Bytes::from((0..32768u32).map(|i| i as u8).collect::<Vec<_>>());
        let served = cache.insert(lengths.piece(0).unwrap(), data.clone());
        assert_eq!(served.len(), 2);
        assert_eq!(served[1].2, data.slice(16384..));
        assert!(matches!(cache.lookup(3, b(0, 0)), Lookup::Hit(d) if d == data.slice(..16384)));
        for p in 1..3 {
            assert!(matches!(cache.lookup(1, b(p, 0)), Lookup::Miss));
            cache.insert(lengths.piece(p).unwrap(), data.clone());
        }
        assert!(matches!(cache.lookup(1, b(0, 0)), Lookup::Miss), "piece 0 was evicted");
        assert_eq!(cache.fail(lengths.piece(0).unwrap()).len(), 1);
    }
}
