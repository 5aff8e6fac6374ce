//! The node state machine: [`Dht`] turns datagrams, commands and the passage of time into
//! datagrams to send and events to report.

mod client;
mod driving;
mod rpc;
mod server;

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use ferrent_core::InfoHashV1;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::addr::{canonical_addr, Family, NodeInfo};
use crate::config::Config;
use crate::id::NodeId;
use crate::krpc::{Body, Message};
use crate::lookup::{Lookup, LookupId, Purpose};
use crate::ratelimit::RateLimiter;
use crate::routing::RoutingTable;
use crate::state::SavedState;
use crate::store::PeerStore;
use crate::token::Tokens;

use self::rpc::Transactions;

/// Datagrams queued for sending at most; beyond this, new ones are dropped (queries then
/// time out like lost packets).
const MAX_TRANSMIT: usize = 1024;
/// Lookups queued behind `max_lookups` at most; beyond this they end at once, empty.
const MAX_WAITING: usize = 1024;
/// Bootstrap routers remembered at most.
const MAX_ROUTERS: usize = 32;
/// Saved nodes remembered for bootstrapping at most.
const MAX_KNOWN: usize = 256;
/// How often expired announces are swept from the peer store.
const STORE_SWEEP: Duration = Duration::from_secs(60);
/// Least time between two bucket refresh lookups.
const REFRESH_SPACING: Duration = Duration::from_secs(2);
/// First and longest wait before bootstrapping again after ending with an empty table.
const BOOTSTRAP_RETRY: (Duration, Duration) = (Duration::from_secs(15), Duration::from_secs(600));
/// External addresses tallied at most (BEP 42 `ip` votes).
const MAX_VOTES: usize = 16;

/// What a [`Dht`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DhtEvent {
    /// A bootstrap lookup ended; `nodes` is the routing table's size (0 means it failed and
    /// will be retried with backoff while routers or saved nodes are known).
    Bootstrapped {
        /// Nodes in the routing table.
        nodes: usize,
    },
    /// A `get_peers` or announce lookup found peers not reported before in this lookup.
    Peers {
        /// The lookup.
        lookup: LookupId,
        /// The torrent.
        info_hash: InfoHashV1,
        /// The new peers.
        peers: Vec<SocketAddr>,
    },
    /// A `get_peers` or announce lookup ended.
    LookupDone {
        /// The lookup.
        lookup: LookupId,
        /// The torrent.
        info_hash: InfoHashV1,
        /// How many nodes were sent `announce_peer` (0 for a plain `get_peers`).
        announced: usize,
    },
}

/// A snapshot of a node's size, for monitoring and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DhtStats {
    /// Nodes in the routing table.
    pub nodes: usize,
    /// Buckets in the routing table.
    pub buckets: usize,
    /// Queries awaiting an answer.
    pub pending_queries: usize,
    /// Lookups running.
    pub lookups: usize,
    /// Lookups waiting to start.
    pub queued_lookups: usize,
    /// Info hashes in the peer store.
    pub stored_info_hashes: usize,
    /// Peers in the peer store.
    pub stored_peers: usize,
    /// Datagrams waiting in [`Dht::poll_transmit`].
    pub queued_datagrams: usize,
}

/// A lookup that has an id but has not started.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    id: LookupId,
    purpose: Purpose,
    target: NodeId,
}

/// A sans-IO mainline DHT node (BEP 5).
///
/// Feed it every datagram received on its UDP socket ([`handle_datagram`]) and call
/// [`handle_timeout`] when [`poll_timeout`] is reached; after each call, send everything
/// [`poll_transmit`] yields and read [`poll_event`]. It never does I/O, never reads a clock
/// and draws randomness only from the seed in its [`Config`].
///
/// [`handle_datagram`]: Dht::handle_datagram
/// [`handle_timeout`]: Dht::handle_timeout
/// [`poll_timeout`]: Dht::poll_timeout
/// [`poll_transmit`]: Dht::poll_transmit
/// [`poll_event`]: Dht::poll_event
#[derive(Debug)]
pub struct Dht {
    config: Config,
    id: NodeId,
    rng: SmallRng,
    table: RoutingTable,
    tokens: Tokens,
    store: PeerStore,
    limiter: RateLimiter,
    rpc: Transactions,
    lookups: BTreeMap<LookupId, Lookup>,
    waiting: VecDeque<Waiting>,
    next_lookup: u64,
    routers: Vec<SocketAddr>,
    known: Vec<NodeInfo>,
    bootstrapping: Option<LookupId>,
    next_bootstrap: Option<Instant>,
    bootstrap_backoff: Duration,
    next_sweep: Instant,
    next_refresh_allowed: Instant,
    votes: Vec<(IpAddr, u32)>,
    transmit: VecDeque<(SocketAddr, Vec<u8>)>,
    events: VecDeque<DhtEvent>,
}

impl Dht {
    /// A node with an empty routing table; call [`bootstrap`](Self::bootstrap) next.
    pub fn new(config: Config, now: Instant) -> Self {
        let mut rng = SmallRng::seed_from_u64(config.seed);
        let id = config.node_id.unwrap_or_else(|| NodeId::random(&mut rng));
        let table = RoutingTable::new(id, config.table, now);
        let tokens = Tokens::new(config.token_rotation, now, &mut rng);
        let limiter = RateLimiter::new(config.rate_limit, rng.gen());
        let rpc = Transactions::new(rng.gen(), config.max_pending);
        Self {
            store: PeerStore::new(config.store),
            id,
            table,
            tokens,
            limiter,
            rpc,
            rng,
            lookups: BTreeMap::new(),
            waiting: VecDeque::new(),
            next_lookup: 1,
            routers: Vec::new(),
            known: Vec::new(),
            bootstrapping: None,
            next_bootstrap: None,
            bootstrap_backoff: BOOTSTRAP_RETRY.0,
            next_sweep: now + STORE_SWEEP,
            next_refresh_allowed: now,
            votes: Vec::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            config,
        }
    }

    /// Our node id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The routing table.
    pub fn routing_table(&self) -> &RoutingTable {
        &self.table
    }

    /// Sizes of the node's state.
    pub fn stats(&self) -> DhtStats {
        DhtStats {
            nodes: self.table.len(),
            buckets: self.table.bucket_count(),
            pending_queries: self.rpc.len(),
            lookups: self.lookups.len(),
            queued_lookups: self.waiting.len(),
            stored_info_hashes: self.store.info_hash_count(),
            stored_peers: self.store.peer_count(),
            queued_datagrams: self.transmit.len(),
        }
    }

    /// The live peers other nodes announced to us for `info_hash`.
    pub fn stored_peers(&self, info_hash: &InfoHashV1, now: Instant) -> Vec<SocketAddr> {
        self.store.live_peers(info_hash, now)
    }

    /// The external IP most responders reported (BEP 42 `ip`), once at least two agree.
    pub fn external_ip(&self) -> Option<IpAddr> {
        self.votes.iter().filter(|(_, n)| *n >= 2).max_by_key(|(_, n)| *n).map(|(ip, _)| *ip)
    }

    /// Our id, external IP and routing table, to save and pass back next run.
    pub fn saved_state(&self) -> SavedState {
        SavedState {
            id: self.id,
            external_ip: self.external_ip(),
            nodes: self.table.entries().map(|e| e.info).collect(),
        }
    }

    /// Nodes (typically from a [`SavedState`]) to contact first when bootstrapping.
    pub fn add_bootstrap_nodes(&mut self, nodes: &[NodeInfo]) {
        for node in nodes {
            if self.known.len() < MAX_KNOWN && !self.known.contains(node) {
                self.known.push(*node);
            }
        }
    }

    /// Joins the DHT: looks up our own id, starting from the saved nodes and `routers`
    /// (well-known bootstrap nodes, resolved by the caller). Ends with
    /// [`DhtEvent::Bootstrapped`]; retried with backoff while the table stays empty.
    /// Lookups asked for meanwhile wait until the table has `k` nodes or bootstrap ends.
    pub fn bootstrap(&mut self, routers: &[SocketAddr], now: Instant) {
        for router in routers.iter().map(|r| canonical_addr(*r)) {
            if self.routers.len() < MAX_ROUTERS && !self.routers.contains(&router) {
                self.routers.push(router);
            }
        }
        if self.bootstrapping.is_none() {
            self.start_bootstrap(now);
        }
        self.start_waiting(now);
    }

    /// Starts a `get_peers` lookup; peers arrive as [`DhtEvent::Peers`], the end as
    /// [`DhtEvent::LookupDone`].
    pub fn get_peers(&mut self, info_hash: InfoHashV1, now: Instant) -> LookupId {
        self.queue_lookup(Purpose::GetPeers(info_hash), info_hash.into(), now)
    }

    /// Looks up `info_hash` like [`get_peers`](Self::get_peers), then announces that we are
    /// a peer on TCP/uTP `port` to the closest nodes that gave a token.
    pub fn announce(&mut self, info_hash: InfoHashV1, port: u16, now: Instant) -> LookupId {
        self.queue_lookup(Purpose::Announce(info_hash, port), info_hash.into(), now)
    }

    /// Pings a node we heard of outside the DHT (a peer's BEP 5 `port` message); it joins
    /// the routing table if it answers and there is room.
    pub fn add_node(&mut self, addr: SocketAddr, now: Instant) {
        let addr = canonical_addr(addr);
        if self.may_contact(&addr) && self.table.get(&addr).is_none() {
            self.ping(addr, None, now);
        }
    }

    /// Handles one datagram received from `from`. Malformed or oversized datagrams change
    /// nothing (a query with a readable transaction id gets a KRPC error, within the rate
    /// limit).
    pub fn handle_datagram(&mut self, from: SocketAddr, bytes: &[u8], now: Instant) {
        let from = canonical_addr(from);
        if from.port() == 0 {
            return;
        }
        match Message::decode(bytes, self.config.max_packet) {
            Ok(message) => match message.body {
                Body::Query(query) => {
                    self.on_query(from, message.transaction_id, message.read_only, query, now)
                }
                Body::Response(response) => {
                    self.on_response(from, &message.transaction_id, response, message.ip, now)
                }
                Body::Error(_) => self.on_error(from, &message.transaction_id, now),
            },
            Err(error) => self.on_malformed(from, &error, now),
        }
        self.start_waiting(now);
    }

    /// Handles the passage of time: query timeouts, token rotation, peer expiry, bucket
    /// refresh and bootstrap retries.
    pub fn handle_timeout(&mut self, now: Instant) {
        for pending in self.rpc.expire(now) {
            self.query_failed(pending, now);
        }
        self.tokens.maybe_rotate(now, &mut self.rng);
        if now >= self.next_sweep {
            self.store.expire(now);
            self.next_sweep = now + STORE_SWEEP;
        }
        if self.bootstrapping.is_none() && self.next_bootstrap.is_some_and(|t| now >= t) {
            self.next_bootstrap = None;
            self.start_bootstrap(now);
        }
        if now >= self.next_refresh_allowed {
            let interval = self.config.refresh_interval;
            if let Some(target) = self.table.take_stale_bucket(now, interval, &mut self.rng) {
                self.next_refresh_allowed = now + REFRESH_SPACING;
                self.queue_lookup(Purpose::Refresh, target, now);
            }
        }
        self.start_waiting(now);
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, Vec<u8>)> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<DhtEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let refresh = self
            .table
            .next_refresh(self.config.refresh_interval)
            .map(|t| t.max(self.next_refresh_allowed));
        [
            self.rpc.next_deadline(),
            Some(self.tokens.next_rotation()),
            Some(self.next_sweep),
            self.next_bootstrap.filter(|_| self.bootstrapping.is_none()),
            refresh,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// True when `addr` may be queried: allowed by the address policy and of our family.
    fn may_contact(&self, addr: &SocketAddr) -> bool {
        self.config.addresses.allows(addr) && Family::of(addr) == self.config.family
    }

    /// Queues a datagram, dropping it when the queue is full.
    fn send(&mut self, to: SocketAddr, message: &Message) -> bool {
        if self.transmit.len() >= MAX_TRANSMIT {
            return false;
        }
        self.transmit.push_back((to, message.encode()));
        true
    }

    /// Tallies a responder's report of our address (BEP 42 `ip`).
    fn vote_external(&mut self, ip: IpAddr) {
        if let Some(entry) = self.votes.iter_mut().find(|(v, _)| *v == ip) {
            entry.1 = entry.1.saturating_add(1);
            return;
        }
        if self.votes.len() >= MAX_VOTES {
            if let Some(least) = self.votes.iter().enumerate().min_by_key(|(_, v)| v.1) {
                let index = least.0;
                self.votes.swap_remove(index);
            }
        }
        self.votes.push((ip, 1));
    }
}
