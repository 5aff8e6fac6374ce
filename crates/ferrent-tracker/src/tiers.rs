//! Tracker tiers (BEP 12): the order in which a torrent's trackers are tried.

use std::collections::HashSet;

use rand::seq::SliceRandom;
use rand::Rng;

/// A position in a [`TrackerList`]: tier, then index within the tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TrackerPos {
    /// Index of the tier.
    pub tier: usize,
    /// Index of the URL within its tier.
    pub index: usize,
}

/// A torrent's trackers in tiers (BEP 12).
///
/// Each tier is shuffled once when the list is made. Trackers are tried tier by tier, and in
/// order within a tier; a tracker that answers moves to the front of its tier, so that it is
/// the first one tried next time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrackerList {
    tiers: Vec<Vec<String>>,
}

impl TrackerList {
    /// Builds the list from `announce-list` style tiers, shuffling each tier with `rng`.
    ///
    /// Surrounding whitespace is trimmed; empty URLs, URLs already seen in an earlier place and
    /// tiers left empty are dropped.
    pub fn new(tiers: Vec<Vec<String>>, rng: &mut impl Rng) -> Self {
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(tiers.len());
        for tier in tiers {
            let mut kept: Vec<String> = tier
                .into_iter()
                .map(|url| url.trim().to_owned())
                .filter(|url| !url.is_empty() && seen.insert(url.clone()))
                .collect();
            if !kept.is_empty() {
                kept.shuffle(rng);
                out.push(kept);
            }
        }
        Self { tiers: out }
    }

    /// The tiers in trying order.
    pub fn tiers(&self) -> &[Vec<String>] {
        &self.tiers
    }

    /// Whether there is no tracker at all.
    pub fn is_empty(&self) -> bool {
        self.tiers.is_empty()
    }

    /// The number of trackers over all tiers.
    pub fn len(&self) -> usize {
        self.tiers.iter().map(Vec::len).sum()
    }

    /// The URL at `pos`, if there is one.
    pub fn get(&self, pos: TrackerPos) -> Option<&str> {
        self.tiers.get(pos.tier)?.get(pos.index).map(String::as_str)
    }

    /// Where `url` is, if it is in the list.
    pub fn position(&self, url: &str) -> Option<TrackerPos> {
        self.tiers.iter().enumerate().find_map(|(tier, urls)| {
            urls.iter().position(|u| u == url).map(|index| TrackerPos { tier, index })
        })
    }

    /// The position tried after `pos`: the next URL of the tier, else the first of the next
    /// tier; `None` after the last tracker.
    pub fn next(&self, pos: TrackerPos) -> Option<TrackerPos> {
        let tier = self.tiers.get(pos.tier)?;
        if pos.index + 1 < tier.len() {
            return Some(TrackerPos { tier: pos.tier, index: pos.index + 1 });
        }
        let next_tier = pos.tier + 1;
        (next_tier < self.tiers.len()).then_some(TrackerPos { tier: next_tier, index: 0 })
    }

    /// Moves `url` to the front of its tier, after it answered. Unknown URLs are ignored.
    pub fn promote(&mut self, url: &str) {
        if let Some(pos) = self.position(url) {
            if let Some(tier) = self.tiers.get_mut(pos.tier) {
                tier[..=pos.index].rotate_right(1);
            }
        }
    }

    /// All URLs in trying order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.tiers.iter().flatten().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    fn tiers(spec: &[&[&str]]) -> Vec<Vec<String>> {
        spec.iter().map(|tier| tier.iter().map(|s| s.to_string()).collect()).collect()
    }

    #[test]
    fn each_tier_is_shuffled_and_tiers_keep_their_order() {
        let names: Vec<String> = (0..8).map(|i| format!("http://t{i}/a")).collect();
        let input = vec![names.clone(), vec!["udp://x:1".to_string()]];
        let mut orders = HashSet::new();
        for seed in 0..20 {
            let list = TrackerList::new(input.clone(), &mut StdRng::seed_from_u64(seed));
            let mut first = list.tiers()[0].clone();
            orders.insert(first.clone());
            first.sort();
            assert_eq!(first, names, "same members");
            assert_eq!(list.tiers()[1], ["udp://x:1"]);
        }
        assert!(orders.len() > 10, "shuffling gave only {} orders", orders.len());
    }

    #[test]
    fn blanks_duplicates_and_empty_tiers_are_dropped() {
        let list = TrackerList::new(
            tiers(&[&[" http://a/ann "], &["", "  "], &["http://a/ann", "http://b/ann"]]),
            &mut StdRng::seed_from_u64(0),
        );
        assert_eq!(list.tiers(), tiers(&[&["http://a/ann"], &["http://b/ann"]]));
        assert_eq!(list.len(), 2);
        assert!(!list.is_empty());
        assert!(TrackerList::new(vec![vec![]], &mut StdRng::seed_from_u64(0)).is_empty());
    }

    #[test]
    fn trying_order_walks_tiers_then_urls() {
        let mut list = TrackerList::new(vec![], &mut StdRng::seed_from_u64(0));
        list.tiers = tiers(&[&["a", "b"], &["c"], &["d", "e"]]);
        let mut order = vec![];
        let mut pos = Some(TrackerPos::default());
        while let Some(p) = pos {
            order.push(list.get(p).unwrap().to_string());
            pos = list.next(p);
        }
        assert_eq!(order, ["a", "b", "c", "d", "e"]);
        assert_eq!(list.iter().collect::<Vec<_>>(), order);
        assert_eq!(list.next(TrackerPos { tier: 9, index: 0 }), None);
        assert_eq!(list.get(TrackerPos { tier: 0, index: 2 }), None);
    }

    #[test]
    fn promote_moves_a_url_to_the_front_of_its_tier_only() {
        let mut list = TrackerList::new(vec![], &mut StdRng::seed_from_u64(0));
        list.tiers = tiers(&[&["a", "b"], &["c", "d", "e"]]);
        list.promote("e");
        assert_eq!(list.tiers(), tiers(&[&["a", "b"], &["e", "c", "d"]]));
        list.promote("e");
        list.promote("nope");
        assert_eq!(list.tiers(), tiers(&[&["a", "b"], &["e", "c", "d"]]));
        list.promote("b");
        assert_eq!(list.tiers(), tiers(&[&["b", "a"], &["e", "c", "d"]]));
        assert_eq!(list.position("d"), Some(TrackerPos { tier: 1, index: 2 }));
    }
}
