//! A sans-IO mainline DHT node (BEP 5): finds peers for torrents without trackers.
//!
//! * [`Dht`] is the whole node as a state machine: it takes received datagrams, commands
//!   ([`bootstrap`](Dht::bootstrap), [`get_peers`](Dht::get_peers),
//!   [`announce`](Dht::announce), [`add_node`](Dht::add_node)) and the current time, and
//!   yields datagrams to send, [`DhtEvent`]s and the next time it wants to be woken. It owns
//!   no socket and reads no clock; randomness comes from a seed, so runs are reproducible.
//! * [`krpc`] is the wire codec: strict, size-limited parsing with typed errors.
//! * [`RoutingTable`] holds k-buckets split around our id, with BEP 5's good /
//!   questionable / bad node states and replacement caches; [`SavedState`] persists it.
//! * As a server the node answers `ping`, `find_node`, `get_peers` and `announce_peer`,
//!   hands out tokens bound to the querier's IP (secret rotated every 5 minutes), stores
//!   announced peers with expiry and caps, and rate-limits answers per source and in total.
//! * Safety: BEP 42 node-id checks, BEP 43 read-only mode, an address policy keeping
//!   loopback and private addresses out of routing unless allowed, and bounded memory
//!   everywhere (transactions, lookups, queues, store).
//!
//! Two nodes on a virtual network, found through each other:
//!
//! ```
//! use std::time::{Duration, Instant};
//! use ferrent_core::InfoHashV1;
//! use ferrent_dht::{AddressPolicy, Config, Dht, DhtEvent};
//!
//! let config = |seed| Config {
//!     seed,
//!     addresses: AddressPolicy { allow_loopback: true, allow_private: false },
//!     ..Config::default()
//! };
//! let (a_addr, b_addr) = ("127.0.0.1:6881".parse().unwrap(), "127.0.0.1:6882".parse().unwrap());
//! let mut now = Instant::now();
//! let mut a = Dht::new(config(1), now);
//! let mut b = Dht::new(config(2), now);
//! let torrent = InfoHashV1([0x11; 20]);
//!
//! b.bootstrap(&[a_addr], now);
//! b.announce(torrent, 51413, now);
//! let lookup = a.get_peers(torrent, now + Duration::from_secs(1));
//! let mut found = Vec::new();
//! for _ in 0..100 {
//!     // Deliver every queued datagram, then let a little time pass.
//!     while let Some((to, bytes)) = a.poll_transmit() {
//!         if to == b_addr { b.handle_datagram(a_addr, &bytes, now) }
//!     }
//!     while let Some((to, bytes)) = b.poll_transmit() {
//!         if to == a_addr { a.handle_datagram(b_addr, &bytes, now) }
//!     }
//!     while let Some(event) = a.poll_event() {
//!         if let DhtEvent::Peers { peers, .. } = event { found.extend(peers) }
//!     }
//!     now += Duration::from_millis(100);
//!     a.handle_timeout(now);
//!     b.handle_timeout(now);
//! }
//! // `a` stored b's announce, and b's address is in a's routing table.
//! assert_eq!(a.stats().stored_peers, 1);
//! assert_eq!(a.routing_table().len(), 1);
//! # let _ = (lookup, found);
//! ```
#![deny(missing_docs)]

mod addr;
mod bep42;
mod config;
mod id;
pub mod krpc;
mod lookup;
mod node;
mod ratelimit;
mod routing;
mod state;
mod store;
mod token;

pub use addr::{AddressPolicy, Family, NodeInfo};
pub use bep42::{generate_id, id_matches_ip};
pub use config::Config;
pub use id::{Distance, NodeId};
pub use lookup::LookupId;
pub use node::{Dht, DhtEvent, DhtStats};
pub use ratelimit::RateLimitConfig;
pub use routing::{Entry, Inserted, NodeState, RoutingTable, TableConfig};
pub use state::{SavedState, StateError};
pub use store::StoreConfig;
