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
//! Two nodes on a virtual network: `b` joins through `a`, announces a torrent (which `a`
//! stores), then finds itself as a peer by asking `a`.
//!
//! ```
//! use std::net::SocketAddr;
//! use std::time::{Duration, Instant};
//! use ferrent_core::InfoHashV1;
//! use ferrent_dht::{AddressPolicy, Config, Dht, DhtEvent};
//!
//! /// Moves every queued datagram between the two nodes until both are quiet.
//! fn deliver(nodes: &mut [(SocketAddr, Dht); 2], now: Instant) {
//!     for _ in 0..50 {
//!         let mut moved = false;
//!         for from in 0..2 {
//!             while let Some((to, bytes)) = nodes[from].1.poll_transmit() {
//!                 let source = nodes[from].0;
//!                 if let Some((_, dht)) = nodes.iter_mut().find(|(addr, _)| *addr == to) {
//!                     dht.handle_datagram(source, &bytes, now);
//!                     moved = true;
//!                 }
//!             }
//!         }
//!         if !moved { return }
//!     }
//! }
//!
//! let config = |seed| Config {
//!     seed,
//!     addresses: AddressPolicy { allow_loopback: true, allow_private: false },
//!     ..Config::default()
//! };
//! let now = Instant::now();
//! let a_addr: SocketAddr = "127.0.0.1:6881".parse().unwrap();
//! let b_addr: SocketAddr = "127.0.0.1:6882".parse().unwrap();
//! let mut nodes = [(a_addr, Dht::new(config(1), now)), (b_addr, Dht::new(config(2), now))];
//! let torrent = InfoHashV1([0x11; 20]);
//!
//! nodes[1].1.bootstrap(&[a_addr], now);
//! nodes[1].1.announce(torrent, 51413, now);
//! deliver(&mut nodes, now);
//! assert_eq!(nodes[0].1.stats().stored_peers, 1);
//!
//! let later = now + Duration::from_secs(1);
//! let lookup = nodes[1].1.get_peers(torrent, later);
//! deliver(&mut nodes, later);
//! let mut found = Vec::new();
//! while let Some(event) = nodes[1].1.poll_event() {
//!     match event {
//!         DhtEvent::Peers { lookup: l, peers, .. } if l == lookup => found.extend(peers),
//!         _ => {}
//!     }
//! }
//! assert_eq!(found, ["127.0.0.1:51413".parse::<SocketAddr>().unwrap()]);
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
