//! Starting, advancing and finishing lookups, bootstrap included.

use std::time::Instant;

use crate::id::NodeId;
use crate::krpc::Method;
use crate::lookup::{Lookup, LookupId, LookupLimits, Purpose};

use super::rpc::Purpose as Sent;
use super::{Dht, DhtEvent, Waiting, BOOTSTRAP_RETRY, MAX_ROUTERS, MAX_WAITING};

/// Candidates a lookup remembers, in multiples of `k`.
const CANDIDATES_PER_K: usize = 8;
/// Queries a lookup sends at most, in multiples of `k`.
const QUERIES_PER_K: usize = 16;
/// Distinct peers a lookup remembers for deduplication.
const MAX_LOOKUP_PEERS: usize = 4096;

impl Dht {
    fn lookup_limits(&self) -> LookupLimits {
        let k = self.config.table.k.max(1);
        LookupLimits {
            k,
            alpha: self.config.alpha.max(1),
            max_candidates: k.saturating_mul(CANDIDATES_PER_K),
            max_queries: k.saturating_mul(QUERIES_PER_K),
            max_peers: MAX_LOOKUP_PEERS,
        }
    }

    /// Gives a lookup an id and queues it; [`start_waiting`](Self::start_waiting) runs it.
    pub(super) fn queue_lookup(
        &mut self,
        purpose: Purpose,
        target: NodeId,
        now: Instant,
    ) -> LookupId {
        let id = LookupId(self.next_lookup);
        self.next_lookup += 1;
        if self.waiting.len() >= MAX_WAITING {
            self.finished(id, purpose, 0);
        } else {
            self.waiting.push_back(Waiting { id, purpose, target });
            self.start_waiting(now);
        }
        id
    }

    /// Starts queued lookups while there is room. While bootstrap runs and the table is
    /// still small, they wait for it: starting them now would only ask the routers.
    pub(super) fn start_waiting(&mut self, now: Instant) {
        while self.lookups.len() < self.config.max_lookups.max(1) {
            if self.bootstrapping.is_some() && self.table.len() < self.config.table.k {
                return;
            }
            let Some(next) = self.waiting.pop_front() else { return };
            self.launch(next.id, next.purpose, next.target, now);
        }
    }

    pub(super) fn start_bootstrap(&mut self, now: Instant) {
        let id = LookupId(self.next_lookup);
        self.next_lookup += 1;
        self.bootstrapping = Some(id);
        self.next_bootstrap = None;
        self.launch(id, Purpose::Bootstrap, self.id, now);
    }

    fn launch(&mut self, id: LookupId, purpose: Purpose, target: NodeId, now: Instant) {
        let limits = self.lookup_limits();
        let known = self.table.closest(&target, limits.max_candidates, now);
        let seeds = if purpose == Purpose::Bootstrap || known.is_empty() {
            self.routers.iter().take(MAX_ROUTERS).copied().collect()
        } else {
            Vec::new()
        };
        let mut lookup = Lookup::new(target, purpose, limits, &known, seeds);
        if purpose == Purpose::Bootstrap {
            let saved: Vec<_> = self
                .known
                .iter()
                .filter(|n| n.id != self.id && self.may_contact(&n.addr))
                .copied()
                .collect();
            lookup.add_candidates(&saved);
        }
        // Peers announced to us count too: in a small swarm we may be the closest node.
        if let Some(info_hash) = purpose.info_hash() {
            let max = self.config.max_values;
            let local = self.store.peers(&info_hash, max, now, &mut self.rng);
            let peers = lookup.new_peers(&local);
            if !peers.is_empty() {
                self.events.push_back(DhtEvent::Peers { lookup: id, info_hash, peers });
            }
        }
        self.lookups.insert(id, lookup);
        self.step_lookup(id, now);
    }

    /// Sends what the lookup wants sent; finishes it when it is done. Queries that cannot
    /// be sent (full tables) count as failed, so every pass settles at least one candidate
    /// and the loop ends.
    pub(super) fn step_lookup(&mut self, id: LookupId, now: Instant) {
        loop {
            let Some(lookup) = self.lookups.get_mut(&id) else { return };
            if lookup.is_done() {
                self.finish_lookup(id, now);
                return;
            }
            let queries = lookup.next_queries();
            let method = match lookup.purpose {
                Purpose::Bootstrap | Purpose::Refresh => Method::FindNode { target: lookup.target },
                Purpose::GetPeers(h) | Purpose::Announce(h, _) => Method::GetPeers { info_hash: h },
            };
            if queries.is_empty() {
                return;
            }
            let mut unsent = Vec::new();
            for (addr, node) in queries {
                let sent = Sent::Lookup { lookup: id, seed: node.is_none() };
                if !self.send_query(addr, node, method.clone(), sent, now) {
                    unsent.push((addr, node.is_none()));
                }
            }
            if unsent.is_empty() {
                return;
            }
            let Some(lookup) = self.lookups.get_mut(&id) else { return };
            for (addr, seed) in unsent {
                lookup.on_failure(&addr, seed);
            }
        }
    }

    fn finish_lookup(&mut self, id: LookupId, now: Instant) {
        let Some(lookup) = self.lookups.remove(&id) else { return };
        let mut announced = 0;
        if let Purpose::Announce(info_hash, port) = lookup.purpose {
            for (node, token) in lookup.announce_targets() {
                let method = Method::AnnouncePeer { info_hash, port, implied_port: false, token };
                if self.send_query(node.addr, Some(node.id), method, Sent::Announce, now) {
                    announced += 1;
                }
            }
        }
        if self.bootstrapping == Some(id) {
            self.bootstrapping = None;
            let retry =
                self.table.is_empty() && !(self.routers.is_empty() && self.known.is_empty());
            if retry {
                self.next_bootstrap = Some(now + self.bootstrap_backoff);
                self.bootstrap_backoff = (self.bootstrap_backoff * 2).min(BOOTSTRAP_RETRY.1);
            } else {
                self.bootstrap_backoff = BOOTSTRAP_RETRY.0;
            }
        }
        self.finished(id, lookup.purpose, announced);
    }

    /// Reports the end of a lookup.
    fn finished(&mut self, id: LookupId, purpose: Purpose, announced: usize) {
        let event = match purpose {
            Purpose::Bootstrap => DhtEvent::Bootstrapped { nodes: self.table.len() },
            Purpose::Refresh => return,
            Purpose::GetPeers(info_hash) | Purpose::Announce(info_hash, _) => {
                DhtEvent::LookupDone { lookup: id, info_hash, announced }
            }
        };
        self.events.push_back(event);
    }
}
