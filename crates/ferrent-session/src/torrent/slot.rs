//! A torrent keeps its engine only while it has something to do.
//!
//! A complete torrent with no peers and nothing under way *sleeps*: its engine (piece picker,
//! peer tables, choker), its read cache and its open files are let go, and only the verified
//! pieces and the byte counters stay. A daemon seeding thousands of torrents, few of which
//! have a peer at any moment, keeps most of them asleep. Whatever needs the engine wakes it
//! again through [`Torrent::with_engine`]: a peer connecting, a reader, a recheck, file
//! priorities that want more pieces. Reports ([`Torrent::stats`], details) read either form
//! without waking anything.

use super::Torrent;
use ferrent_core::Bitfield;
use ferrent_proto::{Engine, EngineConfig, Transferred};
use std::sync::atomic::Ordering;

/// The engine while the torrent is awake, or what outlives it while it sleeps.
#[derive(Default)]
pub(crate) struct EngineSlot {
    engine: Option<Box<Engine>>,
    /// While asleep: the verified pieces. While awake the engine holds them and this is empty.
    have: Bitfield,
    /// While asleep: the engine's counters when it was let go.
    transferred: Transferred,
}

impl EngineSlot {
    /// A sleeping torrent's slot.
    pub(crate) fn asleep(have: Bitfield, transferred: Transferred) -> Self {
        Self { engine: None, have, transferred }
    }

    /// The engine, when awake.
    pub(crate) fn awake(&self) -> Option<&Engine> {
        self.engine.as_deref()
    }

    /// The engine, when awake.
    pub(crate) fn awake_mut(&mut self) -> Option<&mut Engine> {
        self.engine.as_deref_mut()
    }

    /// The verified pieces.
    pub(crate) fn have(&self) -> &Bitfield {
        self.engine.as_ref().map_or(&self.have, |e| e.have())
    }

    /// Payload bytes moved since the torrent was added.
    pub(crate) fn transferred(&self) -> Transferred {
        self.engine.as_ref().map_or(self.transferred, |e| e.transferred())
    }

    /// The engine, built first with `build` when asleep.
    fn wake_with(&mut self, build: impl FnOnce(Bitfield, Transferred) -> Engine) -> &mut Engine {
        match &mut self.engine {
            Some(engine) => engine,
            none => none.insert(Box::new(build(std::mem::take(&mut self.have), self.transferred))),
        }
    }
}

impl Torrent {
    /// The engine's settings for this torrent.
    pub(crate) fn engine_config(&self) -> EngineConfig {
        EngineConfig {
            ban_after: self.session.config.ban_after,
            pex: self.meta.pex,
            listen_port: self.session.listen_port,
            ..EngineConfig::default()
        }
    }

    /// Per-piece priorities for per-file `priorities`: a piece is wanted when any file it
    /// touches is.
    pub(crate) fn piece_priorities(&self, priorities: &[u8]) -> Vec<u8> {
        let layout = self.storage.layout();
        let mut pieces = vec![0u8; layout.lengths().piece_count() as usize];
        for (file, &priority) in self.visible.iter().zip(priorities) {
            for piece in layout.pieces_of_file(file) {
                let slot = &mut pieces[piece as usize];
                *slot = (*slot).max(priority);
            }
        }
        pieces
    }

    /// The engine in `slot`, built from the torrent's settings when it was asleep.
    pub(super) fn wake<'a>(&self, slot: &'a mut EngineSlot) -> &'a mut Engine {
        slot.wake_with(|have, transferred| {
            tracing::trace!(info_hash = %self.info_hash.to_hex(), "torrent wakes");
            let lengths = self.storage.layout().lengths();
            let mut engine = Engine::new(lengths, have, self.engine_config(), rand::random());
            engine.set_metadata(self.meta.info_bytes.clone());
            engine.set_sequential(self.meta.sequential);
            engine.set_piece_priorities(self.piece_priorities(&self.file_priorities.lock()));
            engine.set_transferred(transferred);
            engine
        })
    }

    /// Puts the torrent to sleep if it is complete and has nothing under way; returns
    /// whether it sleeps now.
    pub(crate) fn try_sleep(&self) -> bool {
        if self.checking.load(Ordering::SeqCst) || !self.peers.lock().is_empty() {
            return false;
        }
        let mut slot = self.engine.lock();
        let Some(engine) = slot.engine.take_if(|e| e.is_complete() && e.is_idle()) else {
            return slot.engine.is_none();
        };
        let mut cache = self.read_cache.lock();
        if cache.as_ref().is_some_and(|c| !c.is_idle()) {
            slot.engine = Some(engine);
            return false;
        }
        *cache = None;
        drop(cache);
        let (have, transferred) = engine.into_have();
        *slot = EngineSlot::asleep(have, transferred);
        drop(slot);
        self.storage.release_files();
        tracing::trace!(info_hash = %self.info_hash.to_hex(), "torrent sleeps");
        true
    }

    /// True while the torrent sleeps.
    pub(crate) fn is_asleep(&self) -> bool {
        self.engine.lock().awake().is_none()
    }
}
