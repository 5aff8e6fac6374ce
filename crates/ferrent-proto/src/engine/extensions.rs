//! The engine's side of the extension protocol: handshake, metadata serving, PEX.

use super::{Action, Engine, PeerKey};
use crate::error::PeerError;
use crate::extension::{ExtHandshake, HANDSHAKE_ID, UT_METADATA, UT_PEX};
use crate::metadata::{metadata_piece, MetadataMessage, METADATA_PIECE};
use crate::pex::{PexMessage, FLAG_CONNECTABLE, FLAG_SEED, PEX_MAX_PEERS};
use bytes::Bytes;
use ferrent_wire::Message;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How often we send each peer a PEX message, and how often we accept one.
const PEX_INTERVAL: Duration = Duration::from_secs(60);
/// A peer sending PEX faster than this has its messages ignored.
const PEX_MIN_GAP: Duration = Duration::from_secs(45);

impl Engine {
    pub(super) fn send_ext_handshake(&mut self, key: PeerKey) {
        let Some(peer) = self.peers.get(&key) else { return };
        let mut extensions = vec![("ut_metadata".to_string(), UT_METADATA)];
        if self.config.pex {
            extensions.push(("ut_pex".to_string(), UT_PEX));
        }
        let handshake = ExtHandshake {
            extensions,
            client: Some(concat!("ferrent ", env!("CARGO_PKG_VERSION")).to_string()),
            listen_port: (self.config.listen_port != 0).then_some(self.config.listen_port),
            reqq: Some(self.config.max_peer_requests as u32),
            yourip: Some(peer.info.addr.ip()),
            metadata_size: self.info_bytes.as_ref().map(|b| b.len() as u64),
        };
        let payload = Bytes::from(handshake.encode());
        self.actions.push_back(Action::Send(key, Message::Extended { id: HANDSHAKE_ID, payload }));
    }

    pub(super) fn handle_extended(
        &mut self,
        key: PeerKey,
        id: u8,
        payload: Bytes,
        now: Instant,
    ) -> Result<(), PeerError> {
        match id {
            HANDSHAKE_ID => {
                let handshake = ExtHandshake::decode(&payload)?;
                let peer = self.peer(key);
                peer.reqq = handshake.reqq;
                peer.ext = Some(handshake);
            }
            UT_METADATA => {
                if let MetadataMessage::Request { piece } = MetadataMessage::decode(&payload)? {
                    self.serve_metadata(key, piece);
                }
            }
            UT_PEX if self.config.pex => {
                let peer = self.peer(key);
                if peer.pex_received.is_some_and(|t| now.duration_since(t) < PEX_MIN_GAP) {
                    return Ok(());
                }
                peer.pex_received = Some(now);
                let message = PexMessage::decode(&payload)?;
                let addrs: Vec<SocketAddr> = message.added.into_iter().map(|(a, _)| a).collect();
                if !addrs.is_empty() {
                    self.actions.push_back(Action::Discovered(addrs));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn serve_metadata(&mut self, key: PeerKey, piece: u32) {
        let info = self.info_bytes.clone();
        let peer = self.peer(key);
        let Some(their_id) = peer.ext.as_ref().and_then(|e| e.id_of("ut_metadata")) else {
            return;
        };
        let pieces = info.as_ref().map_or(0, |i| i.len().div_ceil(METADATA_PIECE)) as u32;
        // Each piece may be asked for a couple of times; more is a flood and is refused.
        peer.metadata_served += 1;
        let allowed = peer.metadata_served <= 2 * pieces.max(1);
        let message = match (info, allowed) {
            (Some(info), true) => match metadata_piece(&info, piece) {
                Some(data) => MetadataMessage::Data { piece, total_size: info.len() as u64, data },
                None => MetadataMessage::Reject { piece },
            },
            _ => MetadataMessage::Reject { piece },
        };
        let payload = Bytes::from(message.encode());
        self.actions.push_back(Action::Send(key, Message::Extended { id: their_id, payload }));
    }

    /// Sends each PEX-capable peer the changes in our peer list, once a minute.
    pub(super) fn pex_tick(&mut self, now: Instant) {
        if !self.config.pex || self.last_pex.is_some_and(|t| now.duration_since(t) < PEX_INTERVAL) {
            return;
        }
        self.last_pex = Some(now);
        let piece_count = self.lengths.piece_count();
        let current: Vec<(PeerKey, SocketAddr, u8)> = self
            .peers
            .iter()
            .filter_map(|(&k, p)| {
                let addr = p.listen_addr()?;
                let seed = if p.bitfield.count() == piece_count { FLAG_SEED } else { 0 };
                Some((k, addr, seed | FLAG_CONNECTABLE))
            })
            .collect();
        let mut sends = Vec::new();
        for (&key, peer) in self.peers.iter_mut() {
            let Some(id) = peer.ext.as_ref().and_then(|e| e.id_of("ut_pex")) else { continue };
            let others: Vec<(SocketAddr, u8)> =
                current.iter().filter(|(k, ..)| *k != key).map(|(_, a, f)| (*a, *f)).collect();
            let now_set: HashSet<SocketAddr> = others.iter().map(|(a, _)| *a).collect();
            let added: Vec<(SocketAddr, u8)> = others
                .into_iter()
                .filter(|(a, _)| !peer.pex_sent.contains(a))
                .take(PEX_MAX_PEERS)
                .collect();
            let dropped: Vec<SocketAddr> = peer
                .pex_sent
                .iter()
                .filter(|a| !now_set.contains(a))
                .take(PEX_MAX_PEERS)
                .copied()
                .collect();
            if added.is_empty() && dropped.is_empty() {
                continue;
            }
            for a in &dropped {
                peer.pex_sent.remove(a);
            }
            peer.pex_sent.extend(added.iter().map(|(a, _)| *a));
            let payload = Bytes::from(PexMessage { added, dropped }.encode());
            sends.push(Action::Send(key, Message::Extended { id, payload }));
        }
        self.actions.extend(sends);
    }
}
