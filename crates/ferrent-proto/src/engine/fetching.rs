//! Fetching: keeping each peer's request pipeline full, filing the blocks that arrive, and
//! what follows a piece's verification.

use super::{Action, Assembly, Engine, PeerKey};
use crate::error::PeerError;
use crate::peer::OutRequest;
use crate::picker::BlockOutcome;
use bytes::Bytes;
use ferrent_core::{Bitfield, BlockRef, PieceIndex};
use ferrent_wire::{BlockInfo, Message};
use std::time::Instant;

impl Engine {
    /// Tops up `key`'s request pipeline.
    pub(super) fn fill_requests(&mut self, key: PeerKey, now: Instant) {
        let (min, max) = (self.config.min_queue, self.config.max_queue);
        let Some(peer) = self.peers.get(&key) else { return };
        let disk_busy = self.verifying_bytes >= self.config.max_verifying_bytes;
        if !peer.am_interested || self.picker.is_complete() || disk_busy {
            return;
        }
        let target = peer.queue_target(min, max);
        // Top the queue up in batches of an eighth of its depth, so that a fast peer gets a
        // few large writes of requests rather than one per block that arrives.
        let free = target.saturating_sub(peer.live_requests);
        if free == 0 || (free < target / 8 && peer.live_requests > 0) {
            return;
        }
        let want = free as usize;
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        let allowed_fast;
        let bitfield = if peer.peer_choking {
            // Choked: only allowed-fast pieces may be requested.
            let mut allowed = Bitfield::new(self.lengths.piece_count());
            for &i in peer.allowed_fast.iter().filter(|&&i| peer.bitfield.get(i)) {
                allowed.set(i, true);
            }
            allowed_fast = allowed;
            &allowed_fast
        } else {
            &peer.bitfield
        };
        let requests = &peer.requests;
        self.picker.pick(
            bitfield,
            want,
            &mut self.rng,
            |b| requests.contains_key(&(b.piece.get(), b.offset)),
            &mut out,
        );
        let peer = self.peers.get_mut(&key).expect("checked above");
        for block in out.drain(..) {
            debug_assert!(peer.can_request(block.piece.get()));
            if let Some(old) = peer
                .requests
                .insert((block.piece.get(), block.offset), OutRequest { sent: now, live: true })
            {
                if old.live {
                    peer.live_requests -= 1;
                }
            }
            peer.live_requests += 1;
            let info =
                BlockInfo { index: block.piece.get(), begin: block.offset, length: block.len };
            self.actions.push_back(Action::Send(key, Message::Request(info)));
        }
        self.scratch = out;
    }

    pub(super) fn handle_block(
        &mut self,
        key: PeerKey,
        index: u32,
        begin: u32,
        data: Bytes,
        now: Instant,
    ) -> Result<(), PeerError> {
        let len = data.len() as u32;
        let block = self
            .lengths
            .raw_block(index, begin, len)
            .filter(|b| b.offset % ferrent_core::BLOCK_SIZE == 0)
            .ok_or(PeerError::BadBlock { index, begin, len })?;
        let peer = self.peer(key);
        if peer.take_request(&block).is_none() {
            return Err(PeerError::Unrequested { index, begin });
        }
        peer.down.add(u64::from(len));
        peer.last_block = now;
        peer.snubbed = false;
        self.transferred.downloaded += u64::from(len);
        match self.picker.block_received(&block) {
            BlockOutcome::Accepted { complete } => {
                let assembly = self.assemblies.entry(block.piece).or_insert_with(|| Assembly {
                    blocks: vec![None; self.lengths.block_count(block.piece) as usize],
                    contributors: Vec::new(),
                });
                assembly.blocks[block.block_index() as usize] = Some(data);
                if !assembly.contributors.contains(&key) {
                    assembly.contributors.push(key);
                }
                if complete {
                    let blocks = assembly.blocks.iter_mut().filter_map(Option::take).collect();
                    self.verifying_bytes += u64::from(self.lengths.piece_len(block.piece));
                    self.actions.push_back(Action::Verify(block.piece, blocks));
                }
                self.cancel_duplicates(key, &block);
            }
            BlockOutcome::Duplicate | BlockOutcome::Unrequested => {
                self.transferred.wasted += u64::from(len)
            }
        }
        self.fill_requests(key, now);
        Ok(())
    }

    /// Endgame: other peers asked for the same block; cancel their requests.
    pub(super) fn cancel_duplicates(&mut self, winner: PeerKey, block: &BlockRef) {
        let key = (block.piece.get(), block.offset);
        for (&other, peer) in self.peers.iter_mut() {
            if other != winner && peer.requests.get(&key).is_some_and(|r| r.live) {
                peer.kill_request(block);
                let info = BlockInfo { index: key.0, begin: key.1, length: block.len };
                self.actions.push_back(Action::Send(other, Message::Cancel(info)));
            }
        }
    }

    /// The driver finished hashing (and, if good, writing) `piece`.
    pub fn handle_verified(&mut self, piece: PieceIndex, ok: bool, now: Instant) {
        let was_busy = self.verifying_bytes >= self.config.max_verifying_bytes;
        self.verifying_bytes =
            self.verifying_bytes.saturating_sub(u64::from(self.lengths.piece_len(piece)));
        if was_busy && self.verifying_bytes < self.config.max_verifying_bytes {
            // Requests were held back while the disk was behind: resume them.
            let keys: Vec<PeerKey> = self.peers.keys().copied().collect();
            for key in keys {
                self.fill_requests(key, now);
            }
        }
        let contributors =
            self.assemblies.remove(&piece).map(|a| a.contributors).unwrap_or_default();
        self.picker.piece_checked(piece, ok);
        if ok {
            let keys: Vec<PeerKey> = self.peers.keys().copied().collect();
            for key in keys {
                if self.peers[&key].bitfield.has(piece) {
                    // Only a peer that had this piece can have lost our interest.
                    self.update_interest(key);
                } else {
                    self.actions.push_back(Action::Send(key, Message::Have { index: piece.get() }));
                }
            }
            return;
        }
        self.transferred.wasted += u64::from(self.lengths.piece_len(piece));
        for key in contributors {
            let Some(peer) = self.peers.get_mut(&key) else { continue };
            peer.hash_failures += 1;
            if peer.hash_failures >= self.config.ban_after {
                let failures = peer.hash_failures;
                self.drop_peer(key, PeerError::Banned(failures));
            } else {
                self.fill_requests(key, now);
            }
        }
    }
}
