//! Bringing torrents into the session: start-up, magnet metadata, and the per-torrent
//! event forwarding.

use super::entry::{Entry, Slot};
use super::Inner;
use crate::model::{DaemonEvent, State};
use crate::store::MetainfoProblem;
use ferrent_core::{InfoHashV1, Magnet, Metainfo};
use ferrent_session::{FetchedMetadata, TorrentEvent, TorrentOptions};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Semaphore};

/// First wait before asking the swarm for a magnet's metadata again; doubles up to
/// [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_secs(5);
const MAX_RETRY: Duration = Duration::from_secs(300);
/// How often the event stream gets session totals.
const STATS_PERIOD: Duration = Duration::from_secs(2);

/// Starts every entry still idle, a few at once.
pub(super) async fn start_all(inner: Weak<Inner>, entries: Vec<Arc<Entry>>) {
    let Some(parallel) = inner.upgrade().map(|i| i.config.state.startup_parallelism) else {
        return;
    };
    let began = Instant::now();
    let count = entries.len();
    let permits = Arc::new(Semaphore::new(parallel));
    let mut set = tokio::task::JoinSet::new();
    for entry in entries {
        let Ok(permit) = permits.clone().acquire_owned().await else { return };
        // Reap finished starts as we go: a finished task keeps its memory until joined.
        while set.try_join_next().is_some() {}
        let inner = inner.clone();
        set.spawn(async move {
            let _permit = permit;
            let Some(inner) = inner.upgrade() else { return };
            let mut slot = entry.slot.lock().await;
            if matches!(*slot, Slot::Idle) && !inner.is_stopping() {
                inner.start_entry(&entry, &mut slot, None, Vec::new()).await;
            }
        });
    }
    while set.join_next().await.is_some() {}
    tracing::info!(torrents = count, elapsed = ?began.elapsed(), "all stored torrents started");
}

/// Sends session totals to event-stream listeners.
pub(super) async fn stats_ticker(inner: Weak<Inner>) {
    let mut tick = tokio::time::interval(STATS_PERIOD);
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        if !inner.has_listeners() {
            continue;
        }
        let entries = inner.snapshot();
        let (mut down_rate, mut up_rate, mut peers) = (0, 0, 0);
        for entry in &entries {
            let s = entry.status().stats;
            down_rate += s.down_rate;
            up_rate += s.up_rate;
            peers += s.peers;
        }
        inner.emit(DaemonEvent::Stats { down_rate, up_rate, peers, torrents: entries.len() });
    }
}

impl Inner {
    /// Puts an idle entry into the session (reading its .torrent unless `given`), or
    /// starts fetching its metadata. Called with the entry's slot locked.
    pub(crate) async fn start_entry(
        self: &Arc<Self>,
        entry: &Arc<Entry>,
        slot: &mut Slot,
        given: Option<Metainfo>,
        extra_peers: Vec<SocketAddr>,
    ) {
        let metainfo = match given {
            Some(metainfo) => metainfo,
            None => {
                let store = self.store.clone();
                let hash = entry.info_hash;
                match tokio::task::spawn_blocking(move || store.read_metainfo(&hash)).await {
                    Ok(Ok((metainfo, _))) => metainfo,
                    Ok(Err(MetainfoProblem::Missing)) => return self.begin_fetch(entry, slot),
                    Ok(Err(problem @ MetainfoProblem::Corrupt { .. })) => {
                        self.report_problem(format!(
                            "{problem}; fetching the metadata from peers again"
                        ));
                        entry.note(problem.to_string());
                        return self.begin_fetch(entry, slot);
                    }
                    Ok(Err(problem)) => return self.fail(entry, slot, problem.to_string()),
                    Err(e) => return self.fail(entry, slot, format!("internal task failed: {e}")),
                }
            }
        };
        entry.show(State::Checking);
        {
            let mut view = entry.view.lock();
            view.size = metainfo.info.total_length();
            let files = &metainfo.info.files;
            view.file_map = files.iter().any(|f| f.pad).then(|| {
                files.iter().enumerate().filter(|(_, f)| !f.pad).map(|(i, _)| i as u32).collect()
            });
        }
        let options = {
            let mut record = entry.record.lock();
            record.name.clone_from(&metainfo.info.name);
            let mut peers = record.peers.clone();
            peers.extend(extra_peers);
            TorrentOptions {
                download_dir: record.download_dir.to_path_buf(),
                peers,
                file_priorities: record.file_priorities.clone(),
                resume: record.resume.as_ref().and_then(|r| r.to_resume()),
                paused: record.paused,
                upload_limit: record.upload_limit,
                download_limit: record.download_limit,
                no_pex: !self.config.network.pex,
                ..TorrentOptions::default()
            }
        };
        match self.session.add_torrent(&metainfo, options).await {
            Ok(handle) => {
                entry.record.lock().resume = None;
                entry.view.lock().error = None;
                *slot = Slot::Running(handle);
                let state = entry.refresh(slot);
                self.emit(DaemonEvent::State { id: entry.id(), state });
            }
            Err(e) => self.fail(entry, slot, e.to_string()),
        }
    }

    fn fail(&self, entry: &Entry, slot: &mut Slot, message: String) {
        tracing::error!(torrent = %entry.id(), %message, "cannot start torrent");
        entry.view.lock().error = Some(message.clone());
        *slot = Slot::Failed;
        entry.show(State::Error);
        self.emit(DaemonEvent::Error { id: entry.id(), message });
    }

    /// Starts an idle entry in the background (an operation that should not wait for a
    /// hash check).
    pub(crate) fn spawn_start(self: &Arc<Self>, entry: Arc<Entry>) {
        let inner = self.clone();
        tokio::spawn(async move {
            let mut slot = entry.slot.lock().await;
            if matches!(*slot, Slot::Idle) && !inner.is_stopping() {
                inner.start_entry(&entry, &mut slot, None, Vec::new()).await;
            }
        });
    }

    /// Fetches a magnet's metadata in the background, unless the torrent is paused.
    pub(crate) fn begin_fetch(self: &Arc<Self>, entry: &Arc<Entry>, slot: &mut Slot) {
        if entry.record.lock().paused {
            *slot = Slot::Idle;
            entry.show(State::Paused);
            return;
        }
        let task = tokio::spawn(fetch_metadata(Arc::downgrade(self), entry.clone()));
        *slot = Slot::Fetching(task);
        entry.show(State::FetchingMetadata);
    }

    /// Saves the fetched metainfo and starts the torrent, unless it was paused or removed
    /// meanwhile.
    async fn metadata_arrived(self: &Arc<Self>, entry: &Arc<Entry>, fetched: FetchedMetadata) {
        let bytes = fetched.metainfo.to_torrent_bytes();
        let store = self.store.clone();
        let hash = entry.info_hash;
        let saved = tokio::task::spawn_blocking(move || store.save_metainfo(&hash, &bytes)).await;
        let mut slot = entry.slot.lock().await;
        if !matches!(*slot, Slot::Fetching(_)) {
            return;
        }
        if let Err(e) = saved.map_err(|e| e.to_string()).and_then(|r| r.map_err(|e| e.to_string()))
        {
            return self.fail(entry, &mut slot, e);
        }
        let name = fetched.metainfo.info.name.clone();
        tracing::info!(torrent = %entry.id(), %name, "metadata received");
        self.emit(DaemonEvent::Metadata { id: entry.id(), name });
        self.start_entry(entry, &mut slot, Some(fetched.metainfo), fetched.peers).await;
        drop(slot);
        self.request_save(entry.info_hash);
    }
}

/// Asks the swarm for a magnet's metadata until it arrives, backing off between tries.
async fn fetch_metadata(inner: Weak<Inner>, entry: Arc<Entry>) {
    let (uri, peers) = {
        let record = entry.record.lock();
        (record.magnet.clone(), record.peers.clone())
    };
    let magnet = match Magnet::parse(&uri) {
        Ok(magnet) => magnet,
        Err(e) => {
            entry.view.lock().error = Some(format!("invalid stored magnet link: {e}"));
            return;
        }
    };
    let mut wait = FIRST_RETRY;
    loop {
        let Some(this) = inner.upgrade() else { return };
        let timeout = Duration::from_secs(this.config.state.metadata_timeout_secs);
        match this.session.fetch_metadata(&magnet, &peers, false, timeout).await {
            Ok(fetched) => return this.metadata_arrived(&entry, fetched).await,
            Err(e) => {
                tracing::info!(torrent = %entry.id(), error = %e, "metadata not received; trying again in {wait:?}");
                entry.view.lock().error = Some(format!("metadata: {e}"));
            }
        }
        drop(this);
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(MAX_RETRY);
    }
}

/// Turns the session's torrent events into daemon events, saves and log lines.
pub(super) async fn forward_events(
    inner: Weak<Inner>,
    mut events: mpsc::UnboundedReceiver<(InfoHashV1, TorrentEvent)>,
) {
    while let Some((info_hash, event)) = events.recv().await {
        let Some(inner) = inner.upgrade() else { return };
        let Some(entry) = inner.torrents.read().get(&info_hash).cloned() else { continue };
        let id = entry.id();
        match event {
            TorrentEvent::Checked { have, total } => {
                inner.emit(DaemonEvent::Checked { id, have, total })
            }
            TorrentEvent::FilesChanged { files } => {
                let text = format!(
                    "files changed on disk since the last save were rechecked: {}",
                    files.join(", ")
                );
                tracing::warn!(torrent = %id, "{text}");
                entry.note(text);
                inner.emit(DaemonEvent::FilesChanged { id, files });
                inner.request_save(entry.info_hash);
            }
            TorrentEvent::Completed => {
                if !entry.incomplete_seen.swap(false, Ordering::Relaxed) {
                    // Found complete when it started: nothing was downloaded.
                    continue;
                }
                tracing::info!(torrent = %id, name = %entry.record.lock().name, "download complete");
                // The slot may be busy (a start still running): wait in a task of its own
                // rather than hold up every other torrent's events.
                let announcing = entry.clone();
                tokio::spawn(async move {
                    if let Slot::Running(handle) = &*announcing.slot.lock().await {
                        handle.announce_completed();
                    }
                });
                inner.request_save(entry.info_hash);
                inner.emit(DaemonEvent::Completed { id: id.clone() });
                inner.emit(DaemonEvent::State { id, state: State::Seeding });
            }
            TorrentEvent::Failed(message) => {
                entry.view.lock().error = Some(message.clone());
                entry.note(format!("stopped: {message}"));
                inner.request_save(entry.info_hash);
                inner.emit(DaemonEvent::Error { id, message });
            }
            TorrentEvent::Tracker { url, message } => {
                inner.emit(DaemonEvent::Tracker { id, url, message })
            }
            TorrentEvent::PeerBanned { peer, reason } => {
                tracing::info!(torrent = %id, %peer, %reason, "peer banned");
            }
            TorrentEvent::PeerDropped { .. } => {}
        }
    }
}
