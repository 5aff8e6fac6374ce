//! What the engine knows about one connected peer.

use crate::extension::ExtHandshake;
use ferrent_core::{Bitfield, BlockRef};
use rustc_hash::FxHashMap;
use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// An exponentially smoothed transfer rate, fed with byte counts and sampled on ticks.
#[derive(Debug, Clone, Default)]
pub struct Rate {
    pending: u64,
    bytes_per_sec: f64,
    total: u64,
    /// A tick has seen bytes: the rate means something.
    measured: bool,
}

impl Rate {
    /// Counts `bytes` transferred.
    pub fn add(&mut self, bytes: u64) {
        self.pending += bytes;
        self.total += bytes;
    }

    /// Folds the bytes counted since the last tick into the rate; `elapsed` is the tick length.
    pub fn tick(&mut self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64().max(0.001);
        let sample = self.pending as f64 / secs;
        self.measured |= self.pending > 0;
        self.bytes_per_sec = if self.bytes_per_sec == 0.0 {
            sample
        } else {
            0.6 * sample + 0.4 * self.bytes_per_sec
        };
        self.pending = 0;
    }

    /// Whether any tick has seen bytes yet (before that, [`Rate::get`] is 0).
    pub fn is_measured(&self) -> bool {
        self.measured
    }

    /// Bytes per second.
    pub fn get(&self) -> u64 {
        self.bytes_per_sec as u64
    }

    /// Bytes transferred in all.
    pub fn total(&self) -> u64 {
        self.total
    }
}

/// A request we sent and have not seen answered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutRequest {
    pub(crate) sent: Instant,
    /// False once cancelled or timed out: the block may still arrive and is then welcome,
    /// but it no longer counts toward the pipeline.
    pub(crate) live: bool,
}

/// What the driver knows of a connection when it is attached.
#[derive(Debug, Clone, Copy)]
pub struct PeerInfo {
    /// The remote address.
    pub addr: SocketAddr,
    /// We dialed it (so `addr` is where it listens).
    pub outgoing: bool,
    /// Both sides support the fast extension (BEP 6).
    pub fast: bool,
    /// Both sides support the extension protocol (BEP 10).
    pub extensions: bool,
}

/// Per-peer protocol state.
#[derive(Debug)]
pub(crate) struct Peer {
    pub(crate) bitfield: Bitfield,
    pub(crate) got_bitfield: bool,
    pub(crate) am_choking: bool,
    pub(crate) am_interested: bool,
    pub(crate) peer_choking: bool,
    pub(crate) peer_interested: bool,
    pub(crate) fast: bool,
    pub(crate) allowed_fast: HashSet<u32>,
    pub(crate) requests: FxHashMap<(u32, u32), OutRequest>,
    pub(crate) live_requests: u32,
    /// The peer's advertised request queue limit (BEP 10 `reqq`), if known.
    pub(crate) reqq: Option<u32>,
    /// Requests from the peer not yet served, in arrival order; a block is in `uploads`
    /// until it is sent, cancelled or the peer is choked.
    pub(crate) uploads: HashSet<BlockRef>,
    pub(crate) upload_queue: VecDeque<BlockRef>,
    /// Blocks being read or written for the peer right now.
    pub(crate) uploads_in_flight: u32,
    pub(crate) down: Rate,
    pub(crate) up: Rate,
    pub(crate) last_block: Instant,
    pub(crate) snubbed: bool,
    pub(crate) hash_failures: u32,
    pub(crate) unchoked_at: Option<Instant>,
    pub(crate) info: PeerInfo,
    /// The peer's extended handshake, once received.
    pub(crate) ext: Option<ExtHandshake>,
    /// Addresses we told the peer about through PEX.
    pub(crate) pex_sent: HashSet<SocketAddr>,
    pub(crate) pex_received: Option<Instant>,
    pub(crate) metadata_served: u32,
}

impl Peer {
    pub(crate) fn new(piece_count: u32, now: Instant, info: PeerInfo) -> Self {
        let fast = info.fast;
        Self {
            bitfield: Bitfield::new(piece_count),
            got_bitfield: false,
            am_choking: true,
            am_interested: false,
            peer_choking: true,
            peer_interested: false,
            fast,
            allowed_fast: HashSet::new(),
            requests: FxHashMap::default(),
            live_requests: 0,
            reqq: None,
            uploads: HashSet::new(),
            upload_queue: VecDeque::new(),
            uploads_in_flight: 0,
            down: Rate::default(),
            up: Rate::default(),
            last_block: now,
            snubbed: false,
            hash_failures: 0,
            unchoked_at: None,
            info,
            ext: None,
            pex_sent: HashSet::new(),
            pex_received: None,
            metadata_served: 0,
        }
    }

    /// How many requests to keep in flight: about two seconds' worth at the measured rate,
    /// within `[min, max]` and the peer's own limit.
    ///
    /// Until the first rate sample (the first tick after data arrived), the depth starts at
    /// `min` and grows by one for every block received, doubling each round trip like TCP's
    /// slow start, so that a fast peer is not held to `min` for its first second.
    pub(crate) fn queue_target(&self, min: u32, max: u32) -> u32 {
        if self.snubbed {
            return 1;
        }
        let block = u64::from(ferrent_core::BLOCK_SIZE);
        let by_rate = if self.down.is_measured() {
            (self.down.get() * 2 / block).min(u64::from(u32::MAX)) as u32
        } else {
            min.saturating_add((self.down.total() / block).min(u64::from(u32::MAX)) as u32)
        };
        let cap = self.reqq.map_or(max, |r| r.clamp(1, max));
        by_rate.clamp(min.min(cap), cap)
    }

    /// Marks a request answered or abandoned; returns whether it was ours.
    pub(crate) fn take_request(&mut self, block: &BlockRef) -> Option<OutRequest> {
        let req = self.requests.remove(&(block.piece.get(), block.offset))?;
        if req.live {
            self.live_requests -= 1;
        }
        Some(req)
    }

    /// Turns a live request into a dead one (cancelled or timed out); returns whether it was live.
    pub(crate) fn kill_request(&mut self, block: &BlockRef) -> bool {
        match self.requests.get_mut(&(block.piece.get(), block.offset)) {
            Some(req) if req.live => {
                req.live = false;
                self.live_requests -= 1;
                true
            }
            _ => false,
        }
    }

    /// Where the peer accepts connections, if known: the address we dialed, or the port
    /// it announced in its extended handshake.
    pub(crate) fn listen_addr(&self) -> Option<SocketAddr> {
        if self.info.outgoing {
            return Some(self.info.addr);
        }
        let port = self.ext.as_ref()?.listen_port?;
        Some(SocketAddr::new(self.info.addr.ip(), port))
    }

    pub(crate) fn can_request(&self, piece: u32) -> bool {
        !self.peer_choking || (self.fast && self.allowed_fast.contains(&piece))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_follows_rate() {
        let now = Instant::now();
        let info = PeerInfo {
            addr: "127.0.0.1:1".parse().unwrap(),
            outgoing: true,
            fast: false,
            extensions: false,
        };
        let mut peer = Peer::new(10, now, info);
        assert_eq!(peer.queue_target(16, 500), 16);
        peer.down.add(100 * 1024 * 1024);
        peer.down.tick(Duration::from_secs(1));
        assert_eq!(peer.queue_target(16, 500), 500);
        peer.reqq = Some(250);
        assert_eq!(peer.queue_target(16, 500), 250);
        peer.down = Rate::default();
        peer.down.add(800 * 1024);
        peer.down.tick(Duration::from_secs(1));
        assert_eq!(peer.queue_target(16, 500), 100);
        peer.snubbed = true;
        assert_eq!(peer.queue_target(16, 500), 1);
    }

    #[test]
    fn queue_grows_by_a_block_per_block_until_the_rate_is_known() {
        let info = PeerInfo {
            addr: "127.0.0.1:1".parse().unwrap(),
            outgoing: true,
            fast: false,
            extensions: false,
        };
        let mut peer = Peer::new(10, Instant::now(), info);
        peer.down.add(40 * 16384);
        assert_eq!(peer.queue_target(16, 500), 56, "slow start: min plus blocks received");
        peer.down.add(1000 * 16384);
        assert_eq!(peer.queue_target(16, 500), 500, "capped");
        // Once measured, the rate rules, even when it falls to nothing.
        peer.down.tick(Duration::from_secs(100));
        peer.down.tick(Duration::from_secs(1));
        for _ in 0..2000 {
            peer.down.tick(Duration::from_secs(1));
        }
        assert_eq!(peer.queue_target(16, 500), 16);
    }
}
