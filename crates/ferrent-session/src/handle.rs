//! [`TorrentHandle`]: the owner's grip on a running torrent.

use crate::details::TorrentDetails;
use crate::error::SessionError;
use crate::events::{TorrentEvent, TorrentStats};
use crate::reader::TorrentReader;
use crate::resume::{current_path, stamps, ResumeData};
use crate::session::check_existing;
use crate::torrent::Torrent;
use crate::tracker::{AnnounceConfig, AnnouncerHandle, TrackerEvent, TransferStats};
use ferrent_core::InfoHashV1;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A torrent running in a [`crate::Session`].
///
/// Its events come through [`crate::Session::events`], and the session's heartbeat drives
/// it: a torrent owns no task of its own besides its tracker announcer.
pub struct TorrentHandle {
    torrent: Arc<Torrent>,
    announcer: Option<AnnouncerHandle>,
}

impl TorrentHandle {
    pub(crate) fn start(torrent: Arc<Torrent>) -> Self {
        let mut handle = Self { torrent, announcer: None };
        if !handle.torrent.paused.load(Ordering::SeqCst) {
            handle.start_announcer();
        }
        handle
    }

    fn start_announcer(&mut self) {
        let torrent = &self.torrent;
        if torrent.meta.tiers.is_empty() || self.announcer.is_some() {
            return;
        }
        let shared = &torrent.session;
        let stats_source = torrent.clone();
        let listener = torrent.clone();
        self.announcer = Some(shared.trackers.add(
            AnnounceConfig {
                info_hash: torrent.info_hash,
                peer_id: shared.peer_id,
                port: shared.listen_port,
                tiers: torrent.meta.tiers.clone(),
                numwant: shared.config.numwant,
                udp_retransmit_base: shared.config.udp_retransmit_base,
            },
            Arc::new(move || {
                let s = stats_source.stats();
                TransferStats { uploaded: s.uploaded, downloaded: s.downloaded, left: s.left }
            }),
            move |event| tracker_event(&listener, event),
        ));
    }

    /// The torrent's v1 info hash.
    pub fn info_hash(&self) -> InfoHashV1 {
        self.torrent.info_hash
    }

    /// The torrent's name.
    pub fn name(&self) -> &str {
        &self.torrent.meta.name
    }

    /// A reader for streaming the torrent's files while they download.
    pub fn reader(&self) -> TorrentReader {
        TorrentReader::new(self.torrent.clone())
    }

    /// True while the torrent sleeps: complete, with no peer and nothing under way, it keeps
    /// only its verified pieces and counters until a peer or a reader needs it.
    pub fn is_asleep(&self) -> bool {
        self.torrent.is_asleep()
    }

    /// A snapshot of its numbers.
    pub fn stats(&self) -> TorrentStats {
        self.torrent.stats()
    }

    /// Files, peers, trackers and pieces.
    pub fn details(&self) -> TorrentDetails {
        self.torrent.details()
    }

    /// Resolves when every selected piece is verified.
    pub async fn wait_complete(&self) {
        self.torrent.wait_complete().await;
    }

    /// Changes this torrent's caps (bytes per second, 0 = unlimited).
    pub fn set_limits(&self, upload: u64, download: u64) {
        self.torrent.limits.set(upload, download);
    }

    /// Per-file priorities (0 = skip, 1 = normal, more = higher).
    pub fn file_priorities(&self) -> Vec<u8> {
        self.torrent.file_priorities()
    }

    /// Sets per-file priorities: one entry per file as [`TorrentHandle::details`] lists
    /// them (BEP 47 pad files are not counted).
    pub fn set_file_priorities(&self, priorities: Vec<u8>) -> Result<(), SessionError> {
        let count = self.torrent.visible.len();
        if priorities.len() != count {
            return Err(SessionError::BadFileIndex { index: priorities.len(), count });
        }
        self.torrent.set_file_priorities(priorities);
        Ok(())
    }

    /// What a restart needs to skip rehashing: the verified pieces and the files' stamps.
    pub fn resume_data(&self) -> ResumeData {
        let have = self.torrent.have().as_bytes().to_vec();
        ResumeData { have, files: stamps(&self.torrent.storage) }
    }

    /// Tells the trackers the download finished; does nothing for a torrent that was
    /// already complete when it was added (BEP 3 sends `completed` only for a download
    /// that finished).
    pub fn announce_completed(&self) {
        if self.torrent.complete_at_start {
            return;
        }
        if let Some(a) = &self.announcer {
            a.completed();
        }
    }

    /// True while paused.
    pub fn is_paused(&self) -> bool {
        self.torrent.paused.load(Ordering::SeqCst)
    }

    /// Closes every connection and tells the trackers we stopped; data stays as it is.
    pub async fn pause(&mut self) {
        self.torrent.paused.store(true, Ordering::SeqCst);
        self.torrent.close_all();
        if let Some(announcer) = self.announcer.take() {
            announcer.stop(Duration::from_secs(3)).await;
        }
    }

    /// Undoes [`TorrentHandle::pause`].
    pub fn resume(&mut self) {
        self.torrent.paused.store(false, Ordering::SeqCst);
        crate::web_seed::forgive(&self.torrent);
        self.torrent.tick_soon();
        self.start_announcer();
    }

    /// Hashes all data on disk again and continues from what is really there.
    pub async fn recheck(&mut self) -> Result<(), SessionError> {
        let torrent = self.torrent.clone();
        torrent.checking.store(true, Ordering::SeqCst);
        torrent.close_all();
        let threads = torrent.session.disk.available_permits();
        let hashes = torrent.hashes();
        let result = check_existing(&torrent.storage, &hashes, threads, None).await;
        if let Ok((have, _)) = &result {
            torrent.reset_engine(have.clone());
            torrent.report(TorrentEvent::Checked { have: have.count(), total: have.len() });
        }
        torrent.checking.store(false, Ordering::SeqCst);
        result.map(|_| ())
    }

    /// Stops the torrent: tells the trackers (bounded by `timeout`), closes connections and
    /// flushes the data to disk.
    pub async fn stop(self, timeout: Duration) -> Result<(), SessionError> {
        self.shut(timeout).await
    }

    async fn shut(mut self, timeout: Duration) -> Result<(), SessionError> {
        let torrent = self.torrent.clone();
        torrent.stopped.store(true, Ordering::SeqCst);
        torrent.close_all();
        torrent.session.forget(torrent.info_hash);
        if let Some(announcer) = self.announcer.take() {
            announcer.stop(timeout).await;
        }
        let storage = torrent.storage.clone();
        tokio::task::spawn_blocking(move || storage.sync())
            .await
            .map_err(|e| SessionError::Task(e.to_string()))??;
        Ok(())
    }

    /// Stops the torrent and, with `delete_data`, deletes its files (and the folders they
    /// leave empty, never above the download directory).
    pub async fn remove(self, delete_data: bool, timeout: Duration) -> Result<(), SessionError> {
        let storage = self.torrent.storage.clone();
        self.shut(timeout).await?;
        if !delete_data {
            return Ok(());
        }
        tokio::task::spawn_blocking(move || {
            let root = storage.root().to_path_buf();
            for file in 0..storage.layout().files().len() {
                let Some(path) = current_path(&storage, file) else { continue };
                let _ = std::fs::remove_file(&path);
                let mut dir = path.parent();
                while let Some(d) = dir.filter(|d| d.starts_with(&root) && *d != root) {
                    if std::fs::remove_dir(d).is_err() {
                        break;
                    }
                    dir = d.parent();
                }
            }
        })
        .await
        .map_err(|e| SessionError::Task(e.to_string()))
    }
}

/// Applies what a tracker said to the torrent.
fn tracker_event(torrent: &Torrent, event: TrackerEvent) {
    match event {
        TrackerEvent::Peers(peers) => torrent.learn(peers),
        TrackerEvent::Announced { url, interval, seeders, leechers } => {
            torrent.tracker_said(&url, |s| {
                s.working = true;
                s.message = None;
                s.last_announce = Some(SystemTime::now());
                s.interval = Some(interval.as_secs());
                s.seeders = seeders;
                s.leechers = leechers;
            });
        }
        TrackerEvent::Warning { url, message } | TrackerEvent::Error { url, message } => {
            torrent.tracker_said(&url, |s| {
                s.working = false;
                s.message = Some(message.clone());
            });
            torrent.report(TorrentEvent::Tracker { url, message });
        }
    }
}
