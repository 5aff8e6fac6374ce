//! The sans-IO torrent engine: piece picking, request pipelining, choking, serving and
//! rate limiting, as pure state machines.
//!
//! [`Engine`] is one torrent's swarm logic. A driver (the tokio session) feeds it peer
//! messages, verification results and clock ticks, and carries out the [`Action`]s it
//! returns. Time arrives as an argument and randomness from a seed, so every behaviour can be
//! tested deterministically, without sockets.
//!
//! ```
//! use ferrent_core::{Bitfield, Lengths};
//! use ferrent_proto::{Action, Engine, EngineConfig};
//! use ferrent_wire::Message;
//! use std::time::Instant;
//!
//! let lengths = Lengths::new(65_536, 32_768).unwrap();
//! let mut engine = Engine::new(lengths, Bitfield::new(2), EngineConfig::default(), 1);
//! let now = Instant::now();
//! let addr = "127.0.0.1:6881".parse().unwrap();
//! let info = ferrent_proto::PeerInfo { addr, outgoing: true, fast: false, extensions: false };
//! engine.add_peer(7, info, now);
//! engine.handle_message(7, Message::Bitfield(vec![0xc0].into()), now);
//! engine.handle_message(7, Message::Unchoke, now);
//! let requests = std::iter::from_fn(|| engine.poll_action())
//!     .filter(|a| matches!(a, Action::Send(7, Message::Request(_))))
//!     .count();
//! assert_eq!(requests, 4); // two pieces of two blocks each
//! ```
#![deny(missing_docs)]

mod choker;
mod engine;
mod error;
pub mod extension;
pub mod lsd;
pub mod metadata;
mod peer;
pub mod pex;
mod picker;
mod rate_limit;

pub use choker::{Candidate, Choker, OPTIMISTIC_INTERVAL, RECHOKE_INTERVAL};
pub use engine::{
    Action, Engine, EngineConfig, PeerKey, PeerStats, Transferred, UPLOADS_IN_FLIGHT,
};
pub use error::PeerError;
pub use peer::{PeerInfo, Rate};
pub use picker::{BlockOutcome, PiecePicker};
pub use rate_limit::TokenBucket;
