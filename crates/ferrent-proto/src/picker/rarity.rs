//! Queued pieces kept in order of availability, so rarest-first picking does not scan the
//! whole torrent for every new piece.
//!
//! `order` holds every queued piece, grouped into buckets by how many peers have it, rarest
//! bucket first; `bounds[a]` is where the bucket of availability `a` starts. A change of one
//! piece's availability is a single swap across a bucket boundary, and adding or removing a
//! piece walks the boundaries above it: O(1) and O(distinct availabilities) respectively.

use ferrent_core::Bitfield;
use rand::Rng;

/// Marks a piece that is not queued (had, in progress, or not wanted).
const ABSENT: u32 = u32::MAX;

/// Availability counts of all pieces, and the queued ones sorted by them.
#[derive(Debug)]
pub(super) struct RarityIndex {
    /// How many connected peers have each piece.
    availability: Vec<u32>,
    /// Queued pieces, rarest bucket first.
    order: Vec<u32>,
    /// Each piece's position in `order`, or [`ABSENT`].
    position: Vec<u32>,
    /// `bounds[a]` is the first position of the bucket of availability `a`; a bucket ends
    /// where the next begins, and the last one at `order.len()`.
    bounds: Vec<u32>,
}

impl RarityIndex {
    /// An index over `piece_count` pieces, none queued and none available.
    pub(super) fn new(piece_count: u32) -> Self {
        let n = piece_count as usize;
        Self {
            availability: vec![0; n],
            order: Vec::new(),
            position: vec![ABSENT; n],
            bounds: vec![0],
        }
    }

    /// Number of queued pieces.
    pub(super) fn len(&self) -> u32 {
        self.order.len() as u32
    }

    /// True when `piece` is queued.
    pub(super) fn contains(&self, piece: u32) -> bool {
        self.position.get(piece as usize).is_some_and(|&p| p != ABSENT)
    }

    /// Empties the queue (availability counts stay).
    pub(super) fn clear(&mut self) {
        for piece in self.order.drain(..) {
            self.position[piece as usize] = ABSENT;
        }
        self.bounds.clear();
        self.bounds.push(0);
    }

    /// Queues `piece` (no-op when it already is).
    pub(super) fn insert(&mut self, piece: u32) {
        let Some(&ABSENT) = self.position.get(piece as usize) else { return };
        let avail = self.availability[piece as usize] as usize;
        self.ensure_bucket(avail);
        let mut at = self.order.len() as u32;
        self.order.push(piece);
        self.position[piece as usize] = at;
        // Walk down from the top bucket: each bucket above `avail` gives its first slot to
        // the piece and moves its own first element to its end.
        for bucket in (avail + 1..self.bounds.len()).rev() {
            let first = self.bounds[bucket];
            self.swap(at, first);
            at = first;
            self.bounds[bucket] += 1;
        }
    }

    /// Removes `piece` from the queue (no-op when it is not queued).
    pub(super) fn remove(&mut self, piece: u32) {
        let Some(&at) = self.position.get(piece as usize) else { return };
        if at == ABSENT {
            return;
        }
        let mut at = at;
        let avail = self.availability[piece as usize] as usize;
        // Walk up: the piece takes the last slot of each bucket from its own to the top,
        // which then belongs to the bucket above; it ends at the very end of `order`.
        for bucket in avail + 1..self.bounds.len() {
            let last = self.bounds[bucket] - 1;
            self.swap(at, last);
            at = last;
            self.bounds[bucket] -= 1;
        }
        let last = self.order.len() as u32 - 1;
        self.swap(at, last);
        self.order.pop();
        self.position[piece as usize] = ABSENT;
    }

    /// One more peer has `piece`.
    pub(super) fn increment(&mut self, piece: u32) {
        let Some(&avail) = self.availability.get(piece as usize) else { return };
        let avail = avail as usize;
        self.availability[piece as usize] += 1;
        let at = self.position[piece as usize];
        if at == ABSENT {
            return;
        }
        self.ensure_bucket(avail + 1);
        // Swap with the last of its bucket, which then becomes the first of the next.
        let last = self.bounds[avail + 1] - 1;
        self.swap(at, last);
        self.bounds[avail + 1] -= 1;
    }

    /// One peer fewer has `piece`.
    pub(super) fn decrement(&mut self, piece: u32) {
        let Some(&avail) = self.availability.get(piece as usize) else { return };
        if avail == 0 {
            return;
        }
        let avail = avail as usize;
        self.availability[piece as usize] -= 1;
        let at = self.position[piece as usize];
        if at == ABSENT {
            return;
        }
        // Swap with the first of its bucket, which then becomes the last of the one below.
        let first = self.bounds[avail];
        self.swap(at, first);
        self.bounds[avail] += 1;
    }

    /// The rarest queued piece that `peer_has` and `accept` approves, ties broken at random;
    /// `None` when there is none.
    pub(super) fn rarest(
        &self,
        peer_has: &Bitfield,
        rng: &mut impl Rng,
        accept: impl Fn(u32) -> bool,
    ) -> Option<u32> {
        let end = self.order.len() as u32;
        for (bucket, &start) in self.bounds.iter().enumerate() {
            let stop = self.bounds.get(bucket + 1).copied().unwrap_or(end);
            if start >= stop {
                continue;
            }
            let offset = rng.gen_range(start..stop);
            let found = (offset..stop)
                .chain(start..offset)
                .map(|at| self.order[at as usize])
                .find(|&piece| peer_has.get(piece) && accept(piece));
            if found.is_some() {
                return found;
            }
        }
        None
    }

    /// Makes sure a bucket for availability `avail` exists (empty buckets start at the end).
    fn ensure_bucket(&mut self, avail: usize) {
        while self.bounds.len() <= avail {
            self.bounds.push(self.order.len() as u32);
        }
    }

    fn swap(&mut self, a: u32, b: u32) {
        if a == b {
            return;
        }
        self.order.swap(a as usize, b as usize);
        self.position[self.order[a as usize] as usize] = a;
        self.position[self.order[b as usize] as usize] = b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{rngs::SmallRng, SeedableRng};

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u32),
        Remove(u32),
        Increment(u32),
        Decrement(u32),
    }

    fn op(pieces: u32) -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..pieces).prop_map(Op::Insert),
            (0..pieces).prop_map(Op::Remove),
            (0..pieces).prop_map(Op::Increment),
            (0..pieces).prop_map(Op::Decrement),
        ]
    }

    /// The buckets are sorted, positions agree with `order`, and every piece sits in the
    /// bucket of its availability.
    fn check_invariants(index: &RarityIndex) {
        for (at, &piece) in index.order.iter().enumerate() {
            assert_eq!(index.position[piece as usize], at as u32);
            let avail = index.availability[piece as usize] as usize;
            let start = index.bounds[avail];
            let stop = index.bounds.get(avail + 1).copied().unwrap_or(index.order.len() as u32);
            assert!((start..stop).contains(&(at as u32)), "piece {piece} outside its bucket");
        }
        let queued = index.position.iter().filter(|&&p| p != ABSENT).count();
        assert_eq!(queued, index.order.len());
    }

    proptest! {
        #[test]
        fn matches_a_naive_model(ops in proptest::collection::vec(op(12), 0..200), seed: u64) {
            let mut index = RarityIndex::new(12);
            let mut queued = [false; 12];
            let mut avail = [0u32; 12];
            for op in ops {
                match op {
                    Op::Insert(p) => { index.insert(p); queued[p as usize] = true; }
                    Op::Remove(p) => { index.remove(p); queued[p as usize] = false; }
                    Op::Increment(p) => { index.increment(p); avail[p as usize] += 1; }
                    Op::Decrement(p) => {
                        index.decrement(p);
                        avail[p as usize] = avail[p as usize].saturating_sub(1);
                    }
                }
                check_invariants(&index);
            }
            let mut peer_has = Bitfield::new(12);
            for i in (0..12).filter(|i| i % 3 != 0) {
                peer_has.set(i, true);
            }
            let mut rng = SmallRng::seed_from_u64(seed);
            let rarest = (0..12u32)
                .filter(|&p| queued[p as usize] && peer_has.get(p))
                .map(|p| avail[p as usize])
                .min();
            let picked = index.rarest(&peer_has, &mut rng, |_| true);
            prop_assert_eq!(picked.map(|p| avail[p as usize]), rarest);
            if let Some(p) = picked {
                prop_assert!(queued[p as usize] && peer_has.get(p));
            }
        }
    }

    #[test]
    fn ties_are_broken_at_random() {
        let mut index = RarityIndex::new(8);
        for piece in 0..8 {
            index.insert(piece);
        }
        let all = Bitfield::full(8);
        let mut rng = SmallRng::seed_from_u64(9);
        let picks: std::collections::HashSet<u32> =
            (0..64).filter_map(|_| index.rarest(&all, &mut rng, |_| true)).collect();
        assert!(picks.len() > 4, "only {picks:?} were ever picked");
    }
}
