//! Tunables of a [`Dht`](crate::Dht) node.

use std::time::Duration;

use crate::addr::{AddressPolicy, Family};
use crate::id::NodeId;
use crate::krpc::MAX_PACKET;
use crate::ratelimit::RateLimitConfig;
use crate::routing::TableConfig;
use crate::store::StoreConfig;

/// Everything a [`Dht`](crate::Dht) can be tuned with. [`Config::default`] follows BEP 5 and
/// common practice; tests shorten timeouts and open the address policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Our node id; `None` draws a random one from `seed` (see also
    /// [`generate_id`](crate::generate_id) for a BEP 42 id once the external IP is known).
    pub node_id: Option<NodeId>,
    /// Seed of the node's random number generator (ids, transaction ids, token secrets).
    pub seed: u64,
    /// The address family the node routes in: the family of its socket.
    pub family: Family,
    /// Bucket size, failure threshold and the 15-minute liveness rule.
    pub table: TableConfig,
    /// Queries in flight per lookup (Kademlia's alpha; BEP 5 implementations use 3).
    pub alpha: usize,
    /// How long to wait for an answer before a query counts as failed.
    pub query_timeout: Duration,
    /// Buckets unchanged for this long are refreshed with a lookup (BEP 5: 15 minutes).
    pub refresh_interval: Duration,
    /// BEP 43: send `ro=1` and answer no queries (for nodes behind restrictive NATs or on
    /// metered links).
    pub read_only: bool,
    /// BEP 42: keep nodes whose id does not match their (non-local) IP out of the routing
    /// table.
    pub enforce_node_id: bool,
    /// Which addresses may be contacted and routed (loopback and private are off by default).
    pub addresses: AddressPolicy,
    /// Incoming datagrams longer than this are dropped unread.
    pub max_packet: usize,
    /// How often the token secret rotates; the previous secret stays valid for one more
    /// period (BEP 5: 5 minutes).
    pub token_rotation: Duration,
    /// Announced peers kept for other nodes: expiry and caps.
    pub store: StoreConfig,
    /// Most peers in one `get_peers` answer.
    pub max_values: usize,
    /// Limits on the queries this node answers.
    pub rate_limit: RateLimitConfig,
    /// Lookups running at once; more wait in a queue.
    pub max_lookups: usize,
    /// Queries awaiting an answer at once; when full, new queries wait or are dropped.
    pub max_pending: usize,
    /// The client version sent in `v` (two letters and two version bytes by convention).
    pub version: Option<Vec<u8>>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            node_id: None,
            seed: 0,
            family: Family::V4,
            table: TableConfig::default(),
            alpha: 3,
            query_timeout: Duration::from_secs(2),
            refresh_interval: Duration::from_secs(15 * 60),
            read_only: false,
            enforce_node_id: true,
            addresses: AddressPolicy::default(),
            max_packet: MAX_PACKET,
            token_rotation: Duration::from_secs(5 * 60),
            store: StoreConfig::default(),
            max_values: 50,
            rate_limit: RateLimitConfig::default(),
            max_lookups: 16,
            max_pending: 256,
            version: Some(b"FE\x00\x01".to_vec()),
        }
    }
}
