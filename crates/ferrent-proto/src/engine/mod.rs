//! The torrent engine: one torrent's swarm logic as a pure state machine.
//!
//! The driver feeds it inputs (`add_peer`, `handle_message`, `handle_verified`,
//! `handle_tick`, `upload_ready`) and carries out the [`Action`]s it yields from
//! [`Engine::poll_action`]: send a message, drop a peer, verify a piece, read a block.
//! It never touches a socket, a file or a clock.
//!
//! Anatomy of a block fetch: a peer unchokes us → `fill_requests` asks the
//! [`PiecePicker`] for blocks up to the peer's queue target → `Action::Send(Request)` → the
//! `Piece` message arrives → the picker accepts it, the bytes join the piece's buffer → when
//! the last block lands, `Action::Verify` hands the whole piece to the driver, which hashes
//! and writes it and answers with `handle_verified` → `Have` goes to every peer.

use crate::choker::{Choker, RECHOKE_INTERVAL};
use crate::error::PeerError;
use crate::peer::{Peer, PeerInfo};
use crate::picker::PiecePicker;
use bytes::Bytes;
use ferrent_core::{Bitfield, BlockRef, Lengths, PieceIndex};
use ferrent_wire::Message;
use rand::{rngs::SmallRng, SeedableRng};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

mod extensions;
mod fetching;
mod serving;

/// Blocks read or being written per peer at once.
pub const UPLOADS_IN_FLIGHT: u32 = 32;

/// Identifies a connection inside a torrent; chosen by the driver, never reused.
pub type PeerKey = u64;

/// Engine tuning.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Requests kept in flight per peer at the least.
    pub min_queue: u32,
    /// Requests kept in flight per peer at the most.
    pub max_queue: u32,
    /// A peer that sends no block for this long while we wait loses its requests and is
    /// snubbed.
    pub request_timeout: Duration,
    /// Hash failures a peer may contribute to before it is banned.
    pub ban_after: u32,
    /// Requests a peer may have queued with us before it counts as a flood.
    pub max_peer_requests: usize,
    /// Regular unchoke slots (one optimistic slot comes on top).
    pub upload_slots: usize,
    /// Bytes of complete pieces handed out for verification at most; past it no new
    /// requests go out until the disk catches up, which bounds memory when the network is
    /// faster than hashing and writing.
    pub max_verifying_bytes: u64,
    /// Exchange peer lists with peers (BEP 11); off for private torrents.
    pub pex: bool,
    /// Our TCP listen port, told to peers in the extended handshake (0 = not told).
    pub listen_port: u16,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            min_queue: 32,
            max_queue: 2000,
            request_timeout: Duration::from_secs(20),
            ban_after: 3,
            max_peer_requests: 2048,
            upload_slots: 4,
            max_verifying_bytes: 16 * 1024 * 1024,
            pex: true,
            listen_port: 0,
        }
    }
}

/// Something the driver must do.
#[derive(Debug)]
pub enum Action {
    /// Send `message` to the peer.
    Send(PeerKey, Message),
    /// Close the connection; the error says why.
    Disconnect(PeerKey, PeerError),
    /// Hash the piece made of these blocks, write it if good, then call
    /// [`Engine::handle_verified`].
    Verify(PieceIndex, Vec<Bytes>),
    /// Peers learnt from a peer (PEX): worth dialing.
    Discovered(Vec<SocketAddr>),
    /// Read the block from disk and, if [`Engine::upload_ready`] agrees, send it; either
    /// way call [`Engine::upload_done`] once the block is written or dropped. At most
    /// [`UPLOADS_IN_FLIGHT`] reads are outstanding per peer, which bounds the memory a
    /// peer's requests can make us spend.
    Read(PeerKey, BlockRef),
}

/// A piece whose blocks are arriving.
#[derive(Debug)]
struct Assembly {
    blocks: Vec<Option<Bytes>>,
    contributors: Vec<PeerKey>,
}

/// Public numbers about one peer, for progress displays and APIs.
#[derive(Debug, Clone, Copy)]
pub struct PeerStats {
    /// Download rate from this peer, bytes per second.
    pub down_rate: u64,
    /// Upload rate to this peer, bytes per second.
    pub up_rate: u64,
    /// Payload bytes received from this peer.
    pub downloaded: u64,
    /// Payload bytes sent to this peer.
    pub uploaded: u64,
    /// Pieces the peer has.
    pub pieces: u32,
    /// We are choking the peer.
    pub am_choking: bool,
    /// The peer is choking us.
    pub peer_choking: bool,
    /// We want data from the peer.
    pub am_interested: bool,
    /// The peer wants our data.
    pub peer_interested: bool,
    /// The peer stopped sending while it had our requests.
    pub snubbed: bool,
    /// We dialed the peer (it did not connect to us).
    pub outgoing: bool,
}

/// One torrent's swarm state.
pub struct Engine {
    /// Bytes of pieces in [`Action::Verify`] not yet answered by `handle_verified`.
    verifying_bytes: u64,
    info_bytes: Option<Bytes>,
    last_pex: Option<Instant>,
    lengths: Lengths,
    picker: PiecePicker,
    peers: FxHashMap<PeerKey, Peer>,
    assemblies: FxHashMap<PieceIndex, Assembly>,
    actions: VecDeque<Action>,
    config: EngineConfig,
    rng: SmallRng,
    choker: Choker,
    last_tick: Option<Instant>,
    last_rechoke: Option<Instant>,
    transferred: Transferred,
    scratch: Vec<BlockRef>,
}

/// Payload bytes a torrent moved, counted by its engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Transferred {
    /// Payload bytes accepted from peers (duplicates and failed pieces included).
    pub downloaded: u64,
    /// Payload bytes sent to peers.
    pub uploaded: u64,
    /// Payload bytes received but not used (duplicates, failed pieces).
    pub wasted: u64,
}

impl Engine {
    /// An engine for a torrent of `lengths` of which `have` is verified. `seed` makes the
    /// random choices repeatable.
    pub fn new(lengths: Lengths, have: Bitfield, config: EngineConfig, seed: u64) -> Self {
        Self {
            verifying_bytes: 0,
            info_bytes: None,
            last_pex: None,
            lengths,
            picker: PiecePicker::new(lengths, have),
            peers: FxHashMap::default(),
            assemblies: FxHashMap::default(),
            actions: VecDeque::new(),
            config,
            rng: SmallRng::seed_from_u64(seed),
            choker: Choker::default(),
            last_tick: None,
            last_rechoke: None,
            transferred: Transferred::default(),
            scratch: Vec::new(),
        }
    }

    /// The verified pieces.
    pub fn have(&self) -> &Bitfield {
        self.picker.have()
    }

    /// The torrent's geometry.
    pub fn lengths(&self) -> Lengths {
        self.lengths
    }

    /// True when every wanted piece is verified.
    pub fn is_complete(&self) -> bool {
        self.picker.is_complete()
    }

    /// Wanted pieces not yet verified.
    pub fn remaining_pieces(&self) -> u32 {
        self.picker.remaining()
    }

    /// Payload bytes moved so far.
    pub fn transferred(&self) -> Transferred {
        self.transferred
    }

    /// Carries on counting from `transferred` (an engine rebuilt for a torrent that moved
    /// data before).
    pub fn set_transferred(&mut self, transferred: Transferred) {
        self.transferred = transferred;
    }

    /// True when the engine has nothing under way: no peers, no piece half-received or being
    /// verified, no action waiting. Such an engine can be dropped and rebuilt from its
    /// `have`, its counters and the torrent's settings without losing anything.
    pub fn is_idle(&self) -> bool {
        self.peers.is_empty()
            && self.assemblies.is_empty()
            && self.verifying_bytes == 0
            && self.actions.is_empty()
    }

    /// Ends the engine, keeping what outlives it: the verified pieces and the counters.
    pub fn into_have(self) -> (Bitfield, Transferred) {
        (self.picker.into_have(), self.transferred)
    }

    /// Number of connected peers.
    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// Numbers about one peer.
    pub fn peer_stats(&self, key: PeerKey) -> Option<PeerStats> {
        self.peers.get(&key).map(|p| PeerStats {
            down_rate: p.down.get(),
            up_rate: p.up.get(),
            downloaded: p.down.total(),
            uploaded: p.up.total(),
            pieces: p.bitfield.count(),
            am_choking: p.am_choking,
            peer_choking: p.peer_choking,
            am_interested: p.am_interested,
            peer_interested: p.peer_interested,
            snubbed: p.snubbed,
            outgoing: p.info.outgoing,
        })
    }

    /// Sum of the peers' download and upload rates.
    pub fn rates(&self) -> (u64, u64) {
        self.peers.values().fold((0, 0), |(d, u), p| (d + p.down.get(), u + p.up.get()))
    }

    /// Per-piece priorities (0 = skip); see [`PiecePicker::set_priorities`].
    pub fn set_piece_priorities(&mut self, priorities: Vec<u8>) {
        self.picker.set_priorities(priorities);
        let keys: Vec<PeerKey> = self.peers.keys().copied().collect();
        for key in keys {
            self.update_interest(key);
        }
    }

    /// Pieces in `range` are fetched before all others, in order: a reader is waiting.
    pub fn set_focus(&mut self, range: Option<std::ops::Range<u32>>) {
        self.picker.set_focus(range);
    }

    /// Requests pieces in order instead of rarest first.
    pub fn set_sequential(&mut self, sequential: bool) {
        self.picker.set_sequential(sequential);
    }

    /// The next thing the driver must do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The raw info dictionary, served to peers that ask for it (BEP 9).
    pub fn set_metadata(&mut self, info_bytes: Bytes) {
        self.info_bytes = Some(info_bytes);
    }

    /// A connection finished its handshake.
    pub fn add_peer(&mut self, key: PeerKey, info: PeerInfo, now: Instant) {
        let peer = Peer::new(self.lengths.piece_count(), now, info);
        self.peers.insert(key, peer);
        self.send_first_messages(key, info);
    }

    fn send_first_messages(&mut self, key: PeerKey, info: PeerInfo) {
        let fast = info.fast;
        let have = self.picker.have();
        let first = if fast && have.is_full() {
            Message::HaveAll
        } else if fast && have.count() == 0 {
            Message::HaveNone
        } else if have.count() > 0 {
            Message::Bitfield(Bytes::copy_from_slice(have.as_bytes()))
        } else {
            Message::KeepAlive
        };
        if first != Message::KeepAlive {
            self.actions.push_back(Action::Send(key, first));
        }
        if info.extensions {
            self.send_ext_handshake(key);
        }
    }

    /// A connection closed: its requests go back to the picker.
    pub fn remove_peer(&mut self, key: PeerKey) {
        let Some(peer) = self.peers.remove(&key) else { return };
        self.picker.peer_bitfield(&peer.bitfield, false);
        for ((index, begin), req) in peer.requests {
            if req.live {
                if let Some(block) = self.block_of(index, begin) {
                    self.picker.request_dropped(&block);
                }
            }
        }
    }

    fn block_of(&self, index: u32, begin: u32) -> Option<BlockRef> {
        let piece = self.lengths.piece(index)?;
        self.lengths.nth_block(piece, begin / ferrent_core::BLOCK_SIZE)
    }

    fn drop_peer(&mut self, key: PeerKey, error: PeerError) {
        self.remove_peer(key);
        self.actions.push_back(Action::Disconnect(key, error));
    }

    /// A message arrived from `key`. Misbehaviour queues a [`Action::Disconnect`].
    pub fn handle_message(&mut self, key: PeerKey, message: Message, now: Instant) {
        if !self.peers.contains_key(&key) {
            return;
        }
        if let Err(error) = self.dispatch(key, message, now) {
            self.drop_peer(key, error);
        }
    }

    fn peer(&mut self, key: PeerKey) -> &mut Peer {
        self.peers.get_mut(&key).expect("caller checked the peer exists")
    }

    fn dispatch(&mut self, key: PeerKey, message: Message, now: Instant) -> Result<(), PeerError> {
        let counts = !matches!(
            message,
            Message::KeepAlive
                | Message::Extended { .. }
                | Message::Port(_)
                | Message::Unknown { .. }
        );
        let first = counts && !std::mem::replace(&mut self.peer(key).got_bitfield, true);
        match message {
            Message::Choke => {
                let peer = self.peer(key);
                peer.peer_choking = true;
                if !peer.fast {
                    // Without BEP 6, a choke silently discards every pending request.
                    let dropped: Vec<(u32, u32)> = peer.requests.keys().copied().collect();
                    for (index, begin) in dropped {
                        self.abandon_request(key, index, begin);
                    }
                }
            }
            Message::Unchoke => {
                self.peer(key).peer_choking = false;
                self.fill_requests(key, now);
            }
            Message::Interested => {
                self.peer(key).peer_interested = true;
                self.maybe_unchoke_now(key, now);
            }
            Message::NotInterested => self.peer(key).peer_interested = false,
            Message::Have { index } => {
                let piece = self.lengths.piece(index).ok_or(PeerError::BadHave(index))?;
                if self.peer(key).bitfield.set(index, true) {
                    self.picker.peer_has(piece);
                    // One more piece can only make an uninteresting peer interesting.
                    if !self.peer(key).am_interested && self.picker.is_wanted(piece) {
                        self.update_interest(key);
                    }
                }
            }
            Message::Bitfield(bytes) => {
                if !first {
                    return Err(PeerError::LateBitfield);
                }
                let bitfield = Bitfield::from_bytes(&bytes, self.lengths.piece_count())?;
                self.set_bitfield(key, bitfield);
            }
            Message::HaveAll | Message::HaveNone => {
                if !self.peer(key).fast {
                    return Err(PeerError::FastNotNegotiated);
                }
                if !first {
                    return Err(PeerError::LateBitfield);
                }
                let n = self.lengths.piece_count();
                let all = matches!(message, Message::HaveAll);
                self.set_bitfield(key, if all { Bitfield::full(n) } else { Bitfield::new(n) });
            }
            Message::Request(info) => self.handle_request(key, info)?,
            Message::Cancel(info) => {
                if let Some(block) = self.lengths.raw_block(info.index, info.begin, info.length) {
                    self.peer(key).uploads.remove(&block);
                }
            }
            Message::Piece { index, begin, data } => {
                self.handle_block(key, index, begin, data, now)?
            }
            Message::Reject(info) => {
                if !self.peer(key).fast {
                    return Err(PeerError::FastNotNegotiated);
                }
                self.abandon_request(key, info.index, info.begin);
                self.fill_requests(key, now);
            }
            Message::AllowedFast { index } if self.lengths.piece(index).is_some() => {
                self.peer(key).allowed_fast.insert(index);
                self.fill_requests(key, now);
            }
            Message::Extended { id, payload } => self.handle_extended(key, id, payload, now)?,
            // Hints and messages handled elsewhere (DHT port) or unknown.
            _ => {}
        }
        Ok(())
    }

    fn set_bitfield(&mut self, key: PeerKey, bitfield: Bitfield) {
        self.picker.peer_bitfield(&bitfield, true);
        self.peer(key).bitfield = bitfield;
        self.update_interest(key);
    }

    /// Sends interested / not interested as the peer's pieces and our needs change.
    fn update_interest(&mut self, key: PeerKey) {
        let Some(peer) = self.peers.get(&key) else { return };
        let interesting = self.picker.is_interesting(&peer.bitfield);
        if interesting != peer.am_interested {
            self.peer(key).am_interested = interesting;
            let message = if interesting { Message::Interested } else { Message::NotInterested };
            self.actions.push_back(Action::Send(key, message));
        }
    }

    /// A request we made is over without data; its block may go to someone else.
    fn abandon_request(&mut self, key: PeerKey, index: u32, begin: u32) {
        let Some(block) = self.block_of(index, begin) else { return };
        if let Some(req) = self.peer(key).take_request(&block) {
            if req.live {
                self.picker.request_dropped(&block);
            }
        }
    }

    /// Periodic work, about once a second: rates, stalled requests, rechoking.
    pub fn handle_tick(&mut self, now: Instant) {
        let elapsed = self.last_tick.map_or(Duration::from_secs(1), |t| now.duration_since(t));
        self.last_tick = Some(now);
        let timeout = self.config.request_timeout;
        let keys: Vec<PeerKey> = self.peers.keys().copied().collect();
        for &key in &keys {
            let peer = self.peer(key);
            peer.down.tick(elapsed);
            peer.up.tick(elapsed);
            // Dead requests that never came are forgotten after a while.
            peer.requests.retain(|_, r| r.live || now.duration_since(r.sent) < timeout * 3);
            let stalled = peer.live_requests > 0 && now.duration_since(peer.last_block) >= timeout;
            if stalled {
                peer.snubbed = true;
                peer.last_block = now;
                let live: Vec<(u32, u32)> =
                    peer.requests.iter().filter(|(_, r)| r.live).map(|(k, _)| *k).collect();
                for (index, begin) in live {
                    if let Some(block) = self.block_of(index, begin) {
                        self.peer(key).kill_request(&block);
                        self.picker.request_dropped(&block);
                    }
                }
            }
        }
        self.pex_tick(now);
        if self.last_rechoke.is_none_or(|t| now.duration_since(t) >= RECHOKE_INTERVAL) {
            self.last_rechoke = Some(now);
            self.rechoke(now);
        }
        for key in keys {
            self.fill_requests(key, now);
        }
    }
}
