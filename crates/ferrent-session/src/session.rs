//! The session: one listener, one set of limits and one disk pool for many torrents.

use crate::config::{SessionConfig, TorrentOptions};
use crate::dht::DhtHandle;
use crate::disk_jobs::{DiskJobs, DiskQueue};
use crate::error::SessionError;
use crate::events::TorrentEvent;
use crate::handle::TorrentHandle;
use crate::hashes::PieceHashes;
use crate::limit::Limits;
use crate::resume::ResumeData;
use crate::torrent::Torrent;
use crate::torrent::TorrentMeta;
use crate::tracker;
use crate::visible::VisibleFiles;
use crate::web_seed::WebSeeds;
use ferrent_core::{Bitfield, InfoHashV1, Metainfo};
use ferrent_storage::{Directories, Layout, Storage};
use ferrent_wire::{Handshake, PeerId, Reserved};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Notify, Semaphore};

/// The reserved bits we send: the fast extension (BEP 6), the extension protocol (BEP 10)
/// and, when the DHT runs, BEP 5's DHT bit.
pub(crate) fn our_reserved(dht: bool) -> Reserved {
    let mut reserved = Reserved::default();
    reserved.set_fast(true);
    reserved.set_extension_protocol(true);
    reserved.set_dht(dht);
    reserved
}

/// State every torrent of a session shares.
pub(crate) struct SessionShared {
    pub(crate) config: SessionConfig,
    pub(crate) peer_id: [u8; 20],
    pub(crate) listen_port: u16,
    pub(crate) disk: Arc<Semaphore>,
    /// Disk work queued or running, for metrics.
    pub(crate) disk_jobs: Arc<DiskJobs>,
    pub(crate) limits: Limits,
    torrents: RwLock<HashMap<InfoHashV1, Arc<Torrent>>>,
    connections: AtomicUsize,
    /// Announces for every torrent of the session.
    pub(crate) trackers: tracker::TrackerHub,
    /// HTTP(S) for trackers and web seeds: one client, one connection pool, one load of
    /// the certificate store.
    pub(crate) http: reqwest::Client,
    /// The DHT node, when enabled.
    pub(crate) dht: Option<DhtHandle>,
    /// Where torrents' events go, once the owner asked for them ([`Session::events`]).
    events: OnceLock<mpsc::UnboundedSender<(InfoHashV1, TorrentEvent)>>,
    /// Wakes the heartbeat before its second is up (a torrent learnt of peers).
    heartbeat: Arc<Notify>,
    /// Download directories in use, each allocated once for all its torrents.
    roots: Directories,
    /// When the session started: the origin of [`SessionShared::millis`].
    epoch: Instant,
    /// Addresses where a dial met our own peer id (a tracker listing us to ourselves):
    /// no torrent dials them again.
    ourselves: parking_lot::Mutex<Vec<SocketAddr>>,
}

impl SessionShared {
    /// Takes one of the session's connection slots.
    pub(crate) fn try_reserve_peer(&self) -> bool {
        let max = self.config.max_peers_global;
        self.connections
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < max).then_some(n + 1))
            .is_ok()
    }

    /// Gives a connection slot back.
    pub(crate) fn peer_closed(&self) {
        let _ =
            self.connections.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }

    /// Passes a torrent's event to the session's owner, if it listens.
    pub(crate) fn emit(&self, info_hash: InfoHashV1, event: TorrentEvent) {
        if let Some(events) = self.events.get() {
            let _ = events.send((info_hash, event));
        }
    }

    /// Runs the heartbeat now rather than at its next second.
    pub(crate) fn wake_heartbeat(&self) {
        self.heartbeat.notify_one();
    }

    /// `at` as milliseconds since the session started (0 for earlier instants): a time
    /// that fits an atomic.
    pub(crate) fn millis(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }

    /// Remembers that `addr` is this session (bounded: a few addresses at most).
    fn found_ourselves(&self, addr: SocketAddr) {
        const MAX_OWN_ADDRESSES: usize = 16;
        let mut ourselves = self.ourselves.lock();
        if !ourselves.contains(&addr) && ourselves.len() < MAX_OWN_ADDRESSES {
            ourselves.push(addr);
        }
    }

    /// True when `addr` is known to be this session.
    pub(crate) fn is_ourselves(&self, addr: SocketAddr) -> bool {
        self.ourselves.lock().contains(&addr)
    }

    /// The reserved bits this session sends.
    pub(crate) fn reserved(&self) -> Reserved {
        our_reserved(self.dht.is_some())
    }

    /// Tells the torrent with `info_hash`, if the session runs it, about a peer address
    /// (from LSD, the DHT, ...). Private torrents ignore such sources.
    pub(crate) fn add_peer_for(&self, info_hash: InfoHashV1, addr: SocketAddr) {
        if let Some(torrent) = self.torrents.read().get(&info_hash) {
            if !torrent.private {
                torrent.learn([addr]);
            }
        }
    }

    /// The info hashes of the public torrents (those LSD and the DHT may announce).
    pub(crate) fn public_torrents(&self) -> Vec<InfoHashV1> {
        self.torrents.read().values().filter(|t| !t.private).map(|t| t.info_hash).collect()
    }

    /// Drops a stopped torrent from the session's table.
    pub(crate) fn forget(&self, info_hash: InfoHashV1) {
        self.torrents.write().remove(&info_hash);
    }

    fn handshake(&self, info_hash: InfoHashV1) -> Handshake {
        Handshake { reserved: self.reserved(), info_hash: info_hash.0, peer_id: self.peer_id }
    }
}

/// A BitTorrent session: runs any number of torrents.
pub struct Session {
    shared: Arc<SessionShared>,
    listener: tokio::task::JoinHandle<()>,
    _lsd: Option<crate::lsd::LsdHandle>,
}

impl Session {
    /// Opens the listener and starts the session.
    pub async fn new(config: SessionConfig) -> Result<Session, SessionError> {
        let ip = config.listen_addr.unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        let addr = SocketAddr::new(ip, config.listen_port);
        let listener = match bind(addr) {
            Ok(l) => l,
            Err(_) if config.listen_addr.is_none() => {
                bind(SocketAddr::new([0, 0, 0, 0].into(), config.listen_port))
                    .map_err(|source| SessionError::Listen { addr: addr.to_string(), source })?
            }
            Err(source) => return Err(SessionError::Listen { addr: addr.to_string(), source }),
        };
        let listen_port = listener.local_addr().map(|a| a.port()).unwrap_or(config.listen_port);
        let threads = if config.disk_threads == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            config.disk_threads
        };
        let dht = match config.dht.clone() {
            Some(mut dht_config) => {
                if dht_config.bind.port() == 0 {
                    dht_config.bind.set_port(listen_port);
                }
                match DhtHandle::start(dht_config).await {
                    Ok(handle) => Some(handle),
                    Err(e) => {
                        tracing::warn!("the DHT is off: {e}");
                        None
                    }
                }
            }
            None => None,
        };
        let http = tracker::http_client();
        let shared = Arc::new(SessionShared {
            dht,
            peer_id: PeerId::generate(&mut rand::thread_rng()).0,
            listen_port,
            disk: Arc::new(Semaphore::new(threads)),
            disk_jobs: Arc::new(DiskJobs::default()),
            limits: Limits::new(config.upload_limit, config.download_limit),
            torrents: RwLock::new(HashMap::new()),
            connections: AtomicUsize::new(0),
            trackers: tracker::TrackerHub::start(http.clone()),
            http,
            events: OnceLock::new(),
            heartbeat: Arc::new(Notify::new()),
            roots: Directories::default(),
            epoch: Instant::now(),
            ourselves: parking_lot::Mutex::new(Vec::new()),
            config,
        });
        let listener = tokio::spawn(accept_loop(listener, shared.clone()));
        tokio::spawn(heartbeat(Arc::downgrade(&shared)));
        let lsd = shared.config.lsd.then(|| {
            let interface = match shared.config.listen_addr {
                Some(IpAddr::V4(v4)) if !v4.is_unspecified() => Some(v4),
                _ => None,
            };
            crate::lsd::LsdHandle::start(Arc::downgrade(&shared), listen_port, interface)
                .map_err(|e| tracing::warn!("local service discovery is off: {e}"))
                .ok()
        });
        if shared.dht.is_some() {
            tokio::spawn(dht_loop(Arc::downgrade(&shared)));
        }
        Ok(Session { shared, listener, _lsd: lsd.flatten() })
    }

    pub(crate) fn shared(&self) -> Arc<SessionShared> {
        self.shared.clone()
    }

    /// Takes the stream of every torrent's events, each with its torrent's info hash, in
    /// order. Only the first call gets it; until then events are not kept.
    pub fn events(&self) -> Option<mpsc::UnboundedReceiver<(InfoHashV1, TorrentEvent)>> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.shared.events.set(tx).ok().map(|()| rx)
    }

    /// Disk work queued or running now: pieces to hash and write, and pieces to read for
    /// uploads.
    pub fn disk_queue(&self) -> DiskQueue {
        self.shared.disk_jobs.snapshot()
    }

    /// Addresses found to be this session's own (a dial there met our peer id, as when a
    /// tracker lists us to ourselves); no torrent dials them again.
    pub fn own_addresses(&self) -> Vec<SocketAddr> {
        self.shared.ourselves.lock().clone()
    }

    /// The TCP port peers can reach us on.
    pub fn listen_port(&self) -> u16 {
        self.shared.listen_port
    }

    /// Adds a torrent: checks the data already on disk (or trusts `options.resume` for
    /// files that did not change), then starts fetching and serving.
    pub async fn add_torrent(
        &self,
        metainfo: &Metainfo,
        options: TorrentOptions,
    ) -> Result<TorrentHandle, SessionError> {
        let info_hash = metainfo.info_hashes.v1.ok_or(SessionError::V2Only)?;
        if self.shared.torrents.read().contains_key(&info_hash) {
            return Err(SessionError::Duplicate(info_hash.to_hex()));
        }
        let layout = Layout::from_info(&metainfo.info)?;
        let file_priorities = file_priorities(&layout, &options)?;
        let root = self.shared.roots.share(&options.download_dir);
        let storage = Arc::new(Storage::open_shared(root, layout)?);
        let info_bytes = bytes::Bytes::from(metainfo.info_bytes.clone());
        let info = &metainfo.info;
        let hashes = PieceHashes::new(&info_bytes, info.pieces_span.clone(), &info.pieces);
        let threads = self.shared.disk.available_permits();
        let (have, changed) =
            check_existing(&storage, &hashes, threads, options.resume.clone()).await?;
        if !changed.is_empty() {
            let files = changed
                .iter()
                .filter_map(|&i| storage.layout().files().get(i))
                .map(|f| f.path.to_string_lossy().into_owned())
                .collect();
            self.shared.emit(info_hash, TorrentEvent::FilesChanged { files });
        }
        self.shared
            .emit(info_hash, TorrentEvent::Checked { have: have.count(), total: have.len() });
        let meta = TorrentMeta {
            name: metainfo.info.name.clone(),
            tiers: if options.no_trackers { Vec::new() } else { metainfo.trackers.clone() },
            pex: !metainfo.info.private && !options.no_pex,
            sequential: options.sequential,
            info_bytes,
            single_file: metainfo.info.single_file,
        };
        let mut torrent = Torrent::new(
            info_hash,
            metainfo.info.private,
            self.shared.clone(),
            have,
            storage,
            hashes,
            Limits::new(options.upload_limit, options.download_limit),
            meta,
            file_priorities,
        );
        torrent.web_seeds = WebSeeds::new(&metainfo.web_seeds, Instant::now());
        let torrent = Arc::new(torrent);
        torrent.paused.store(options.paused, Ordering::SeqCst);
        if torrent.stats().complete {
            torrent.report(TorrentEvent::Completed);
        }
        torrent.learn(options.peers.iter().copied());
        self.shared.torrents.write().insert(info_hash, torrent.clone());
        self.shared.wake_heartbeat();
        Ok(TorrentHandle::start(torrent))
    }

    /// Changes the session-wide caps (bytes per second, 0 = unlimited).
    pub fn set_limits(&self, upload: u64, download: u64) {
        self.shared.limits.set(upload, download);
    }

    /// Stops accepting connections.
    pub fn shutdown(&self) {
        self.listener.abort();
    }
}

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv6() {
        tokio::net::TcpSocket::new_v6()?
    } else {
        tokio::net::TcpSocket::new_v4()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// Per-file priorities from the options: explicit priorities win, then a selection, else
/// every file at normal priority.
fn file_priorities(layout: &Layout, options: &TorrentOptions) -> Result<Vec<u8>, SessionError> {
    let count = VisibleFiles::of(layout.files()).len();
    if let Some(priorities) = &options.file_priorities {
        if priorities.len() != count {
            return Err(SessionError::BadFileIndex { index: priorities.len(), count });
        }
        return Ok(priorities.clone());
    }
    if options.only_files.is_empty() {
        return Ok(vec![1; count]);
    }
    let mut priorities = vec![0u8; count];
    for &index in &options.only_files {
        *priorities.get_mut(index).ok_or(SessionError::BadFileIndex { index, count })? = 1;
    }
    Ok(priorities)
}

/// The verified pieces: from resume data where files are unchanged, else by hashing.
/// Also returns the files found changed since the resume data was taken.
pub(crate) async fn check_existing(
    storage: &Arc<Storage>,
    hashes: &PieceHashes,
    threads: usize,
    resume: Option<ResumeData>,
) -> Result<(Bitfield, Vec<usize>), SessionError> {
    let (storage, hashes) = (storage.clone(), hashes.clone());
    tokio::task::spawn_blocking(move || {
        let (have, changed) = match &resume {
            Some(resume) => crate::resume::restore(&storage, hashes.as_slice(), resume),
            None => {
                (storage.check_existing(hashes.as_slice(), threads.max(1), &|_| {})?, Vec::new())
            }
        };
        storage.complete_files(&have)?;
        Ok::<_, ferrent_storage::StorageError>((have, changed))
    })
    .await
    .map_err(|e| SessionError::Task(e.to_string()))?
    .map_err(SessionError::from)
}

async fn accept_loop(listener: TcpListener, shared: Arc<SessionShared>) {
    loop {
        let Ok((stream, addr)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d; name them as IPv4.
        let addr = SocketAddr::new(addr.ip().to_canonical(), addr.port());
        let shared = shared.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let mut stream = stream;
            let timeout = shared.config.connect_timeout;
            let mut buf = [0u8; Handshake::LEN];
            let read = tokio::time::timeout(
                timeout,
                tokio::io::AsyncReadExt::read_exact(&mut stream, &mut buf),
            )
            .await;
            let Ok(Ok(_)) = read else { return };
            let Ok(theirs) = Handshake::decode(&buf) else { return };
            let torrent = shared.torrents.read().get(&InfoHashV1(theirs.info_hash)).cloned();
            let Some(torrent) = torrent else { return };
            if torrent.is_banned(addr) {
                return;
            }
            let ours = shared.handshake(torrent.info_hash).encode();
            if tokio::io::AsyncWriteExt::write_all(&mut stream, &ours).await.is_err() {
                return;
            }
            // We dialed ourselves: our answer lets the dialing side see its own peer id and
            // remember the address; this side has nothing more to say.
            if theirs.peer_id == shared.peer_id {
                return;
            }
            crate::peer::run(torrent, stream, addr, false, theirs).await;
        });
    }
}

/// Dials a peer, handshakes and runs the connection.
async fn dial(torrent: Arc<Torrent>, addr: SocketAddr) {
    let shared = torrent.session.clone();
    let timeout = shared.config.connect_timeout;
    let worked = async {
        let mut stream =
            tokio::time::timeout(timeout, TcpStream::connect(addr)).await.ok()?.ok()?;
        let _ = stream.set_nodelay(true);
        let ours = shared.handshake(torrent.info_hash);
        let theirs =
            crate::peer::exchange_handshakes(&mut stream, &ours, false, timeout).await.ok()?;
        if theirs.info_hash != torrent.info_hash.0 {
            return Some(false);
        }
        if theirs.peer_id == shared.peer_id {
            shared.found_ourselves(addr);
            torrent.book.lock().remove(addr);
            return None;
        }
        Some(crate::peer::run(torrent.clone(), stream, addr, true, theirs).await)
    }
    .await;
    torrent.book.lock().finished(addr, worked == Some(true), Instant::now());
}

/// The session's heartbeat: every second, each torrent that is due gets the engine's tick
/// and new outgoing connections. A torrent with peers is due every second; an idle one (no
/// peers, nobody to dial) every ten, so thousands of idle torrents cost next to nothing; one
/// that learns of a peer at once. One task for the whole session rather than one per
/// torrent keeps an idle torrent's footprint small.
async fn heartbeat(shared: std::sync::Weak<SessionShared>) {
    const PERIOD: Duration = Duration::from_secs(1);
    loop {
        let Some(session) = shared.upgrade() else { return };
        let now = Instant::now();
        let due: Vec<Arc<Torrent>> =
            session.torrents.read().values().filter(|t| t.tick_due(now)).cloned().collect();
        for torrent in due {
            beat(&torrent, now);
        }
        let wake = session.heartbeat.clone();
        drop(session);
        tokio::select! {
            _ = tokio::time::sleep(PERIOD) => {}
            _ = wake.notified() => {}
        }
    }
}

/// One torrent's heartbeat (see [`heartbeat`]); sets when it is next due. A complete
/// torrent left with nothing to do goes to sleep (see `torrent::slot`).
fn beat(torrent: &Arc<Torrent>, now: Instant) {
    const BUSY: Duration = Duration::from_secs(1);
    const IDLE: Duration = Duration::from_secs(10);
    let config = &torrent.session.config;
    if torrent.stopped.load(Ordering::Relaxed) || torrent.checking.load(Ordering::Relaxed) {
        torrent.tick_next(now + BUSY);
        return;
    }
    if torrent.paused.load(Ordering::Relaxed) {
        torrent.try_sleep();
        torrent.tick_next(now + IDLE);
        return;
    }
    torrent.tick();
    let connected = torrent.peer_count();
    let room = config.max_peers_per_torrent.saturating_sub(connected).min(config.max_half_open);
    let live = torrent.connected_addrs();
    let due = if room == 0 {
        Vec::new()
    } else {
        torrent.book.lock().due(now, room, |a| live.contains(&a) || torrent.is_banned(a))
    };
    if !torrent.is_complete() {
        crate::web_seed::start_due(torrent, now);
    }
    let idle = connected == 0 && due.is_empty();
    if idle {
        torrent.try_sleep();
    }
    torrent.tick_next(now + if idle { IDLE } else { BUSY });
    for addr in due {
        tokio::spawn(dial(torrent.clone(), addr));
    }
}

/// Announces every public torrent to the DHT and asks it for peers: at start, again every
/// 15 minutes, and after 30 seconds while a lookup finds nobody (the table may still be
/// filling).
async fn dht_loop(shared: std::sync::Weak<SessionShared>) {
    const REANNOUNCE: Duration = Duration::from_secs(15 * 60);
    const RETRY_EMPTY: Duration = Duration::from_secs(30);
    let mut next: HashMap<InfoHashV1, Instant> = HashMap::new();
    let (found_tx, mut found_rx) = mpsc::unbounded_channel::<InfoHashV1>();
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tick.tick().await;
        let Some(session) = shared.upgrade() else { return };
        let Some(dht) = &session.dht else { return };
        let now = Instant::now();
        while let Ok(info_hash) = found_rx.try_recv() {
            next.insert(info_hash, now + REANNOUNCE);
        }
        let torrents = session.public_torrents();
        next.retain(|hash, _| torrents.contains(hash));
        for info_hash in torrents {
            if next.get(&info_hash).is_some_and(|t| *t > now) {
                continue;
            }
            next.insert(info_hash, now + RETRY_EMPTY);
            dht.announce(info_hash, session.listen_port);
            let mut peers = dht.get_peers(info_hash);
            let weak = shared.clone();
            let found = found_tx.clone();
            tokio::spawn(async move {
                let mut any = false;
                while let Some(addr) = peers.recv().await {
                    let Some(session) = weak.upgrade() else { return };
                    any = true;
                    session.add_peer_for(info_hash, addr);
                }
                if any {
                    let _ = found.send(info_hash);
                }
            });
        }
    }
}
