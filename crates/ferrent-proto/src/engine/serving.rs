//! Serving: peers' requests, the blocks read for them, and choking (tit-for-tat with an
//! optimistic slot).

use super::{Action, Engine, PeerKey, UPLOADS_IN_FLIGHT};
use crate::choker::Candidate;
use crate::error::PeerError;
use ferrent_core::BlockRef;
use ferrent_wire::{BlockInfo, Message};
use std::time::Instant;

impl Engine {
    pub(super) fn handle_request(
        &mut self,
        key: PeerKey,
        info: BlockInfo,
    ) -> Result<(), PeerError> {
        let bad = PeerError::BadRequest { index: info.index, begin: info.begin, len: info.length };
        let block =
            self.lengths.raw_block(info.index, info.begin, info.length).ok_or(bad.clone())?;
        if !self.picker.have().has(block.piece) {
            return Err(bad);
        }
        let max = self.config.max_peer_requests;
        let peer = self.peer(key);
        if peer.am_choking {
            if peer.fast {
                self.actions.push_back(Action::Send(key, Message::Reject(info)));
            }
            return Ok(());
        }
        if peer.uploads.len() >= max {
            return Err(PeerError::RequestFlood(max));
        }
        if peer.uploads.insert(block) {
            peer.upload_queue.push_back(block);
            self.pump_uploads(key);
        }
        Ok(())
    }

    /// Starts reads for queued requests while the peer has fewer than
    /// [`UPLOADS_IN_FLIGHT`] in flight.
    pub(super) fn pump_uploads(&mut self, key: PeerKey) {
        let Some(peer) = self.peers.get_mut(&key) else { return };
        while peer.uploads_in_flight < UPLOADS_IN_FLIGHT {
            let Some(block) = peer.upload_queue.pop_front() else { break };
            if peer.uploads.contains(&block) {
                peer.uploads_in_flight += 1;
                self.actions.push_back(Action::Read(key, block));
            }
        }
    }

    /// A block from [`Action::Read`] was written to the peer's connection, or dropped.
    pub fn upload_done(&mut self, key: PeerKey) {
        let Some(peer) = self.peers.get_mut(&key) else { return };
        peer.uploads_in_flight = peer.uploads_in_flight.saturating_sub(1);
        self.pump_uploads(key);
    }

    /// The driver read `block` for `key`; returns true if it should still be sent (it was not
    /// cancelled or choked meanwhile) and counts it as uploaded.
    pub fn upload_ready(&mut self, key: PeerKey, block: &BlockRef) -> bool {
        let Some(peer) = self.peers.get_mut(&key) else { return false };
        if !peer.uploads.remove(block) {
            return false;
        }
        peer.up.add(u64::from(block.len));
        self.transferred.uploaded += u64::from(block.len);
        true
    }

    /// Unchokes a newly interested peer at once when a slot is free, instead of waiting up
    /// to ten seconds for the next rechoke.
    pub(super) fn maybe_unchoke_now(&mut self, key: PeerKey, now: Instant) {
        let unchoked = self.peers.values().filter(|p| !p.am_choking).count();
        if unchoked < self.config.upload_slots + 1 && self.peer(key).am_choking {
            self.set_choke(key, false, now);
        }
    }

    pub(super) fn set_choke(&mut self, key: PeerKey, choke: bool, now: Instant) {
        let peer = self.peer(key);
        if peer.am_choking == choke {
            return;
        }
        peer.am_choking = choke;
        peer.unchoked_at = (!choke).then_some(now);
        let fast = peer.fast;
        let dropped: Vec<BlockRef> = if choke { peer.uploads.drain().collect() } else { vec![] };
        if choke {
            peer.upload_queue.clear();
        }
        self.actions
            .push_back(Action::Send(key, if choke { Message::Choke } else { Message::Unchoke }));
        if fast {
            for b in dropped {
                let info = BlockInfo { index: b.piece.get(), begin: b.offset, length: b.len };
                self.actions.push_back(Action::Send(key, Message::Reject(info)));
            }
        }
    }

    pub(super) fn rechoke(&mut self, now: Instant) {
        let seeding = self.picker.is_complete();
        let candidates: Vec<Candidate> = self
            .peers
            .iter()
            .map(|(&key, p)| Candidate {
                key,
                interested: p.peer_interested,
                rate: if seeding { p.up.get() } else { p.down.get() },
                snubbed: p.snubbed,
            })
            .collect();
        let unchoke =
            self.choker.rechoke(&candidates, self.config.upload_slots, now, &mut self.rng);
        for c in candidates {
            self.set_choke(c.key, !unchoke.contains(&c.key), now);
        }
    }
}
