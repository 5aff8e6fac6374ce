//! The piece picker: which blocks to request from which peer.
//!
//! Every wanted piece is in exactly one of these states:
//! * **have**: verified and on disk;
//! * **in progress**: some of its blocks requested or received (a [`Partial`] exists);
//! * **queued**: wanted, not started;
//! * **not wanted**: priority 0 (the user skipped every file it touches).
//!
//! Policy: blocks of pieces already in progress first (so pieces complete and can be shared
//! quickly), then a new piece by rarest-first among the peer's pieces with a random tie-break
//! (or in order, when sequential). When nothing is left to request but blocks are still in
//! flight, *endgame* lets a block be requested from a second peer; the first copy to arrive
//! wins and the other requests are cancelled by the caller.

mod rarity;

use ferrent_core::{Bitfield, BlockRef, Lengths, PieceIndex};
use rand::Rng;
use rarity::RarityIndex;
use rustc_hash::FxHashMap;

/// How many peers may be asked for the same block in endgame.
const ENDGAME_DUPLICATES: u8 = 2;

/// The state of one block of a piece in progress.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum BlockState {
    Free,
    Requested(u8),
    Received,
}

/// A piece in progress.
#[derive(Debug)]
struct Partial {
    blocks: Vec<BlockState>,
    /// Blocks in [`BlockState::Free`].
    free: u32,
    received: u32,
}

impl Partial {
    fn new(block_count: u32) -> Self {
        Self {
            blocks: vec![BlockState::Free; block_count as usize],
            free: block_count,
            received: 0,
        }
    }
}

/// What a received block meant to the picker.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BlockOutcome {
    /// New data; `complete` when it was the piece's last missing block.
    Accepted {
        /// The piece now has all its blocks and should be verified.
        complete: bool,
    },
    /// We already had this block (endgame duplicate) or the piece is done.
    Duplicate,
    /// The block was never requested from anyone.
    Unrequested,
}

/// Chooses blocks to request. Pure state: no I/O, randomness passed in.
#[derive(Debug)]
pub struct PiecePicker {
    lengths: Lengths,
    have: Bitfield,
    priority: Vec<u8>,
    /// Pieces wanted and not verified: priority above 0 and not in `have`. Kept as a set
    /// so that whether a peer is interesting is a byte-wise intersection.
    wanted: Bitfield,
    /// Availability of every piece, and the queued pieces (wanted, neither had nor in
    /// progress) by rarity.
    queue: RarityIndex,
    partials: FxHashMap<PieceIndex, Partial>,
    sequential: bool,
    /// No queued piece lies below this index (where sequential picking starts looking).
    sequential_from: u32,
    /// Pieces someone is waiting for (a stream's read position and the window ahead of
    /// it): picked first, in order.
    focus: Option<std::ops::Range<u32>>,
}

impl PiecePicker {
    /// A picker for a torrent with `lengths`, where `have` pieces are already verified and
    /// every piece is wanted.
    pub fn new(lengths: Lengths, have: Bitfield) -> Self {
        let n = lengths.piece_count() as usize;
        let mut picker = Self {
            lengths,
            wanted: Bitfield::new(n as u32),
            have,
            priority: vec![1; n],
            queue: RarityIndex::new(n as u32),
            partials: FxHashMap::default(),
            sequential: false,
            sequential_from: 0,
            focus: None,
        };
        picker.recount();
        picker
    }

    fn recount(&mut self) {
        self.queue.clear();
        for piece in self.lengths.pieces() {
            let wanted = self.priority[piece.as_usize()] > 0 && !self.have.has(piece);
            self.wanted.set(piece.get(), wanted);
            if wanted && !self.partials.contains_key(&piece) {
                self.queue.insert(piece.get());
            }
        }
        self.sequential_from = 0;
    }

    /// Sets per-piece priorities (0 = skip). Pieces in progress keep their blocks.
    pub fn set_priorities(&mut self, priority: Vec<u8>) {
        if priority.len() == self.priority.len() {
            self.priority = priority;
            self.recount();
        }
    }

    /// Pick pieces in index order instead of rarest first (for streaming).
    pub fn set_sequential(&mut self, sequential: bool) {
        self.sequential = sequential;
    }

    /// Pieces in `range` are picked before all others, in order (`None` clears it).
    pub fn set_focus(&mut self, range: Option<std::ops::Range<u32>>) {
        self.focus = range;
    }

    /// The verified pieces.
    pub fn have(&self) -> &Bitfield {
        &self.have
    }

    /// Ends the picker, keeping the verified pieces.
    pub fn into_have(self) -> Bitfield {
        self.have
    }

    /// True when `piece` is wanted and not yet verified.
    pub fn is_wanted(&self, piece: PieceIndex) -> bool {
        self.wanted.has(piece)
    }

    /// True when every wanted piece is verified.
    pub fn is_complete(&self) -> bool {
        self.queue.len() == 0 && self.partials.is_empty()
    }

    /// Number of wanted pieces not yet verified.
    pub fn remaining(&self) -> u32 {
        self.queue.len() + self.partials.len() as u32
    }

    /// True when a peer with `bitfield` has a piece we want.
    pub fn is_interesting(&self, bitfield: &Bitfield) -> bool {
        bitfield.intersects(&self.wanted)
    }

    /// Records that a peer has `piece`.
    pub fn peer_has(&mut self, piece: PieceIndex) {
        self.queue.increment(piece.get());
    }

    /// Records that a peer with `bitfield` arrived (`+1`) or left (`-1`).
    pub fn peer_bitfield(&mut self, bitfield: &Bitfield, arrived: bool) {
        for i in bitfield.ones() {
            if arrived {
                self.queue.increment(i);
            } else {
                self.queue.decrement(i);
            }
        }
    }

    /// Appends up to `max` blocks for a peer that has `peer_has` to `out`. Blocks the same peer
    /// already asked for are skipped through `already_requested`.
    pub fn pick(
        &mut self,
        peer_has: &Bitfield,
        max: usize,
        rng: &mut impl Rng,
        already_requested: impl Fn(&BlockRef) -> bool,
        out: &mut Vec<BlockRef>,
    ) {
        let start = out.len();
        let want = |out: &Vec<BlockRef>| out.len() - start < max;
        // 1. Free blocks of pieces in progress.
        for (&piece, partial) in self.partials.iter_mut() {
            if !want(out) {
                return;
            }
            if partial.free == 0 || !peer_has.has(piece) {
                continue;
            }
            take_free_blocks(&self.lengths, piece, partial, max - (out.len() - start), out);
        }
        // 2. New pieces.
        while want(out) && self.queue.len() > 0 {
            let Some(piece) = self.choose_new_piece(peer_has, rng) else { break };
            self.queue.remove(piece.get());
            let block_count = self.lengths.block_count(piece);
            let partial = self.partials.entry(piece).or_insert_with(|| Partial::new(block_count));
            take_free_blocks(&self.lengths, piece, partial, max - (out.len() - start), out);
        }
        // 3. Endgame: everything is requested; ask for blocks in flight elsewhere.
        if want(out) && self.queue.len() == 0 {
            for (&piece, partial) in self.partials.iter_mut() {
                if !want(out) {
                    return;
                }
                if !peer_has.has(piece) {
                    continue;
                }
                for (i, state) in partial.blocks.iter_mut().enumerate() {
                    if out.len() - start >= max {
                        break;
                    }
                    let BlockState::Requested(n) = *state else { continue };
                    let Some(block) = self.lengths.nth_block(piece, i as u32) else { continue };
                    if n < ENDGAME_DUPLICATES
                        && !already_requested(&block)
                        && !out[start..].contains(&block)
                    {
                        *state = BlockState::Requested(n + 1);
                        out.push(block);
                    }
                }
            }
        }
    }

    fn choose_new_piece(&mut self, peer_has: &Bitfield, rng: &mut impl Rng) -> Option<PieceIndex> {
        let queue = &self.queue;
        let candidate = |i: &u32| queue.contains(*i) && peer_has.get(*i);
        let focused = self.focus.as_ref().and_then(|focus| focus.clone().find(candidate));
        let chosen = if focused.is_some() {
            focused
        } else if self.sequential {
            // Pieces below the first queued one never need another look.
            let n = self.lengths.piece_count();
            while self.sequential_from < n && !self.queue.contains(self.sequential_from) {
                self.sequential_from += 1;
            }
            (self.sequential_from..n).find(candidate)
        } else {
            self.queue.rarest(peer_has, rng, |_| true)
        };
        chosen.and_then(|i| self.lengths.piece(i))
    }

    /// A request for `block` ended without data (cancelled, rejected, timed out, peer gone).
    pub fn request_dropped(&mut self, block: &BlockRef) {
        let Some(partial) = self.partials.get_mut(&block.piece) else { return };
        if let Some(state) = partial.blocks.get_mut(block.block_index() as usize) {
            if let BlockState::Requested(n) = *state {
                *state = if n > 1 {
                    BlockState::Requested(n - 1)
                } else {
                    partial.free += 1;
                    BlockState::Free
                };
            }
        }
    }

    /// Records the arrival of `block`'s data.
    pub fn block_received(&mut self, block: &BlockRef) -> BlockOutcome {
        let Some(partial) = self.partials.get_mut(&block.piece) else {
            return if self.have.has(block.piece) {
                BlockOutcome::Duplicate
            } else {
                BlockOutcome::Unrequested
            };
        };
        let Some(state) = partial.blocks.get_mut(block.block_index() as usize) else {
            return BlockOutcome::Unrequested;
        };
        match *state {
            BlockState::Free => BlockOutcome::Unrequested,
            BlockState::Received => BlockOutcome::Duplicate,
            BlockState::Requested(_) => {
                *state = BlockState::Received;
                partial.received += 1;
                BlockOutcome::Accepted {
                    complete: partial.received as usize == partial.blocks.len(),
                }
            }
        }
    }

    /// The hash check of `piece` finished: on success it is had, on failure every block of it
    /// becomes requestable again.
    pub fn piece_checked(&mut self, piece: PieceIndex, ok: bool) {
        if ok {
            self.partials.remove(&piece);
            self.have.set(piece.get(), true);
            self.wanted.set(piece.get(), false);
        } else if let Some(partial) = self.partials.get_mut(&piece) {
            *partial = Partial::new(partial.blocks.len() as u32);
        }
    }
}

fn take_free_blocks(
    lengths: &Lengths,
    piece: PieceIndex,
    partial: &mut Partial,
    max: usize,
    out: &mut Vec<BlockRef>,
) {
    let mut taken = 0;
    for (i, state) in partial.blocks.iter_mut().enumerate() {
        if taken >= max {
            break;
        }
        if *state == BlockState::Free {
            if let Some(block) = lengths.nth_block(piece, i as u32) {
                *state = BlockState::Requested(1);
                partial.free -= 1;
                out.push(block);
                taken += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::SmallRng, SeedableRng};

    fn picker(pieces: u32) -> PiecePicker {
        let lengths = Lengths::new(u64::from(pieces) * 32768, 32768).unwrap();
        PiecePicker::new(lengths, Bitfield::new(pieces))
    }

    #[test]
    fn rarest_first_then_partial_first() {
        let mut p = picker(4);
        let mut rng = SmallRng::seed_from_u64(1);
        let all = Bitfield::full(4);
        let mut only2 = Bitfield::new(4);
        only2.set(2, true);
        p.peer_bitfield(&all, true);
        p.peer_bitfield(&all, true);
        p.peer_bitfield(&only2, true);
        // Piece 2 has availability 3; the others 2. Ask for one block.
        let mut out = Vec::new();
        p.pick(&all, 1, &mut rng, |_| false, &mut out);
        assert_eq!(out.len(), 1);
        assert_ne!(out[0].piece.get(), 2);
        let first = out[0].piece;
        // Next pick finishes that piece's second block before starting another.
        out.clear();
        p.pick(&all, 1, &mut rng, |_| false, &mut out);
        assert_eq!(out[0].piece, first);
        assert_eq!(out[0].offset, 16384);
    }

    #[test]
    fn completion_failure_and_endgame() {
        let mut p = picker(1);
        let mut rng = SmallRng::seed_from_u64(7);
        let all = Bitfield::full(1);
        let mut out = Vec::new();
        p.pick(&all, 10, &mut rng, |_| false, &mut out);
        assert_eq!(out.len(), 2);
        // Endgame: another peer may ask for both blocks once more, not a third time.
        let mut dup = Vec::new();
        p.pick(&all, 10, &mut rng, |_| false, &mut dup);
        assert_eq!(dup.len(), 2);
        dup.clear();
        p.pick(&all, 10, &mut rng, |_| false, &mut dup);
        assert!(dup.is_empty());
        assert_eq!(p.block_received(&out[0]), BlockOutcome::Accepted { complete: false });
        assert_eq!(p.block_received(&out[0]), BlockOutcome::Duplicate);
        assert_eq!(p.block_received(&out[1]), BlockOutcome::Accepted { complete: true });
        p.piece_checked(out[0].piece, false);
        assert!(!p.is_complete());
        assert_eq!(p.block_received(&out[0]), BlockOutcome::Unrequested);
        out.clear();
        p.pick(&all, 10, &mut rng, |_| false, &mut out);
        assert_eq!(out.len(), 2);
        p.block_received(&out[0]);
        p.block_received(&out[1]);
        p.piece_checked(out[0].piece, true);
        assert!(p.is_complete());
        assert_eq!(p.block_received(&out[0]), BlockOutcome::Duplicate);
    }

    #[test]
    fn skipped_pieces_are_never_picked() {
        let mut p = picker(3);
        p.set_priorities(vec![0, 1, 0]);
        let mut rng = SmallRng::seed_from_u64(3);
        let mut out = Vec::new();
        p.pick(&Bitfield::full(3), 100, &mut rng, |_| false, &mut out);
        assert!(out.iter().all(|b| b.piece.get() == 1));
        assert_eq!(p.remaining(), 1);
    }

    #[test]
    fn focus_comes_first_and_in_order() {
        let mut p = picker(10);
        let mut rng = SmallRng::seed_from_u64(4);
        p.set_focus(Some(6..8));
        let mut out = Vec::new();
        p.pick(&Bitfield::full(10), 6, &mut rng, |_| false, &mut out);
        let pieces: Vec<u32> = out.iter().map(|b| b.piece.get()).collect();
        assert_eq!(&pieces[..4], &[6, 6, 7, 7]);
    }

    #[test]
    fn dropped_requests_are_picked_again() {
        let mut p = picker(1);
        let mut rng = SmallRng::seed_from_u64(3);
        let mut out = Vec::new();
        p.pick(&Bitfield::full(1), 1, &mut rng, |_| false, &mut out);
        p.request_dropped(&out[0]);
        let mut again = Vec::new();
        p.pick(&Bitfield::full(1), 1, &mut rng, |_| false, &mut again);
        assert_eq!(again, out);
    }
}
