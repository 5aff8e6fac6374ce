//! The session: one listener, one set of limits and one disk pool for many torrents.

use crate::config::{SessionConfig, TorrentOptions};
use crate::error::SessionError;
use crate::events::{TorrentEvent, TorrentStats};
use crate::limit::Limits;
use crate::torrent::Torrent;
use crate::tracker::{self, AnnounceConfig, AnnouncerHandle, TrackerEvent, TransferStats};
use ferrent_core::{Bitfield, InfoHashV1, Metainfo};
use ferrent_proto::{Engine, EngineConfig};
use ferrent_storage::{Layout, Storage};
use ferrent_wire::{Handshake, PeerId, Reserved};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};

/// The reserved bits we send: the fast extension (BEP 6) and the extension protocol (BEP 10).
pub(crate) fn our_reserved() -> Reserved {
    let mut reserved = Reserved::default();
    reserved.set_fast(true);
    reserved.set_extension_protocol(true);
    reserved
}

/// State every torrent of a session shares.
pub(crate) struct SessionShared {
    pub(crate) config: SessionConfig,
    pub(crate) peer_id: [u8; 20],
    pub(crate) listen_port: u16,
    pub(crate) disk: Arc<Semaphore>,
    pub(crate) limits: Limits,
    torrents: RwLock<HashMap<InfoHashV1, Arc<Torrent>>>,
    connections: AtomicUsize,
    http: reqwest::Client,
}

impl SessionShared {
    /// Takes one of the session's connection slots.
    pub(crate) fn try_reserve_peer(&self) -> bool {
        let max = self.config.max_peers_global;
        self.connections.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < max).then_some(n + 1)).is_ok()
    }

    /// Gives a connection slot back.
    pub(crate) fn peer_closed(&self) {
        let _ = self.connections.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }

    /// Tells the torrent with `info_hash`, if the session runs it, about a peer address
    /// (from LSD, the DHT, ...). Private torrents ignore such sources.
    pub(crate) fn add_peer_for(&self, info_hash: InfoHashV1, addr: SocketAddr) {
        if let Some(torrent) = self.torrents.read().get(&info_hash) {
            if !torrent.private {
                torrent.book.lock().add([addr]);
            }
        }
    }

    /// The info hashes of the public torrents (those LSD and the DHT may announce).
    pub(crate) fn public_torrents(&self) -> Vec<InfoHashV1> {
        self.torrents.read().values().filter(|t| !t.private).map(|t| t.info_hash).collect()
    }

    /// The session's HTTP client (trackers).
    pub(crate) fn http_client(&self) -> reqwest::Client {
        self.http.clone()
    }

    fn handshake(&self, info_hash: InfoHashV1) -> Handshake {
        Handshake { reserved: our_reserved(), info_hash: info_hash.0, peer_id: self.peer_id }
    }
}

/// A BitTorrent session: runs any number of torrents.
pub struct Session {
    shared: Arc<SessionShared>,
    listener: tokio::task::JoinHandle<()>,
}

/// A torrent running in a [`Session`].
pub struct TorrentHandle {
    torrent: Arc<Torrent>,
    events: mpsc::UnboundedReceiver<TorrentEvent>,
    announcer: Option<AnnouncerHandle>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Session {
    /// Opens the listener and starts the session.
    pub async fn new(config: SessionConfig) -> Result<Session, SessionError> {
        let ip = config.listen_addr.unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        let addr = SocketAddr::new(ip, config.listen_port);
        let listener = match bind(addr) {
            Ok(l) => l,
            Err(_) if config.listen_addr.is_none() => bind(SocketAddr::new([0, 0, 0, 0].into(), config.listen_port))
                .map_err(|source| SessionError::Listen { addr: addr.to_string(), source })?,
            Err(source) => return Err(SessionError::Listen { addr: addr.to_string(), source }),
        };
        let listen_port = listener.local_addr().map(|a| a.port()).unwrap_or(config.listen_port);
        let threads = if config.disk_threads == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            config.disk_threads
        };
        let shared = Arc::new(SessionShared {
            peer_id: PeerId::generate(&mut rand::thread_rng()).0,
            listen_port,
            disk: Arc::new(Semaphore::new(threads)),
            limits: Limits::new(config.upload_limit, config.download_limit),
            torrents: RwLock::new(HashMap::new()),
            connections: AtomicUsize::new(0),
            http: tracker::http_client(),
            config,
        });
        let listener = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(Session { shared, listener })
    }

    pub(crate) fn shared(&self) -> Arc<SessionShared> {
        self.shared.clone()
    }

    /// The TCP port peers can reach us on.
    pub fn listen_port(&self) -> u16 {
        self.shared.listen_port
    }

    /// Adds a torrent: checks the data already on disk, then starts fetching and serving.
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
        let lengths = layout.lengths();
        let priorities = piece_priorities(&layout, &options.only_files)?;
        let storage = Arc::new(Storage::open(&options.download_dir, layout)?);
        let hashes = Arc::new(metainfo.info.pieces.clone());
        let (events_tx, events) = mpsc::unbounded_channel();
        let have = check_existing(&storage, &hashes, self.shared.disk.available_permits()).await?;
        let _ = events_tx.send(TorrentEvent::Checked { have: have.count(), total: have.len() });
        let config = EngineConfig {
            ban_after: self.shared.config.ban_after,
            pex: !metainfo.info.private && !options.no_pex,
            listen_port: self.shared.listen_port,
            ..EngineConfig::default()
        };
        let mut engine = Engine::new(lengths, have, config, rand::random());
        engine.set_metadata(metainfo.info_bytes.clone().into());
        engine.set_sequential(options.sequential);
        if let Some(p) = priorities {
            engine.set_piece_priorities(p);
        }
        let limits = Limits::new(options.upload_limit, options.download_limit);
        let torrent = Arc::new(Torrent::new(
            info_hash,
            metainfo.info.private,
            self.shared.clone(),
            engine,
            storage,
            hashes,
            events_tx,
            limits,
        ));
        if torrent.stats().complete {
            torrent.complete.send_replace(true);
            torrent.report(TorrentEvent::Completed);
        }
        torrent.book.lock().add(options.peers.iter().copied());
        self.shared.torrents.write().insert(info_hash, torrent.clone());

        let mut tasks = vec![tokio::spawn(tick_loop(torrent.clone()))];
        let announcer = (!options.no_trackers && !metainfo.trackers.is_empty()).then(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tasks.push(tokio::spawn(tracker_events(torrent.clone(), rx)));
            let stats_source = torrent.clone();
            tracker::spawn_announcer(
                AnnounceConfig {
                    info_hash,
                    peer_id: self.shared.peer_id,
                    port: self.shared.listen_port,
                    tiers: metainfo.trackers.clone(),
                    numwant: self.shared.config.numwant,
                    udp_retransmit_base: self.shared.config.udp_retransmit_base,
                },
                self.shared.http.clone(),
                Arc::new(move || {
                    let s = stats_source.stats();
                    TransferStats { uploaded: s.uploaded, downloaded: s.downloaded, left: s.left }
                }),
                tx,
            )
        });
        Ok(TorrentHandle { torrent, events, announcer, tasks })
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
    let socket = if addr.is_ipv6() { tokio::net::TcpSocket::new_v6()? } else { tokio::net::TcpSocket::new_v4()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// Per-piece priorities for a file selection; `None` when every file is wanted.
fn piece_priorities(layout: &Layout, only: &[usize]) -> Result<Option<Vec<u8>>, SessionError> {
    if only.is_empty() {
        return Ok(None);
    }
    let count = layout.files().len();
    let mut priorities = vec![0u8; layout.lengths().piece_count() as usize];
    for &index in only {
        if index >= count {
            return Err(SessionError::BadFileIndex { index, count });
        }
        for piece in layout.pieces_of_file(index) {
            priorities[piece as usize] = 1;
        }
    }
    Ok(Some(priorities))
}

async fn check_existing(
    storage: &Arc<Storage>,
    hashes: &Arc<Vec<[u8; 20]>>,
    threads: usize,
) -> Result<Bitfield, SessionError> {
    let (storage, hashes) = (storage.clone(), hashes.clone());
    tokio::task::spawn_blocking(move || {
        let have = storage.check_existing(&hashes, threads.max(1), &|_| {})?;
        storage.complete_files(&have)?;
        Ok::<_, ferrent_storage::StorageError>(have)
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
        let shared = shared.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let mut stream = stream;
            let timeout = shared.config.connect_timeout;
            let mut buf = [0u8; Handshake::LEN];
            let read = tokio::time::timeout(timeout, tokio::io::AsyncReadExt::read_exact(&mut stream, &mut buf)).await;
            let Ok(Ok(_)) = read else { return };
            let Ok(theirs) = Handshake::decode(&buf) else { return };
            let torrent = shared.torrents.read().get(&InfoHashV1(theirs.info_hash)).cloned();
            let Some(torrent) = torrent else { return };
            if theirs.peer_id == shared.peer_id || torrent.is_banned(addr) {
                return;
            }
            let ours = shared.handshake(torrent.info_hash).encode();
            if tokio::io::AsyncWriteExt::write_all(&mut stream, &ours).await.is_err() {
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
        let mut stream = tokio::time::timeout(timeout, TcpStream::connect(addr)).await.ok()?.ok()?;
        let _ = stream.set_nodelay(true);
        let ours = shared.handshake(torrent.info_hash);
        let theirs = crate::peer::exchange_handshakes(&mut stream, &ours, false, timeout).await.ok()?;
        if theirs.info_hash != torrent.info_hash.0 {
            return Some(false);
        }
        if theirs.peer_id == shared.peer_id {
            torrent.book.lock().never(addr);
            return None;
        }
        Some(crate::peer::run(torrent.clone(), stream, addr, true, theirs).await)
    }
    .await;
    torrent.book.lock().finished(addr, worked == Some(true), Instant::now());
}

async fn tick_loop(torrent: Arc<Torrent>) {
    let mut interval = tokio::time::interval(Duration::from_secs(1));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let config = torrent.session.config.clone();
    loop {
        interval.tick().await;
        if torrent.stopped.load(Ordering::Relaxed) {
            return;
        }
        torrent.tick();
        let connected = torrent.peer_count();
        let room = config.max_peers_per_torrent.saturating_sub(connected).min(config.max_half_open);
        if room == 0 {
            continue;
        }
        let live = torrent.connected_addrs();
        let due = torrent.book.lock().due(Instant::now(), room, |a| live.contains(&a) || torrent.is_banned(a));
        for addr in due {
            tokio::spawn(dial(torrent.clone(), addr));
        }
    }
}

async fn tracker_events(torrent: Arc<Torrent>, mut rx: mpsc::UnboundedReceiver<TrackerEvent>) {
    while let Some(event) = rx.recv().await {
        match event {
            TrackerEvent::Peers(peers) => torrent.book.lock().add(peers),
            TrackerEvent::Warning { url, message } | TrackerEvent::Error { url, message } => {
                torrent.report(TorrentEvent::Tracker { url, message })
            }
            TrackerEvent::Announced { .. } => {}
        }
    }
}

impl TorrentHandle {
    /// The torrent's v1 info hash.
    pub fn info_hash(&self) -> InfoHashV1 {
        self.torrent.info_hash
    }

    /// A snapshot of its numbers.
    pub fn stats(&self) -> TorrentStats {
        self.torrent.stats()
    }

    /// The next event, or `None` once the torrent is gone.
    pub async fn next_event(&mut self) -> Option<TorrentEvent> {
        self.events.recv().await
    }

    /// Takes the event stream, e.g. to merge several torrents' events in one task; later
    /// calls (and [`TorrentHandle::next_event`]) then see a closed stream.
    pub fn take_events(&mut self) -> mpsc::UnboundedReceiver<TorrentEvent> {
        std::mem::replace(&mut self.events, mpsc::unbounded_channel().1)
    }

    /// Resolves when every selected piece is verified.
    pub async fn wait_complete(&self) {
        let mut rx = self.torrent.complete.subscribe();
        let _ = rx.wait_for(|c| *c).await;
    }

    /// Changes this torrent's caps (bytes per second, 0 = unlimited).
    pub fn set_limits(&self, upload: u64, download: u64) {
        self.torrent.limits.set(upload, download);
    }

    /// Tells the trackers the download finished.
    pub fn announce_completed(&self) {
        if let Some(a) = &self.announcer {
            a.completed();
        }
    }

    /// Stops the torrent: tells the trackers (bounded by `timeout`), closes connections and
    /// flushes the data to disk.
    pub async fn stop(self, timeout: Duration) -> Result<(), SessionError> {
        self.torrent.stopped.store(true, Ordering::SeqCst);
        for task in &self.tasks {
            task.abort();
        }
        self.torrent.close_all();
        self.torrent.session.torrents.write().remove(&self.torrent.info_hash);
        if let Some(announcer) = self.announcer {
            announcer.stop(timeout).await;
        }
        let storage = self.torrent.storage.clone();
        tokio::task::spawn_blocking(move || storage.sync())
            .await
            .map_err(|e| SessionError::Task(e.to_string()))??;
        Ok(())
    }
}
