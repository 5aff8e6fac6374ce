//! The routing table: k-buckets over the id space, split around our own id (BEP 5).
//!
//! Only nodes that answered one of our queries enter the table. A node is *good* while it
//! answered within the last 15 minutes, or answered once and queried us within the last 15
//! minutes; *bad* after `max_failures` queries in a row went unanswered; *questionable*
//! otherwise. A full bucket takes a new node only in place of a bad one; the newcomer waits
//! in the bucket's replacement cache while the table asks for its least recently seen
//! questionable node to be pinged, and takes that node's place once it turns bad.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rand::RngCore;

use crate::addr::{canonical_ip, NodeInfo};
use crate::id::{NodeId, ID_BITS};

/// Routing table parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableConfig {
    /// Bucket size (BEP 5: 8).
    pub k: usize,
    /// Unanswered queries in a row that make a node bad.
    pub max_failures: u8,
    /// How long an answer or a query keeps a node good (BEP 5: 15 minutes).
    pub good_for: Duration,
}

impl Default for TableConfig {
    fn default() -> Self {
        Self { k: 8, max_failures: 2, good_for: Duration::from_secs(15 * 60) }
    }
}

/// The table's view of a node's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    /// Recently heard from.
    Good,
    /// Not heard from for a while; worth a ping before being replaced.
    Questionable,
    /// Failed to answer repeatedly; replaced by the next node that fits.
    Bad,
}

/// A node in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Who and where.
    pub info: NodeInfo,
    /// When it last answered one of our queries.
    pub last_response: Instant,
    /// When it last sent us a query.
    pub last_query: Option<Instant>,
    /// Queries in a row it failed to answer.
    pub failures: u8,
    /// A ping to it is outstanding.
    pub pinging: bool,
}

impl Entry {
    fn new(info: NodeInfo, now: Instant) -> Self {
        Self { info, last_response: now, last_query: None, failures: 0, pinging: false }
    }

    /// Health at `now` under `config`.
    pub fn state(&self, now: Instant, config: &TableConfig) -> NodeState {
        if self.failures >= config.max_failures {
            return NodeState::Bad;
        }
        let recent = |t: Instant| now.saturating_duration_since(t) < config.good_for;
        if self.failures == 0 && (recent(self.last_response) || self.last_query.is_some_and(recent))
        {
            NodeState::Good
        } else {
            NodeState::Questionable
        }
    }

    fn last_seen(&self) -> Instant {
        self.last_query.map_or(self.last_response, |q| q.max(self.last_response))
    }
}

#[derive(Debug, Clone)]
struct Bucket {
    nodes: Vec<Entry>,
    /// Nodes that answered us while the bucket was full; newest last.
    replacements: Vec<Entry>,
    last_changed: Instant,
}

impl Bucket {
    fn new(now: Instant) -> Self {
        Self { nodes: Vec::new(), replacements: Vec::new(), last_changed: now }
    }
}

/// What [`RoutingTable::on_response`] did with a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// It was already in the table; its liveness was refreshed.
    Refreshed,
    /// It joined a bucket.
    Added,
    /// Its bucket is full; it waits in the replacement cache. When a questionable node
    /// should be pinged to make room, it is named here.
    Cached(Option<NodeInfo>),
    /// It cannot be added (our own id, or its id or address conflicts with a known node).
    Refused,
}

/// k-buckets keyed by distance from our own id.
#[derive(Debug, Clone)]
pub struct RoutingTable {
    own: NodeId,
    config: TableConfig,
    buckets: Vec<Bucket>,
}

impl RoutingTable {
    /// An empty table around `own`.
    pub fn new(own: NodeId, config: TableConfig, now: Instant) -> Self {
        Self { own, config, buckets: vec![Bucket::new(now)] }
    }

    /// Our own id.
    pub fn own_id(&self) -> NodeId {
        self.own
    }

    /// The parameters.
    pub fn config(&self) -> &TableConfig {
        &self.config
    }

    /// Number of nodes in buckets (replacement caches excluded).
    pub fn len(&self) -> usize {
        self.buckets.iter().map(|b| b.nodes.len()).sum()
    }

    /// True when no bucket holds a node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of buckets.
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    /// Every node in a bucket.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> + '_ {
        self.buckets.iter().flat_map(|b| b.nodes.iter())
    }

    /// The entry for the node at `addr`, if it is in a bucket.
    pub fn get(&self, addr: &SocketAddr) -> Option<&Entry> {
        self.entries().find(|e| e.info.addr == *addr)
    }

    fn bucket_index(&self, id: &NodeId) -> usize {
        self.own.common_prefix_len(id).min(self.buckets.len().saturating_sub(1))
    }

    fn find_mut(&mut self, addr: &SocketAddr) -> Option<(usize, usize)> {
        self.buckets.iter().enumerate().find_map(|(b, bucket)| {
            bucket.nodes.iter().position(|e| e.info.addr == *addr).map(|i| (b, i))
        })
    }

    /// True when a node with this id or at this address would conflict with a known node:
    /// same id elsewhere, another id at the same address, or (outside loopback, where every
    /// local test node shares one IP) another node on the same IP.
    fn conflicts(&self, info: &NodeInfo) -> bool {
        let ip = canonical_ip(info.addr.ip());
        self.buckets.iter().flat_map(|b| b.nodes.iter().chain(&b.replacements)).any(|e| {
            e.info.id == info.id
                || e.info.addr == info.addr
                || (!ip.is_loopback() && canonical_ip(e.info.addr.ip()) == ip)
        })
    }

    /// True when a node with `id` at `ip` could be added now (its bucket has room, a bad or
    /// questionable node, or can split): worth pinging a node we only heard a query from.
    pub fn would_accept(&self, id: &NodeId, ip: IpAddr, now: Instant) -> bool {
        if *id == self.own {
            return false;
        }
        let ip = canonical_ip(ip);
        if self.entries().any(|e| e.info.id == *id || canonical_ip(e.info.addr.ip()) == ip) {
            return false;
        }
        let index = self.bucket_index(id);
        let Some(bucket) = self.buckets.get(index) else { return false };
        bucket.nodes.len() < self.config.k
            || self.can_split(index)
            || bucket.nodes.iter().any(|e| e.state(now, &self.config) != NodeState::Good)
    }

    fn can_split(&self, index: usize) -> bool {
        index + 1 == self.buckets.len() && self.buckets.len() < ID_BITS
    }

    /// Records that `info` answered one of our queries, adding it when there is room.
    pub fn on_response(&mut self, info: NodeInfo, now: Instant) -> Inserted {
        if info.id == self.own {
            return Inserted::Refused;
        }
        if let Some((b, i)) = self.find_mut(&info.addr) {
            let bucket = &mut self.buckets[b];
            let entry = &mut bucket.nodes[i];
            if entry.info.id != info.id {
                return Inserted::Refused;
            }
            entry.last_response = now;
            entry.failures = 0;
            entry.pinging = false;
            bucket.last_changed = now;
            return Inserted::Refreshed;
        }
        // A cached replacement that answers again is just refreshed.
        let k = self.config.k;
        for bucket in &mut self.buckets {
            if let Some(cached) = bucket.replacements.iter_mut().find(|e| e.info == info) {
                cached.last_response = now;
                cached.failures = 0;
                return Inserted::Cached(None);
            }
        }
        if self.conflicts(&info) {
            return Inserted::Refused;
        }
        loop {
            let index = self.bucket_index(&info.id);
            let config = self.config;
            let bucket = &mut self.buckets[index];
            if bucket.nodes.len() < k {
                bucket.nodes.push(Entry::new(info, now));
                bucket.last_changed = now;
                return Inserted::Added;
            }
            if let Some(bad) =
                bucket.nodes.iter().position(|e| e.state(now, &config) == NodeState::Bad)
            {
                bucket.nodes[bad] = Entry::new(info, now);
                bucket.last_changed = now;
                return Inserted::Added;
            }
            if self.can_split(index) {
                self.split_last(now);
                continue;
            }
            let bucket = &mut self.buckets[index];
            if bucket.replacements.len() >= k {
                bucket.replacements.remove(0);
            }
            bucket.replacements.push(Entry::new(info, now));
            let to_ping = bucket
                .nodes
                .iter_mut()
                .filter(|e| !e.pinging && e.state(now, &config) == NodeState::Questionable)
                .min_by_key(|e| e.last_seen());
            return Inserted::Cached(to_ping.map(|e| {
                e.pinging = true;
                e.info
            }));
        }
    }

    fn split_last(&mut self, now: Instant) {
        let depth = self.buckets.len() - 1;
        let own = self.own;
        let Some(last) = self.buckets.last_mut() else { return };
        let mut deeper = Bucket::new(now);
        let (stay, go): (Vec<_>, Vec<_>) =
            last.nodes.drain(..).partition(|e| own.common_prefix_len(&e.info.id) == depth);
        last.nodes = stay;
        deeper.nodes = go;
        let (stay, go): (Vec<_>, Vec<_>) =
            last.replacements.drain(..).partition(|e| own.common_prefix_len(&e.info.id) == depth);
        last.replacements = stay;
        deeper.replacements = go;
        self.buckets.push(deeper);
    }

    /// Records that the node at `id` sent us a query. True when it is in the table.
    pub fn on_query(&mut self, id: &NodeId, addr: &SocketAddr, now: Instant) -> bool {
        match self.find_mut(addr) {
            Some((b, i)) if self.buckets[b].nodes[i].info.id == *id => {
                self.buckets[b].nodes[i].last_query = Some(now);
                true
            }
            _ => false,
        }
    }

    /// Records that the node at `addr` did not answer a query. Once bad, it makes way for a
    /// cached replacement if there is one; while a replacement waits and the node is not
    /// bad yet, it is returned to be pinged once more (BEP 5 suggests a second try).
    pub fn on_failure(&mut self, addr: &SocketAddr, now: Instant) -> Option<NodeInfo> {
        let (b, i) = self.find_mut(addr)?;
        let config = self.config;
        let bucket = &mut self.buckets[b];
        let entry = &mut bucket.nodes[i];
        entry.failures = entry.failures.saturating_add(1);
        entry.pinging = false;
        if bucket.replacements.is_empty() {
            return None;
        }
        if entry.state(now, &config) == NodeState::Bad {
            if let Some(replacement) = bucket.replacements.pop() {
                bucket.nodes[i] = replacement;
                bucket.last_changed = now;
            }
            return None;
        }
        entry.pinging = true;
        Some(entry.info)
    }

    /// Up to `count` nodes that are not bad, closest to `target` first.
    pub fn closest(&self, target: &NodeId, count: usize, now: Instant) -> Vec<NodeInfo> {
        let mut nodes: Vec<NodeInfo> = self
            .entries()
            .filter(|e| e.state(now, &self.config) != NodeState::Bad)
            .map(|e| e.info)
            .collect();
        nodes.sort_unstable_by_key(|n| n.id.distance(target));
        nodes.truncate(count);
        nodes
    }

    /// When the next bucket falls due for a refresh.
    pub fn next_refresh(&self, interval: Duration) -> Option<Instant> {
        self.buckets.iter().map(|b| b.last_changed + interval).min()
    }

    /// A random id inside a bucket unchanged for `interval`, to look up so the bucket fills
    /// with live nodes again; the bucket counts as changed from now on.
    pub fn take_stale_bucket(
        &mut self,
        now: Instant,
        interval: Duration,
        rng: &mut impl RngCore,
    ) -> Option<NodeId> {
        let last = self.buckets.len() - 1;
        let index = self
            .buckets
            .iter()
            .position(|b| now.saturating_duration_since(b.last_changed) >= interval)?;
        self.buckets[index].last_changed = now;
        Some(if index == last {
            self.own.random_within_prefix(index, rng)
        } else {
            self.own.random_at_prefix(index, rng)
        })
    }
}

#[cfg(test)]
#[path = "routing_tests.rs"]
mod tests;
