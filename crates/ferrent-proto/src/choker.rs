//! Tit-for-tat choking (BEP 3), as mainstream clients do it.
//!
//! Every rechoke (10 s) the `slots` interested peers ranked best are unchoked: while
//! downloading, those that give us data fastest; while seeding, those that take it fastest.
//! Snubbed peers (no data for a minute while unchoked by them) rank last. One more slot, the
//! optimistic unchoke, goes to a random other interested peer and rotates every 30 s so
//! newcomers get a chance to prove themselves.

use rand::seq::SliceRandom;
use rand::Rng;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// How often the regular slots are re-evaluated.
pub const RECHOKE_INTERVAL: Duration = Duration::from_secs(10);
/// How often the optimistic slot rotates.
pub const OPTIMISTIC_INTERVAL: Duration = Duration::from_secs(30);

/// A peer as the choker sees it.
#[derive(Clone, Copy, Debug)]
pub struct Candidate {
    /// The peer's key.
    pub key: u64,
    /// The peer wants our data.
    pub interested: bool,
    /// The rate that ranks it (bytes per second).
    pub rate: u64,
    /// The peer has stopped sending us data although it unchoked us.
    pub snubbed: bool,
}

/// The choker's memory between rechokes.
#[derive(Debug, Default)]
pub struct Choker {
    optimistic: Option<u64>,
    last_optimistic: Option<Instant>,
}

impl Choker {
    /// Decides which peers to unchoke, given `slots` regular slots.
    pub fn rechoke(
        &mut self,
        candidates: &[Candidate],
        slots: usize,
        now: Instant,
        rng: &mut impl Rng,
    ) -> HashSet<u64> {
        let mut ranked: Vec<&Candidate> = candidates.iter().filter(|c| c.interested).collect();
        ranked.sort_by_key(|c| (c.snubbed, std::cmp::Reverse(c.rate), c.key));
        let mut unchoked: HashSet<u64> = ranked.iter().take(slots).map(|c| c.key).collect();
        let rotate =
            self.last_optimistic.is_none_or(|t| now.duration_since(t) >= OPTIMISTIC_INTERVAL)
                || self.optimistic.is_none_or(|k| !ranked.iter().any(|c| c.key == k));
        if rotate {
            let others: Vec<u64> =
                ranked.iter().map(|c| c.key).filter(|k| !unchoked.contains(k)).collect();
            self.optimistic = others.choose(rng).copied();
            self.last_optimistic = Some(now);
        }
        if let Some(k) = self.optimistic {
            unchoked.insert(k);
        }
        unchoked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::SmallRng, SeedableRng};

    fn c(key: u64, rate: u64) -> Candidate {
        Candidate { key, interested: true, rate, snubbed: false }
    }

    #[test]
    fn best_rates_plus_one_optimistic_that_rotates() {
        let mut choker = Choker::default();
        let mut rng = SmallRng::seed_from_u64(5);
        let now = Instant::now();
        let mut peers: Vec<Candidate> = (0..10).map(|k| c(k, k * 100)).collect();
        peers[9].snubbed = true;
        peers[0].interested = false;
        let set = choker.rechoke(&peers, 3, now, &mut rng);
        assert_eq!(set.len(), 4);
        for k in [8, 7, 6] {
            assert!(set.contains(&k));
        }
        assert!(!set.contains(&0));
        let optimistic = *set.iter().find(|k| ![8, 7, 6].contains(*k)).unwrap();
        // Kept for 30 s, then rotated (to someone else with high probability over a few tries).
        let later = choker.rechoke(&peers, 3, now + RECHOKE_INTERVAL, &mut rng);
        assert!(later.contains(&optimistic));
        let mut rotated = false;
        for i in 1..10 {
            let set = choker.rechoke(&peers, 3, now + OPTIMISTIC_INTERVAL * i, &mut rng);
            rotated |= !set.contains(&optimistic);
        }
        assert!(rotated);
    }
}
