//! One running torrent: the [`Engine`] behind a lock, its peers, its disk jobs.
//!
//! Every change to the engine goes through [`Torrent::with_engine`], which collects the
//! engine's actions under the lock and carries them out after releasing it, so no lock is
//! ever held across I/O or an await. An idle complete torrent sleeps without its engine
//! (see [`slot`]).

mod report;
mod slot;

pub(crate) use slot::EngineSlot;

use crate::book::AddressBook;
use crate::cache::{Lookup, ReadCache};
use crate::details::TrackerStatus;
use crate::disk_jobs::JobKind;
use crate::events::TorrentEvent;
use crate::hashes::PieceHashes;
use crate::limit::{throttle, Direction, Limits};
use crate::session::SessionShared;
use crate::visible::VisibleFiles;
use crate::web_seed::WebSeeds;
use bytes::Bytes;
use ferrent_core::{Bitfield, BlockRef, InfoHashV1, PieceIndex};
use ferrent_proto::{Action, Engine, PeerError, PeerInfo, PeerKey, Transferred};
use ferrent_storage::Storage;
use ferrent_wire::Message;
use parking_lot::Mutex;
use sha1::{Digest, Sha1};
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, Notify, OwnedSemaphorePermit};

/// What the writer half of a connection sends.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// A protocol message.
    Message(Message),
    /// A block we serve.
    Block(BlockRef, Bytes),
}

/// The torrent's handle on one live connection.
pub(crate) struct PeerLink {
    pub(crate) tx: mpsc::UnboundedSender<Outgoing>,
    pub(crate) addr: SocketAddr,
    pub(crate) peer_id: [u8; 20],
    pub(crate) close: Arc<Notify>,
}

/// One torrent in a session.
pub(crate) struct Torrent {
    pub(crate) info_hash: InfoHashV1,
    /// BEP 27: only trackers may give peers; no DHT, PEX or LSD.
    pub(crate) private: bool,
    pub(crate) session: Arc<SessionShared>,
    engine: Mutex<EngineSlot>,
    pub(crate) storage: Arc<Storage>,
    hashes: PieceHashes,
    peers: Mutex<HashMap<PeerKey, PeerLink>>,
    next_key: AtomicU64,
    pub(crate) book: Mutex<AddressBook>,
    banned: Mutex<HashSet<BanKey>>,
    /// Every selected piece is verified.
    complete: AtomicBool,
    pub(crate) stopped: AtomicBool,
    failed: AtomicBool,
    pub(crate) limits: Limits,
    pub(crate) meta: TorrentMeta,
    pub(crate) paused: AtomicBool,
    pub(crate) checking: AtomicBool,
    pub(crate) error: Mutex<Option<String>>,
    /// What each tracker said last, in URL order (a vector: a map's first node would cost
    /// more than a torrent's few trackers).
    pub(crate) trackers: Mutex<Vec<TrackerStatus>>,
    /// Per-file priorities, one per visible file (pad files are not files to a user).
    file_priorities: Mutex<Vec<u8>>,
    /// Layout indices of the files a user sees: every file but BEP 47 pad files. Every
    /// public file index means a position in this list.
    pub(crate) visible: VisibleFiles,
    /// Made on the first read; let go while the torrent sleeps.
    read_cache: Mutex<Option<Box<ReadCache>>>,
    /// Woken whenever a piece is verified and when the torrent completes (readers and
    /// [`Torrent::wait_complete`] wait on it).
    pub(crate) progress: Notify,
    /// When the session's heartbeat next ticks this torrent.
    /// (In milliseconds of [`SessionShared::millis`].)
    next_tick: AtomicU64,
    /// Every wanted piece was already on disk when the torrent was added.
    pub(crate) complete_at_start: bool,
    /// BEP 19 web seeds, if the torrent lists any.
    pub(crate) web_seeds: Option<Box<WebSeeds>>,
}

/// Bytes of whole pieces kept for serving, per torrent.
const READ_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// What a torrent is, fixed when it is added.
pub(crate) struct TorrentMeta {
    /// Display name.
    pub(crate) name: String,
    /// Tracker tiers to announce to (empty: none).
    pub(crate) tiers: Vec<Vec<String>>,
    /// Exchange peer lists (BEP 11): not for private torrents, nor when the user said no.
    pub(crate) pex: bool,
    /// Pieces in order rather than rarest first.
    pub(crate) sequential: bool,
    /// The raw info dictionary, served to peers (BEP 9).
    pub(crate) info_bytes: Bytes,
    /// A single-file torrent (web seed URLs name the file itself).
    pub(crate) single_file: bool,
}

/// Bans are per IP, except on loopback where many peers share one address and the port
/// tells them apart.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum BanKey {
    Ip(IpAddr),
    Socket(SocketAddr),
}

impl BanKey {
    fn of(addr: SocketAddr) -> Self {
        if addr.ip().is_loopback() {
            BanKey::Socket(addr)
        } else {
            BanKey::Ip(addr.ip())
        }
    }
}

impl Torrent {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        info_hash: InfoHashV1,
        private: bool,
        session: Arc<SessionShared>,
        have: Bitfield,
        storage: Arc<Storage>,
        hashes: PieceHashes,
        limits: Limits,
        meta: TorrentMeta,
        file_priorities: Vec<u8>,
    ) -> Self {
        let visible = VisibleFiles::of(storage.layout().files());
        let mut torrent = Self {
            info_hash,
            private,
            session,
            engine: Mutex::new(EngineSlot::asleep(have, Transferred::default())),
            storage,
            hashes,
            peers: Mutex::new(HashMap::new()),
            next_key: AtomicU64::new(1),
            book: Mutex::new(AddressBook::default()),
            banned: Mutex::new(HashSet::new()),
            complete: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            failed: AtomicBool::new(false),
            limits,
            meta,
            paused: AtomicBool::new(false),
            checking: AtomicBool::new(false),
            error: Mutex::new(None),
            trackers: Mutex::new(Vec::new()),
            file_priorities: Mutex::new(file_priorities),
            visible,
            read_cache: Mutex::new(None),
            progress: Notify::new(),
            next_tick: AtomicU64::new(0),
            complete_at_start: false,
            web_seeds: None,
        };
        // Complete data starts asleep; anything else needs its engine from the start.
        let wanted = torrent.piece_priorities(&torrent.file_priorities.lock());
        let complete = torrent.has_wanted(&wanted);
        if complete {
            torrent.storage.release_files();
        } else {
            torrent.wake(&mut torrent.engine.lock());
        }
        *torrent.complete.get_mut() = complete;
        torrent.complete_at_start = complete;
        torrent
    }

    /// Runs `f` on the engine, waking the torrent if it sleeps, and carries out the actions
    /// the engine produced.
    pub(crate) fn with_engine<R>(self: &Arc<Self>, f: impl FnOnce(&mut Engine) -> R) -> R {
        let (result, actions) = {
            let mut slot = self.engine.lock();
            let engine = self.wake(&mut slot);
            let result = f(engine);
            (result, drain_actions(engine))
        };
        self.run_all(actions);
        result
    }

    /// Like [`Torrent::with_engine`], but does nothing on a sleeping torrent (news about a
    /// peer or a block that a sleeping torrent no longer has).
    pub(crate) fn with_awake_engine<R>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Engine) -> R,
    ) -> Option<R> {
        let (result, actions) = {
            let mut slot = self.engine.lock();
            let engine = slot.awake_mut()?;
            let result = f(engine);
            (result, drain_actions(engine))
        };
        self.run_all(actions);
        Some(result)
    }

    fn run_all(self: &Arc<Self>, actions: Vec<Action>) {
        for action in actions {
            self.run(action);
        }
    }

    fn run(self: &Arc<Self>, action: Action) {
        match action {
            Action::Send(key, message) => {
                if let Some(link) = self.peers.lock().get(&key) {
                    let _ = link.tx.send(Outgoing::Message(message));
                }
            }
            Action::Disconnect(key, error) => self.disconnect(key, &error),
            Action::Verify(piece, blocks) => self.spawn_verify(piece, blocks),
            Action::Read(key, block) => self.spawn_read(key, block),
            Action::Discovered(addrs) => self.learn(addrs),
        }
    }

    fn disconnect(&self, key: PeerKey, error: &PeerError) {
        let Some(link) = self.peers.lock().remove(&key) else { return };
        link.close.notify_one();
        self.session.peer_closed();
        let (peer, reason) = (link.addr, error.to_string());
        tracing::debug!(%peer, %reason, "dropping peer");
        let event = if matches!(error, PeerError::Banned(_)) {
            self.banned.lock().insert(BanKey::of(peer));
            TorrentEvent::PeerBanned { peer, reason }
        } else {
            TorrentEvent::PeerDropped { peer, reason }
        };
        self.report(event);
    }

    pub(crate) fn is_banned(&self, addr: SocketAddr) -> bool {
        self.banned.lock().contains(&BanKey::of(addr))
    }

    /// Registers a connection that finished its handshake; `None` when it must be refused
    /// (duplicate, banned, full, stopped).
    pub(crate) fn attach(
        self: &Arc<Self>,
        peer_id: [u8; 20],
        info: PeerInfo,
    ) -> Option<(PeerKey, mpsc::UnboundedReceiver<Outgoing>, Arc<Notify>)> {
        let idle = self.paused.load(Ordering::Relaxed) || self.checking.load(Ordering::Relaxed);
        if idle || self.stopped.load(Ordering::Relaxed) || self.is_banned(info.addr) {
            return None;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let close = Arc::new(Notify::new());
        let key = {
            let mut peers = self.peers.lock();
            let addr = info.addr;
            let duplicate = peers.values().any(|l| l.peer_id == peer_id || l.addr == addr);
            if duplicate || peers.len() >= self.session.config.max_peers_per_torrent {
                return None;
            }
            if !self.session.try_reserve_peer() {
                return None;
            }
            let key = self.next_key.fetch_add(1, Ordering::Relaxed);
            peers.insert(key, PeerLink { tx, addr, peer_id, close: close.clone() });
            key
        };
        self.with_engine(|e| e.add_peer(key, info, Instant::now()));
        Some((key, rx, close))
    }

    /// A connection ended (closed by either side or failed); `violation` says how the peer
    /// broke the protocol, if it did.
    pub(crate) fn detach(self: &Arc<Self>, key: PeerKey, violation: Option<String>) {
        if let Some(link) = self.peers.lock().remove(&key) {
            self.session.peer_closed();
            if let Some(reason) = violation {
                tracing::debug!(peer = %link.addr, %reason, "dropping peer");
                self.report(TorrentEvent::PeerDropped { peer: link.addr, reason });
            }
        }
        self.with_awake_engine(|e| e.remove_peer(key));
    }

    /// Learns peer addresses worth dialing and has the heartbeat dial them at once.
    pub(crate) fn learn(&self, addrs: impl IntoIterator<Item = SocketAddr>) {
        let addrs = addrs.into_iter().filter(|a| !self.session.is_ourselves(*a));
        self.book.lock().add(addrs);
        self.tick_soon();
    }

    /// Has the heartbeat look at this torrent now rather than when it is next due.
    pub(crate) fn tick_soon(&self) {
        self.tick_next(Instant::now());
        self.session.wake_heartbeat();
    }

    /// Queues a message for one peer.
    pub(crate) fn send_to(&self, key: PeerKey, message: Message) {
        if let Some(link) = self.peers.lock().get(&key) {
            let _ = link.tx.send(Outgoing::Message(message));
        }
    }

    /// A peer told us its DHT port (BEP 5): its node goes to our DHT.
    pub(crate) fn note_dht_ports(&self, key: PeerKey, batch: &[Message]) {
        let Some(dht) = self.session.dht.as_ref().filter(|_| !self.private) else { return };
        for message in batch {
            if let Message::Port(port) = message {
                if let Some(link) = self.peers.lock().get(&key) {
                    dht.add_node(SocketAddr::new(link.addr.ip(), *port));
                }
            }
        }
    }

    /// Feeds a batch of messages from one peer to the engine under a single lock.
    pub(crate) fn handle_messages(self: &Arc<Self>, key: PeerKey, batch: &mut Vec<Message>) {
        let now = Instant::now();
        self.with_engine(|e| {
            for message in batch.drain(..) {
                e.handle_message(key, message, now);
            }
        });
    }

    pub(crate) fn is_attached(&self, key: PeerKey) -> bool {
        self.peers.lock().contains_key(&key)
    }

    pub(crate) fn connected_addrs(&self) -> Vec<SocketAddr> {
        self.peers.lock().values().map(|l| l.addr).collect()
    }

    pub(crate) fn peer_count(&self) -> usize {
        self.peers.lock().len()
    }

    /// Closes every connection (used at shutdown).
    pub(crate) fn close_all(&self) {
        for (_, link) in self.peers.lock().drain() {
            link.close.notify_one();
            self.session.peer_closed();
        }
    }

    /// Hashes a complete piece and, when it is good, writes it, all on one blocking thread
    /// (at most as many at once as the session has disk permits); the result goes straight
    /// back to the engine from there.
    fn spawn_verify(self: &Arc<Self>, piece: PieceIndex, blocks: Vec<Bytes>) {
        let this = self.clone();
        let counted = self.session.disk_jobs.start(JobKind::Verify);
        let job = move |permit: OwnedSemaphorePermit| {
            tokio::task::spawn_blocking(move || {
                let _counted = counted;
                let good = this.hashes.get(piece.as_usize()).is_some_and(|expected| {
                    let mut hasher = Sha1::new();
                    for block in &blocks {
                        hasher.update(block);
                    }
                    <[u8; 20]>::from(hasher.finalize()) == *expected
                });
                let written = if good { this.storage.write_piece(piece, &blocks) } else { Ok(()) };
                drop((blocks, permit));
                match written {
                    Ok(()) => this.piece_done(piece, good),
                    Err(error) => this.fail(error.to_string()),
                }
            });
        };
        // A free permit (the usual case) saves a trip through an async task.
        match self.session.disk.clone().try_acquire_owned() {
            Ok(permit) => job(permit),
            Err(_) => {
                let disk = self.session.disk.clone();
                tokio::spawn(async move {
                    if let Ok(permit) = disk.acquire_owned().await {
                        job(permit);
                    }
                });
            }
        }
    }

    /// Runs on the disk thread that checked `piece`.
    fn piece_done(self: &Arc<Self>, piece: PieceIndex, good: bool) {
        if !good {
            tracing::warn!(piece = piece.get(), "piece failed its hash check");
        }
        let (complete, finished_files) = self.with_engine(|e| {
            e.handle_verified(piece, good, Instant::now());
            let finished =
                if good { self.storage.files_finished_by(piece, e.have()) } else { vec![] };
            (e.is_complete(), finished)
        });
        for file in finished_files {
            if let Err(error) = self.storage.complete_file(file) {
                self.fail(error.to_string());
            }
        }
        if good {
            self.progress.notify_waiters();
        }
        if complete && !self.set_complete(true) {
            self.report(TorrentEvent::Completed);
        }
    }

    /// Stops the torrent on an error it cannot get past; verified data stays on disk.
    pub(crate) fn fail(&self, message: String) {
        if !self.failed.swap(true, Ordering::SeqCst) {
            tracing::error!(%message, "torrent stopped");
            *self.error.lock() = Some(message.clone());
            self.stopped.store(true, Ordering::SeqCst);
            self.close_all();
            self.report(TorrentEvent::Failed(message));
        }
    }

    /// Serves a requested block, from the read cache or after reading its whole piece.
    fn spawn_read(self: &Arc<Self>, key: PeerKey, block: BlockRef) {
        let lookup = self.read_cache().lookup(key, block);
        match lookup {
            Lookup::Hit(data) => self.deliver(key, block, data),
            Lookup::Pending => {}
            Lookup::Miss => {
                let this = self.clone();
                let counted = self.session.disk_jobs.start(JobKind::Read);
                tokio::task::spawn_blocking(move || {
                    let _counted = counted;
                    let mut buf = this.read_cache().buffer();
                    match this.storage.read_piece(block.piece, &mut buf) {
                        Ok(()) => {
                            let ready = this.read_cache().insert(block.piece, buf.into());
                            for (key, block, data) in ready {
                                this.deliver(key, block, data);
                            }
                        }
                        Err(error) => {
                            let waiting = this.read_cache().fail(block.piece);
                            for (key, _) in waiting {
                                this.uploads_done(key, 1);
                            }
                            this.fail(error.to_string());
                        }
                    }
                });
            }
        }
    }

    /// Hands a block to its peer's writer, unless it was cancelled meanwhile.
    fn deliver(self: &Arc<Self>, key: PeerKey, block: BlockRef, data: Bytes) {
        let sent = self.with_awake_engine(|e| e.upload_ready(key, &block)).unwrap_or(false)
            && self
                .peers
                .lock()
                .get(&key)
                .is_some_and(|link| link.tx.send(Outgoing::Block(block, data)).is_ok());
        if !sent {
            self.uploads_done(key, 1);
        }
    }

    /// `count` served blocks went out to `key` (or were dropped): frees their slots.
    pub(crate) fn uploads_done(self: &Arc<Self>, key: PeerKey, count: u32) {
        self.with_awake_engine(|e| {
            for _ in 0..count {
                e.upload_done(key);
            }
        });
    }

    /// Waits as the upload or download caps require for `bytes` more.
    pub(crate) async fn throttle(&self, direction: Direction, bytes: u64) {
        throttle([&self.session.limits, &self.limits], direction, bytes).await;
    }

    /// Periodic work: the engine's tick (none while asleep).
    pub(crate) fn tick(self: &Arc<Self>) {
        self.with_awake_engine(|e| e.handle_tick(Instant::now()));
    }

    /// The read cache, made on first use.
    fn read_cache(&self) -> parking_lot::MappedMutexGuard<'_, ReadCache> {
        parking_lot::MutexGuard::map(self.read_cache.lock(), |cache| {
            &mut **cache.get_or_insert_with(|| Box::new(ReadCache::new(READ_CACHE_BYTES)))
        })
    }

    /// Whether every selected piece is verified.
    pub(crate) fn is_complete(&self) -> bool {
        self.complete.load(Ordering::SeqCst)
    }

    /// Records whether every selected piece is verified; returns the previous value.
    fn set_complete(&self, complete: bool) -> bool {
        let was = self.complete.swap(complete, Ordering::SeqCst);
        if complete {
            self.progress.notify_waiters();
        }
        was
    }

    /// Resolves once every selected piece is verified.
    pub(crate) async fn wait_complete(&self) {
        loop {
            // Registered before the check, so a completion in between is not missed.
            let notified = self.progress.notified();
            if self.is_complete() {
                return;
            }
            notified.await;
        }
    }

    /// Tells the session's owner about `event`.
    pub(crate) fn report(&self, event: TorrentEvent) {
        self.session.emit(self.info_hash, event);
    }

    /// Whether the heartbeat should tick this torrent at `now`.
    pub(crate) fn tick_due(&self, now: Instant) -> bool {
        self.next_tick.load(Ordering::Relaxed) <= self.session.millis(now)
    }

    /// Schedules the next heartbeat tick.
    pub(crate) fn tick_next(&self, at: Instant) {
        self.next_tick.store(self.session.millis(at), Ordering::Relaxed);
    }
}

impl Torrent {
    /// Fetches the pieces in `range` first (a reader waits for them); `None` ends that
    /// (a sleeping torrent has no focus to end).
    pub(crate) fn focus(self: &Arc<Self>, range: Option<std::ops::Range<u32>>) {
        match range {
            Some(range) => self.with_engine(|e| e.set_focus(Some(range))),
            None => self.with_awake_engine(|e| e.set_focus(None)).unwrap_or(()),
        }
    }

    /// The v1 piece hashes.
    pub(crate) fn hashes(&self) -> PieceHashes {
        self.hashes.clone()
    }

    /// Per-file priorities (0 = skip).
    pub(crate) fn file_priorities(&self) -> Vec<u8> {
        self.file_priorities.lock().clone()
    }

    /// Whether every piece wanted under per-piece `priorities` is verified.
    fn has_wanted(&self, priorities: &[u8]) -> bool {
        let slot = self.engine.lock();
        let have = slot.have();
        priorities.iter().enumerate().all(|(piece, &p)| p == 0 || have.get(piece as u32))
    }

    /// Sets per-file priorities (one per visible file); a piece is wanted when any file it
    /// touches is. A sleeping torrent stays asleep unless it now wants pieces it lacks.
    pub(crate) fn set_file_priorities(self: &Arc<Self>, priorities: Vec<u8>) {
        let pieces = self.piece_priorities(&priorities);
        *self.file_priorities.lock() = priorities;
        let complete = if self.is_asleep() && self.has_wanted(&pieces) {
            true
        } else {
            self.with_engine(|e| {
                e.set_piece_priorities(pieces);
                e.is_complete()
            })
        };
        self.set_complete(complete);
    }

    /// Starts again from `have` (after a recheck), asleep if that is complete. Every
    /// connection must be closed first.
    pub(crate) fn reset_engine(self: &Arc<Self>, have: Bitfield) {
        *self.engine.lock() = EngineSlot::asleep(have, Transferred::default());
        self.set_file_priorities(self.file_priorities());
    }
}

/// Takes every action the engine has for its driver.
fn drain_actions(engine: &mut Engine) -> Vec<Action> {
    std::iter::from_fn(|| engine.poll_action()).collect()
}
