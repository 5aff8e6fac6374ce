//! [`Daemon`]: the torrents of one session, persisted in the state directory.
//!
//! Each torrent is an [`entry::Entry`] with its own locks; the table only maps ids to
//! entries and is never held across an await, so no operation on one torrent waits for
//! another. Start-up reads every record, makes the table, and starts the torrents in the
//! background (a few at once), so the API answers at once.

mod entry;
mod lifecycle;
mod ops;
mod saver;

pub use ops::{AddOptions, AddSource};

use crate::config::DaemonConfig;
use crate::error::DaemonError;
use crate::model::{DaemonEvent, Limits, SessionView, State, TorrentDetails, TorrentSummary};
use crate::store::{record, SessionRecord, StateStore, TorrentRecord};
use entry::{Entry, Saved};
use ferrent_core::InfoHashV1;
use ferrent_session::dht::DhtConfig;
use ferrent_session::{Session, SessionConfig};
use ferrent_storage::Directories;
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

/// Events buffered per event-stream listener before it is told it lagged.
const EVENT_BUFFER: usize = 1024;

/// The running daemon. Cheap to clone; every clone is the same daemon.
#[derive(Clone)]
pub struct Daemon {
    inner: Arc<Inner>,
}

/// Counters for the metrics.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) saves: AtomicU64,
    pub(crate) save_errors: AtomicU64,
    pub(crate) saves_in_flight: AtomicU64,
    pub(crate) removed_downloaded: AtomicU64,
    pub(crate) removed_uploaded: AtomicU64,
}

pub(crate) struct Inner {
    pub(crate) config: DaemonConfig,
    pub(crate) session: Session,
    pub(crate) store: StateStore,
    torrents: RwLock<HashMap<InfoHashV1, Arc<Entry>>>,
    events: broadcast::Sender<DaemonEvent>,
    limits: Mutex<SessionRecord>,
    problems: Mutex<Vec<String>>,
    started: Instant,
    pub(crate) http: reqwest::Client,
    pub(crate) counters: Counters,
    stopping: AtomicBool,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    save_queue: mpsc::UnboundedSender<InfoHashV1>,
    /// Torrents' download directories, one allocation each for all their torrents.
    pub(crate) directories: Directories,
}

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Sums over every torrent (see [`Daemon::tally`]).
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) torrents: usize,
    pub(crate) states: std::collections::BTreeMap<State, usize>,
    pub(crate) down_rate: u64,
    pub(crate) up_rate: u64,
    pub(crate) downloaded: u64,
    pub(crate) uploaded: u64,
    pub(crate) peers: usize,
    /// Bytes still wanted.
    pub(crate) left: u64,
    /// Torrents asleep: complete and idle, holding no engine, cache or open file.
    pub(crate) asleep: usize,
}

impl Daemon {
    /// Opens the state directory, starts the session and brings back every stored
    /// torrent (in the background: they show as `queued` until started).
    pub async fn start(config: DaemonConfig) -> Result<Daemon, DaemonError> {
        let io = |action, path: &std::path::Path| {
            let path = path.to_path_buf();
            move |source| crate::store::StoreError { action, path, source }
        };
        std::fs::create_dir_all(&config.download_dir)
            .map_err(io("create directory", &config.download_dir))?;
        let store = StateStore::open(&config.state_dir)?;
        let loading = store.clone();
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let loaded = tokio::task::spawn_blocking(move || loading.load(threads))
            .await
            .map_err(|e| DaemonError::Internal(e.to_string()))??;
        let (mut limits, session_problem) = store.load_session();
        if (limits.config_upload_limit, limits.config_download_limit)
            != (config.limits.upload, config.limits.download)
        {
            // The config file changed since the limits were set at run time: it wins.
            limits = SessionRecord {
                upload_limit: config.limits.upload,
                download_limit: config.limits.download,
                config_upload_limit: config.limits.upload,
                config_download_limit: config.limits.download,
            };
        }
        let dht = config.network.dht.then(|| DhtConfig {
            bind: SocketAddr::new(
                config.network.listen_addr.unwrap_or(IpAddr::from([0, 0, 0, 0])),
                0,
            ),
            state_file: Some(config.state_dir.join("dht.dat")),
            ..DhtConfig::default()
        });
        let session = Session::new(SessionConfig {
            listen_addr: config.network.listen_addr,
            listen_port: config.network.listen_port,
            max_peers_per_torrent: config.network.max_peers_per_torrent,
            max_peers_global: config.network.max_peers,
            upload_limit: limits.upload_limit,
            download_limit: limits.download_limit,
            dht,
            lsd: config.network.lsd,
            ..SessionConfig::default()
        })
        .await?;
        let mut problems = Vec::new();
        for problem in loaded.problems.iter().chain(session_problem.as_ref()) {
            tracing::warn!(path = %problem.path.display(), "{}", problem.message);
            problems.push(format!("{}: {}", problem.path.display(), problem.message));
        }
        let (save_queue, save_rx) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            session,
            store,
            torrents: RwLock::new(HashMap::with_capacity(loaded.torrents.len())),
            events: broadcast::channel(EVENT_BUFFER).0,
            limits: Mutex::new(limits),
            problems: Mutex::new(problems),
            started: Instant::now(),
            http: ferrent_session::tracker::build_http_client(|builder| {
                builder
                    .timeout(Duration::from_secs(30))
                    .redirect(reqwest::redirect::Policy::limited(5))
            }),
            counters: Counters::default(),
            stopping: AtomicBool::new(false),
            tasks: Mutex::new(Vec::new()),
            save_queue,
            directories: Directories::default(),
            config,
        });
        let mut entries = Vec::with_capacity(loaded.torrents.len());
        for stored in loaded.torrents {
            let (record, saved, recovered) = match stored.record {
                Some(mut record) => {
                    record.download_dir = inner.directories.share(&record.download_dir);
                    let saved = Saved {
                        digest: saver::digest(&record::encode(&record)),
                        have: record.resume.as_ref().map_or(0, |r| r.have_count()),
                        removed: false,
                    };
                    (record, saved, false)
                }
                None => (inner.default_record(&stored.info_hash), Saved::default(), true),
            };
            let entry = Arc::new(Entry::new(stored.info_hash, record, saved));
            if recovered {
                entry.note(
                    "its state file was corrupt: rechecked from disk with default settings".into(),
                );
                inner.request_save(stored.info_hash);
            }
            entries.push(entry.clone());
            inner.torrents.write().insert(stored.info_hash, entry);
        }
        tracing::info!(
            torrents = entries.len(),
            port = inner.session.listen_port(),
            "daemon started"
        );
        // Listen before any torrent starts, so that no event is missed.
        if let Some(events) = inner.session.events() {
            let forwarder = tokio::spawn(lifecycle::forward_events(Arc::downgrade(&inner), events));
            inner.tasks.lock().push(forwarder);
        }
        let loader = tokio::spawn(lifecycle::start_all(Arc::downgrade(&inner), entries));
        let interval = Duration::from_millis(inner.config.state.save_interval_ms);
        let saver = tokio::spawn(saver::run(Arc::downgrade(&inner), save_rx, interval));
        let stats = tokio::spawn(lifecycle::stats_ticker(Arc::downgrade(&inner)));
        inner.tasks.lock().extend([loader, saver, stats]);
        Ok(Daemon { inner })
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &DaemonConfig {
        &self.inner.config
    }

    /// The peer port.
    pub fn listen_port(&self) -> u16 {
        self.inner.session.listen_port()
    }

    /// Every torrent, in info-hash order, optionally only those in `state`.
    pub fn list(&self, state: Option<State>) -> Vec<TorrentSummary> {
        let mut entries = self.inner.snapshot();
        entries.sort_unstable_by_key(|e| e.info_hash.0);
        entries
            .iter()
            .map(|e| e.summary())
            .filter(|s| state.is_none_or(|st| s.state == st))
            .collect()
    }

    /// One torrent's list entry.
    pub fn summary(&self, id: &str) -> Result<TorrentSummary, DaemonError> {
        Ok(self.inner.entry(id)?.summary())
    }

    /// Everything about one torrent. While it is busy (checking) only the summary is
    /// filled in.
    pub fn details(&self, id: &str) -> Result<TorrentDetails, DaemonError> {
        let entry = self.inner.entry(id)?;
        let details = match entry.slot.try_lock() {
            Ok(slot) => entry.details(&slot),
            Err(_) => {
                let summary = entry.summary();
                TorrentDetails {
                    magnet: entry.record.lock().magnet.clone(),
                    notices: entry.view.lock().notices.clone(),
                    summary,
                    files: Vec::new(),
                    peers: Vec::new(),
                    trackers: Vec::new(),
                    pieces: String::new(),
                }
            }
        };
        Ok(details)
    }

    /// A reader of torrent `id`'s files while they download, with the files' paths in the
    /// reader's order (pad files left out, as the API lists them). A torrent that is not
    /// in the session yet (queued, fetching its metadata, failed) or busy checking is a
    /// [`DaemonError::Conflict`].
    pub fn reader(
        &self,
        id: &str,
    ) -> Result<(ferrent_session::TorrentReader, Vec<String>), DaemonError> {
        let entry = self.inner.entry(id)?;
        let busy = || DaemonError::Conflict("the torrent is busy checking its data".into());
        let slot = entry.slot.try_lock().map_err(|_| busy())?;
        match &*slot {
            entry::Slot::Running(handle) => {
                let paths = handle.details().files.into_iter().map(|f| f.path).collect();
                Ok((handle.reader(), paths))
            }
            entry::Slot::Gone => Err(DaemonError::NotFound(entry.id())),
            other => {
                let state = entry.state_of(other).as_str();
                let reason = format!("the torrent is {state}; its files cannot be read yet");
                Err(DaemonError::Conflict(reason))
            }
        }
    }

    /// Session-wide numbers.
    pub fn session_view(&self) -> SessionView {
        let tally = self.tally();
        let c = &self.inner.counters;
        let limits = *self.inner.limits.lock();
        SessionView {
            version: env!("CARGO_PKG_VERSION").to_string(),
            uptime_secs: self.inner.started.elapsed().as_secs(),
            listen_port: self.listen_port(),
            torrents: tally.torrents,
            states: tally.states,
            down_rate: tally.down_rate,
            up_rate: tally.up_rate,
            downloaded: tally.downloaded + c.removed_downloaded.load(Ordering::Relaxed),
            uploaded: tally.uploaded + c.removed_uploaded.load(Ordering::Relaxed),
            peers: tally.peers,
            limits: Limits {
                upload: Some(limits.upload_limit),
                download: Some(limits.download_limit),
            },
            download_dir: self.inner.config.download_dir.display().to_string(),
            problems: self.inner.problems.lock().clone(),
        }
    }

    /// Sums over every torrent, without building their list entries (which allocate a
    /// few strings each): cheap enough to poll with thousands of torrents.
    pub(crate) fn tally(&self) -> Tally {
        let mut tally = Tally::default();
        for entry in self.inner.snapshot() {
            let status = entry.status();
            let (state, s) = (status.state, status.stats);
            *tally.states.entry(state).or_insert(0) += 1;
            tally.torrents += 1;
            tally.down_rate += s.down_rate;
            tally.up_rate += s.up_rate;
            tally.downloaded += s.downloaded;
            tally.uploaded += s.uploaded;
            tally.peers += s.peers;
            tally.left += s.left;
            tally.asleep += usize::from(status.asleep);
        }
        tally
    }

    /// A stream of updates.
    pub fn subscribe(&self) -> broadcast::Receiver<DaemonEvent> {
        self.inner.events.subscribe()
    }

    /// The session's disk work queued or running, for the metrics.
    pub fn disk_queue(&self) -> ferrent_session::DiskQueue {
        self.inner.session.disk_queue()
    }

    /// State saves done, failed and in flight, for the metrics.
    pub fn save_counters(&self) -> (u64, u64, u64) {
        let c = &self.inner.counters;
        (
            c.saves.load(Ordering::Relaxed),
            c.save_errors.load(Ordering::Relaxed),
            c.saves_in_flight.load(Ordering::Relaxed),
        )
    }

    /// Stops every torrent (announcing `stopped`), saves its state and closes the
    /// session, within `budget`; what does not finish in time keeps the state it last
    /// saved.
    pub async fn shutdown(&self, budget: Duration) {
        let inner = &self.inner;
        inner.stopping.store(true, Ordering::SeqCst);
        for task in inner.tasks.lock().drain(..) {
            task.abort();
        }
        let entries = inner.snapshot();
        let mut set = tokio::task::JoinSet::new();
        for entry in entries {
            let inner = inner.clone();
            set.spawn(async move { inner.stop_entry(&entry).await });
        }
        let all = async { while set.join_next().await.is_some() {} };
        if tokio::time::timeout(budget, all).await.is_err() {
            tracing::warn!(
                "some torrents did not stop within {budget:?}; they keep their last saved state"
            );
        }
        inner.session.shutdown();
    }
}

impl Inner {
    pub(crate) fn snapshot(&self) -> Vec<Arc<Entry>> {
        self.torrents.read().values().cloned().collect()
    }

    pub(crate) fn entry_by_hash(&self, hash: &InfoHashV1) -> Option<Arc<Entry>> {
        self.torrents.read().get(hash).cloned()
    }

    /// Looks up a torrent by its id (info hash in hex or base32).
    pub(crate) fn entry(&self, id: &str) -> Result<Arc<Entry>, DaemonError> {
        let hash = InfoHashV1::parse(id).map_err(|e| DaemonError::BadField {
            field: "id",
            reason: format!("{id:?} is not an info hash: {e}"),
        })?;
        self.entry_by_hash(&hash).ok_or_else(|| DaemonError::NotFound(hash.to_hex()))
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    pub(crate) fn emit(&self, event: DaemonEvent) {
        let _ = self.events.send(event);
    }

    pub(crate) fn has_listeners(&self) -> bool {
        self.events.receiver_count() > 0
    }

    /// Asks the saver to write this torrent's state soon.
    pub(crate) fn request_save(&self, hash: InfoHashV1) {
        let _ = self.save_queue.send(hash);
    }

    pub(crate) fn report_problem(&self, text: String) {
        tracing::warn!("{text}");
        self.problems.lock().push(text);
    }

    /// Inserts a new entry unless the id is taken.
    pub(crate) fn insert(&self, entry: Arc<Entry>) -> Result<(), DaemonError> {
        let mut table = self.torrents.write();
        if table.contains_key(&entry.info_hash) {
            return Err(DaemonError::Duplicate(entry.id()));
        }
        table.insert(entry.info_hash, entry);
        Ok(())
    }

    pub(crate) fn forget(&self, hash: &InfoHashV1) {
        self.torrents.write().remove(hash);
    }

    pub(crate) fn limits(&self) -> &Mutex<SessionRecord> {
        &self.limits
    }

    /// Settings for a torrent whose record was lost.
    fn default_record(&self, hash: &InfoHashV1) -> TorrentRecord {
        TorrentRecord {
            info_hash: *hash,
            name: hash.to_hex(),
            added_at: now_secs(),
            download_dir: self.directories.share(&self.config.download_dir),
            paused: false,
            file_priorities: None,
            upload_limit: 0,
            download_limit: 0,
            magnet: format!("magnet:?xt=urn:btih:{}", hash.to_hex()),
            peers: Vec::new(),
            resume: None,
        }
    }
}
