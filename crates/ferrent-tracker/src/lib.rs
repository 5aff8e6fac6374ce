//! Tracker protocols for ferrent, sans IO: nothing here opens a socket or reads a clock.
//!
//! * HTTP(S) announces (BEP 3, BEP 23, BEP 7): [`announce_url`] builds the request URL and
//!   [`parse_announce_response`] reads the bencoded answer; [`scrape_url`] derives the
//!   scrape URL (BEP 48).
//! * UDP announces (BEP 15, with BEP 41 URL data): [`UdpTracker`] is the per-tracker state
//!   machine (connect, announce, retransmit with `15 * 2^n` s timeouts, connection id
//!   expiry); the raw datagram codecs are in [`udp`].
//! * Tiers (BEP 12): [`TrackerList`] keeps the trying order.
//! * Scheduling: [`Announcer`] decides when to announce, to which tracker, with which
//!   event (`started`, `completed`, `stopped`), with backoff after failures.
//!
//! Time comes in as [`Instant`](std::time::Instant) arguments and randomness as a caller's RNG,
//! so every decision can be tested with fake time. A driver does the I/O: it asks
//! [`Announcer::poll_announce`] for a job, sends it over HTTP or UDP, and reports back.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use ferrent_tracker::*;
//! use rand::SeedableRng;
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(7);
//! let tiers = vec![vec!["http://tracker.example/announce".to_string()]];
//! let now = Instant::now();
//! let mut announcer = Announcer::new(TrackerList::new(tiers, &mut rng), Default::default(), now);
//!
//! let job = announcer.poll_announce(now).unwrap();
//! assert_eq!(job.event, AnnounceEvent::Started);
//! let request = AnnounceRequest {
//!     info_hash: ferrent_core::InfoHashV1([0xaa; 20]),
//!     peer_id: *b"-FE0001-abcdefghijkl",
//!     port: 6881,
//!     uploaded: 0,
//!     downloaded: 0,
//!     left: 1000,
//!     event: job.event,
//!     numwant: Some(50),
//!     key: 1,
//!     tracker_id: job.tracker_id.clone(),
//! };
//! let url = announce_url(&job.url, &request).unwrap();
//! assert!(url.contains("info_hash=%AA%AA") && url.contains("event=started"));
//!
//! // The driver fetches `url`; here is a canned answer with one compact peer.
//! let body = b"d8:intervali900e5:peers6:\x7f\x00\x00\x01\x1a\xe1e";
//! let result = parse_announce_response(body);
//! assert_eq!(result.as_ref().unwrap().peers, ["127.0.0.1:6881".parse().unwrap()]);
//! announcer.handle_result(&job, &result, now);
//! assert_eq!(announcer.poll_timeout(), Some(now + Duration::from_secs(900)));
//! ```
#![deny(missing_docs)]

mod announce;
mod announcer;
mod error;
mod http;
mod peers;
mod text;
mod tiers;
mod tracker_url;
pub mod udp;

pub use announce::{AnnounceEvent, AnnounceRequest, AnnounceResponse, DEFAULT_INTERVAL};
pub use announcer::{AnnounceJob, Announcer, AnnouncerConfig, JobId};
pub use error::TrackerError;
pub use http::{parse_announce_response, MAX_RESPONSE_LEN};
pub use peers::{COMPACT_V4_LEN, COMPACT_V6_LEN};
pub use text::MAX_MESSAGE_CHARS;
pub use tiers::{TrackerList, TrackerPos};
pub use tracker_url::{announce_url, scrape_url, TrackerUrl, UdpTrackerAddr, MAX_UDP_REQUEST_LEN};
pub use udp::{UdpConfig, UdpEvent, UdpTracker};
