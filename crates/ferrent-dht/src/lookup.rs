//! Iterative Kademlia lookups: query the closest known nodes toward a target, learn closer
//! ones from their answers, and stop once the `k` closest candidates have all answered.

use std::collections::HashSet;
use std::net::SocketAddr;

use ferrent_core::InfoHashV1;

use crate::addr::NodeInfo;
use crate::id::{Distance, NodeId};

/// Identifies one lookup in [`DhtEvent`](crate::DhtEvent)s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LookupId(pub u64);

/// Why a lookup runs, which decides the query it sends and what happens at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// `find_node` for our own id, to fill the routing table.
    Bootstrap,
    /// `find_node` for a random id in a stale bucket.
    Refresh,
    /// `get_peers` for a torrent.
    GetPeers(InfoHashV1),
    /// `get_peers`, then `announce_peer` with `port` to the closest nodes that gave tokens.
    Announce(InfoHashV1, u16),
}

impl Purpose {
    pub(crate) fn info_hash(&self) -> Option<InfoHashV1> {
        match self {
            Purpose::GetPeers(h) | Purpose::Announce(h, _) => Some(*h),
            Purpose::Bootstrap | Purpose::Refresh => None,
        }
    }
}

/// Lookup parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LookupLimits {
    /// The lookup ends when this many closest candidates answered.
    pub k: usize,
    /// Queries in flight at once, not counting the first queries to id-less seeds.
    pub alpha: usize,
    /// Candidates remembered; farther ones are forgotten.
    pub max_candidates: usize,
    /// Queries sent in total before the lookup gives up on getting closer.
    pub max_queries: usize,
    /// Distinct peers remembered for deduplication.
    pub max_peers: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Fresh,
    InFlight,
    Responded,
    Failed,
}

#[derive(Debug, Clone)]
struct Candidate {
    info: NodeInfo,
    distance: Distance,
    state: State,
    token: Option<Vec<u8>>,
}

/// One running lookup.
#[derive(Debug, Clone)]
pub(crate) struct Lookup {
    pub target: NodeId,
    pub purpose: Purpose,
    limits: LookupLimits,
    candidates: Vec<Candidate>,
    /// Addresses to query first whose ids are unknown (bootstrap routers).
    seeds: Vec<SocketAddr>,
    seeds_in_flight: usize,
    in_flight: usize,
    queries: usize,
    peers: HashSet<SocketAddr>,
}

impl Lookup {
    pub fn new(
        target: NodeId,
        purpose: Purpose,
        limits: LookupLimits,
        known: &[NodeInfo],
        seeds: Vec<SocketAddr>,
    ) -> Self {
        let mut lookup = Self {
            target,
            purpose,
            limits,
            candidates: Vec::new(),
            seeds,
            seeds_in_flight: 0,
            in_flight: 0,
            queries: 0,
            peers: HashSet::new(),
        };
        lookup.add_candidates(known);
        lookup
    }

    /// Adds nodes not seen before, keeping the list sorted and bounded.
    pub fn add_candidates(&mut self, nodes: &[NodeInfo]) {
        for node in nodes {
            if self.candidates.iter().any(|c| c.info.addr == node.addr || c.info.id == node.id) {
                continue;
            }
            let distance = node.id.distance(&self.target);
            let at = self.candidates.partition_point(|c| c.distance < distance);
            if at >= self.limits.max_candidates {
                continue;
            }
            let candidate = Candidate { info: *node, distance, state: State::Fresh, token: None };
            self.candidates.insert(at, candidate);
        }
        while self.candidates.len() > self.limits.max_candidates {
            // Forget the farthest candidate not awaiting an answer.
            match self.candidates.iter().rposition(|c| c.state != State::InFlight) {
                Some(i) => {
                    self.candidates.remove(i);
                }
                None => break,
            }
        }
    }

    /// The queries to send now: every seed not yet asked, then fresh candidates among the
    /// `k` closest while fewer than `alpha` are in flight. Ids are `None` for seeds.
    pub fn next_queries(&mut self) -> Vec<(SocketAddr, Option<NodeId>)> {
        let mut out: Vec<(SocketAddr, Option<NodeId>)> =
            self.seeds.drain(..).map(|addr| (addr, None)).collect();
        self.seeds_in_flight += out.len();
        let live = self.candidates.iter_mut().filter(|c| c.state != State::Failed);
        for (rank, c) in live.enumerate() {
            if rank >= self.limits.k
                || self.in_flight >= self.limits.alpha
                || self.queries >= self.limits.max_queries
            {
                break;
            }
            if c.state == State::Fresh {
                c.state = State::InFlight;
                self.in_flight += 1;
                self.queries += 1;
                out.push((c.info.addr, Some(c.info.id)));
            }
        }
        out
    }

    fn settle(&mut self, addr: &SocketAddr, seed: bool, state: State) -> Option<&mut Candidate> {
        if seed {
            self.seeds_in_flight = self.seeds_in_flight.saturating_sub(1);
            return None;
        }
        self.in_flight = self.in_flight.saturating_sub(1);
        let c = self.candidates.iter_mut().find(|c| c.info.addr == *addr)?;
        c.state = state;
        Some(c)
    }

    /// The node at `addr` answered with `nodes` (already filtered) and maybe a token.
    pub fn on_response(
        &mut self,
        addr: &SocketAddr,
        seed: bool,
        nodes: &[NodeInfo],
        token: Option<Vec<u8>>,
    ) {
        if let Some(c) = self.settle(addr, seed, State::Responded) {
            c.token = token;
        }
        self.add_candidates(nodes);
    }

    /// The node at `addr` did not answer, or answered with an error.
    pub fn on_failure(&mut self, addr: &SocketAddr, seed: bool) {
        self.settle(addr, seed, State::Failed);
    }

    /// The peers in `values` not reported before (bounded by `max_peers`).
    pub fn new_peers(&mut self, values: &[SocketAddr]) -> Vec<SocketAddr> {
        let mut fresh = Vec::new();
        for peer in values {
            if self.peers.len() >= self.limits.max_peers {
                break;
            }
            if self.peers.insert(*peer) {
                fresh.push(*peer);
            }
        }
        fresh
    }

    /// True once the `k` closest live candidates all answered, or nothing is left to ask.
    pub fn is_done(&self) -> bool {
        let mut answered = 0;
        for c in self.candidates.iter().filter(|c| c.state != State::Failed).take(self.limits.k) {
            match c.state {
                State::Responded => answered += 1,
                State::InFlight => return false,
                State::Fresh if self.queries < self.limits.max_queries => return false,
                State::Fresh | State::Failed => {}
            }
        }
        answered >= self.limits.k
            || (self.in_flight == 0 && self.seeds_in_flight == 0 && self.seeds.is_empty())
    }

    /// The closest nodes (up to `k`) that answered with a token, for `announce_peer`.
    pub fn announce_targets(&self) -> Vec<(NodeInfo, Vec<u8>)> {
        self.candidates
            .iter()
            .filter(|c| c.state == State::Responded)
            .filter_map(|c| c.token.clone().map(|t| (c.info, t)))
            .take(self.limits.k)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: LookupLimits =
        LookupLimits { k: 2, alpha: 2, max_candidates: 4, max_queries: 100, max_peers: 3 };

    fn node(first: u8) -> NodeInfo {
        let mut id = [0u8; 20];
        id[0] = first;
        NodeInfo { id: NodeId(id), addr: SocketAddr::from(([1, 0, 0, first], 1)) }
    }

    #[test]
    fn converges_on_the_closest_and_ends() {
        let target = NodeId([0; 20]);
        let mut l =
            Lookup::new(target, Purpose::Refresh, LIMITS, &[node(0x80), node(0x40)], vec![]);
        let q = l.next_queries();
        assert_eq!(
            q,
            [(node(0x40).addr, Some(node(0x40).id)), (node(0x80).addr, Some(node(0x80).id))]
        );
        assert!(l.next_queries().is_empty(), "alpha reached");
        l.on_response(&node(0x40).addr, false, &[node(0x10), node(0x20), node(0xf0)], None);
        // Closest two are now 0x10 and 0x20; only one slot is free.
        assert_eq!(l.next_queries(), [(node(0x10).addr, Some(node(0x10).id))]);
        l.on_failure(&node(0x80).addr, false);
        assert_eq!(l.next_queries(), [(node(0x20).addr, Some(node(0x20).id))]);
        assert!(!l.is_done());
        l.on_response(&node(0x10).addr, false, &[], Some(b"t1".to_vec()));
        assert!(!l.is_done());
        l.on_response(&node(0x20).addr, false, &[], Some(b"t2".to_vec()));
        assert!(l.is_done());
        let targets = l.announce_targets();
        assert_eq!(targets, [(node(0x10), b"t1".to_vec()), (node(0x20), b"t2".to_vec())]);
    }

    #[test]
    fn candidates_stay_bounded_and_unique() {
        let mut l = Lookup::new(NodeId([0; 20]), Purpose::Refresh, LIMITS, &[], vec![]);
        l.add_candidates(&[node(9), node(8), node(7), node(6), node(5), node(9)]);
        assert_eq!(l.candidates.len(), 4);
        assert_eq!(l.candidates[0].info, node(5));
        assert_eq!(l.candidates[3].info, node(8));
    }

    #[test]
    fn seeds_are_all_asked_and_awaited() {
        let seeds = vec![node(1).addr, node(2).addr, node(3).addr];
        let mut l = Lookup::new(NodeId([0; 20]), Purpose::Bootstrap, LIMITS, &[], seeds);
        assert_eq!(l.next_queries().len(), 3);
        assert!(!l.is_done());
        l.on_failure(&node(1).addr, true);
        l.on_response(&node(2).addr, true, &[node(0x33)], None);
        assert_eq!(l.next_queries(), [(node(0x33).addr, Some(node(0x33).id))]);
        l.on_failure(&node(3).addr, true);
        l.on_failure(&node(0x33).addr, false);
        assert!(l.is_done(), "nothing left to ask");
    }

    #[test]
    fn peers_are_deduplicated_and_bounded() {
        let mut l = Lookup::new(NodeId([0; 20]), Purpose::Refresh, LIMITS, &[], vec![]);
        let p = |n: u8| SocketAddr::from(([2, 0, 0, n], 80));
        assert_eq!(l.new_peers(&[p(1), p(2), p(1)]), [p(1), p(2)]);
        assert_eq!(l.new_peers(&[p(2), p(3), p(4)]), [p(3)]);
    }
}
