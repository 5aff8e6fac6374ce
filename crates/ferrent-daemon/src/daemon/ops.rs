//! What users do to torrents: add, pause, resume, recheck, remove, priorities, limits.
//! Every change is saved before the call returns.

use super::entry::{Entry, Saved, Slot};
use super::{now_secs, saver, Daemon, Inner};
use crate::error::DaemonError;
use crate::model::{DaemonEvent, Limits, State, TorrentSummary};
use crate::paths;
use crate::store::{record, StoredResume, TorrentRecord};
use ferrent_core::{InfoHashV1, Magnet, Metainfo};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Time a removed torrent gets to tell its trackers.
const REMOVE_ANNOUNCE: Duration = Duration::from_secs(3);

/// What to add.
#[derive(Debug, Clone)]
pub enum AddSource {
    /// The bytes of a .torrent file.
    Torrent(Vec<u8>),
    /// A magnet link.
    Magnet(String),
    /// An http(s) URL of a .torrent file.
    Url(String),
}

/// How to add it.
#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    /// Download directory inside the download root (relative or absolute); `None`: the root.
    pub download_dir: Option<String>,
    /// Add paused.
    pub paused: bool,
    /// Per-file priorities, one per file (0 = skip).
    pub file_priorities: Option<Vec<u8>>,
    /// Peers to dial besides those the trackers give.
    pub peers: Vec<SocketAddr>,
    /// Upload cap, bytes per second (0 = none).
    pub upload_limit: u64,
    /// Download cap, bytes per second (0 = none).
    pub download_limit: u64,
}

/// A parsed source.
struct Parsed {
    hash: InfoHashV1,
    metainfo: Option<(Metainfo, Vec<u8>)>,
    magnet: String,
    name: String,
}

fn parse_torrent(bytes: Vec<u8>) -> Result<Parsed, DaemonError> {
    let metainfo =
        Metainfo::from_bytes(&bytes).map_err(|e| DaemonError::InvalidTorrent(e.to_string()))?;
    let hash = metainfo.info_hashes.v1.ok_or_else(|| {
        DaemonError::Unsupported("v2-only torrents cannot be downloaded yet".into())
    })?;
    Ok(Parsed {
        hash,
        magnet: metainfo.magnet().to_uri(),
        name: metainfo.info.name.clone(),
        metainfo: Some((metainfo, bytes)),
    })
}

fn parse_magnet(text: &str) -> Result<Parsed, DaemonError> {
    let magnet =
        Magnet::parse(text.trim()).map_err(|e| DaemonError::InvalidMagnet(e.to_string()))?;
    let hash = magnet.info_hashes.v1.ok_or_else(|| {
        DaemonError::Unsupported("v2-only magnet links cannot be downloaded yet".into())
    })?;
    let name = magnet.display_name.clone().unwrap_or_else(|| hash.to_hex());
    Ok(Parsed { hash, metainfo: None, magnet: magnet.to_uri(), name })
}

impl Daemon {
    /// Adds a torrent. It is saved before this returns and starts in the background
    /// (state `checking`, or `fetching_metadata` for a magnet link).
    pub async fn add(
        &self,
        source: AddSource,
        options: AddOptions,
    ) -> Result<TorrentSummary, DaemonError> {
        let inner = &self.inner;
        if inner.is_stopping() {
            return Err(DaemonError::ShuttingDown);
        }
        let download_dir = paths::confine(
            &inner.config.download_dir,
            options.download_dir.as_deref().unwrap_or(""),
        )?;
        let parsed = match source {
            AddSource::Torrent(bytes) => parse_torrent(bytes)?,
            AddSource::Magnet(text) => parse_magnet(&text)?,
            AddSource::Url(url) => parse_torrent(inner.fetch_torrent(&url).await?)?,
        };
        if let (Some(priorities), Some((metainfo, _))) =
            (&options.file_priorities, &parsed.metainfo)
        {
            let files = metainfo.info.files.len();
            if priorities.len() != files {
                let reason = format!("{} priorities given for {files} files", priorities.len());
                return Err(DaemonError::BadField { field: "file_priorities", reason });
            }
        }
        let record = TorrentRecord {
            info_hash: parsed.hash,
            name: parsed.name,
            added_at: now_secs(),
            download_dir: inner.directories.share(&download_dir),
            paused: options.paused,
            file_priorities: options.file_priorities,
            upload_limit: options.upload_limit,
            download_limit: options.download_limit,
            magnet: parsed.magnet,
            peers: options.peers,
            resume: None,
        };
        let encoded = record::encode(&record);
        let saved = Saved { digest: saver::digest(&encoded), have: 0, removed: false };
        let entry = Arc::new(Entry::new(parsed.hash, record, saved));
        let mut slot = entry.slot.lock().await;
        inner.insert(entry.clone())?;
        let store = inner.store.clone();
        let hash = parsed.hash;
        let torrent_bytes = parsed.metainfo.as_ref().map(|(_, bytes)| bytes.clone());
        let written = tokio::task::spawn_blocking(move || {
            if let Some(bytes) = torrent_bytes {
                store.save_metainfo(&hash, &bytes)?;
            }
            store.save_encoded(&hash, &encoded)
        })
        .await;
        match written {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                inner.forget(&hash);
                return Err(e.into());
            }
            Err(e) => {
                inner.forget(&hash);
                return Err(DaemonError::Internal(e.to_string()));
            }
        }
        tracing::info!(torrent = %entry.id(), name = %entry.record.lock().name, "added");
        match parsed.metainfo {
            Some((metainfo, _)) => {
                entry.show(State::Checking);
                let (inner, entry) = (inner.clone(), entry.clone());
                drop(slot);
                tokio::spawn(async move {
                    let mut slot = entry.slot.lock().await;
                    if matches!(*slot, Slot::Idle) && !inner.is_stopping() {
                        inner.start_entry(&entry, &mut slot, Some(metainfo), Vec::new()).await;
                    }
                });
            }
            None => {
                inner.begin_fetch(&entry, &mut slot);
                drop(slot);
            }
        }
        let state = if options.paused {
            State::Paused
        } else {
            entry.view.lock().state.unwrap_or(State::Queued)
        };
        let summary = entry.summary_with(state);
        inner.emit(DaemonEvent::Added { torrent: summary.clone() });
        Ok(summary)
    }

    /// Pauses a torrent: closes its connections and tells its trackers.
    pub async fn pause(&self, id: &str) -> Result<TorrentSummary, DaemonError> {
        let entry = self.inner.entry(id)?;
        let state = {
            let mut slot = entry.slot.lock().await;
            entry.record.lock().paused = true;
            match &mut *slot {
                Slot::Running(handle) => handle.pause().await,
                Slot::Fetching(_) => {
                    if let Slot::Fetching(task) = std::mem::replace(&mut *slot, Slot::Idle) {
                        task.abort();
                    }
                }
                Slot::Gone => return Err(DaemonError::NotFound(entry.id())),
                Slot::Idle | Slot::Failed => {}
            }
            entry.refresh(&slot)
        };
        self.changed(&entry, state).await
    }

    /// Resumes a paused torrent; a torrent stopped on an error is started again.
    pub async fn resume(&self, id: &str) -> Result<TorrentSummary, DaemonError> {
        let inner = &self.inner;
        let entry = inner.entry(id)?;
        let state = {
            let mut slot = entry.slot.lock().await;
            entry.record.lock().paused = false;
            let errored = entry.view.lock().error.is_some();
            match std::mem::replace(&mut *slot, Slot::Idle) {
                Slot::Running(mut handle) if !errored => {
                    handle.resume();
                    *slot = Slot::Running(handle);
                }
                Slot::Running(handle) => {
                    entry.record.lock().resume =
                        Some(Box::new(StoredResume::from(&handle.resume_data())));
                    if let Err(e) = handle.stop(Duration::from_secs(1)).await {
                        tracing::warn!(torrent = %entry.id(), error = %e, "errored torrent did not stop cleanly");
                    }
                    entry.view.lock().error = None;
                    entry.show(State::Checking);
                    inner.spawn_start(entry.clone());
                }
                Slot::Idle | Slot::Failed => {
                    entry.view.lock().error = None;
                    entry.show(State::Checking);
                    inner.spawn_start(entry.clone());
                }
                fetching @ Slot::Fetching(_) => *slot = fetching,
                Slot::Gone => {
                    *slot = Slot::Gone;
                    return Err(DaemonError::NotFound(entry.id()));
                }
            }
            match &*slot {
                Slot::Idle => State::Checking,
                other => entry.refresh(other),
            }
        };
        self.changed(&entry, state).await
    }

    /// Hashes the torrent's data again, in the background (state `checking`).
    pub async fn recheck(&self, id: &str) -> Result<TorrentSummary, DaemonError> {
        let inner = &self.inner;
        let entry = inner.entry(id)?;
        let mut slot = entry.slot.lock().await;
        match &*slot {
            Slot::Fetching(_) => {
                return Err(DaemonError::Conflict(
                    "the torrent's metadata has not arrived yet".into(),
                ))
            }
            Slot::Gone => return Err(DaemonError::NotFound(entry.id())),
            Slot::Idle if entry.record.lock().paused && entry.view.lock().size == 0 => {
                return Err(DaemonError::Conflict(
                    "the torrent's metadata has not arrived yet".into(),
                ));
            }
            Slot::Running(_) => {
                entry.view.lock().busy = Some(State::Checking);
                let (inner, entry) = (inner.clone(), entry.clone());
                drop(slot);
                tokio::spawn(async move {
                    let mut slot = entry.slot.lock().await;
                    if let Slot::Running(handle) = &mut *slot {
                        inner.emit(DaemonEvent::State { id: entry.id(), state: State::Checking });
                        if let Err(e) = handle.recheck().await {
                            entry.view.lock().error = Some(format!("recheck failed: {e}"));
                        }
                    }
                    entry.view.lock().busy = None;
                    let state = entry.refresh(&slot);
                    drop(slot);
                    inner.emit(DaemonEvent::State { id: entry.id(), state });
                    inner.request_save(entry.info_hash);
                });
            }
            Slot::Idle | Slot::Failed => {
                entry.record.lock().resume = None;
                entry.view.lock().error = None;
                entry.show(State::Checking);
                *slot = Slot::Idle;
                drop(slot);
                inner.spawn_start(entry.clone());
            }
        }
        Ok(entry.summary_with(State::Checking))
    }

    /// Removes a torrent, and with `delete_data` its files.
    pub async fn remove(&self, id: &str, delete_data: bool) -> Result<(), DaemonError> {
        let inner = &self.inner;
        let entry = inner.entry(id)?;
        let mut saved = entry.saved.lock().await;
        let mut slot = entry.slot.lock().await;
        if matches!(*slot, Slot::Gone) {
            return Err(DaemonError::NotFound(entry.id()));
        }
        if delete_data && matches!(*slot, Slot::Idle | Slot::Failed) {
            // Open it (paused) so that the session can tell where its files are.
            entry.record.lock().paused = true;
            *slot = Slot::Idle;
            inner.start_entry(&entry, &mut slot, None, Vec::new()).await;
            if let Slot::Failed = *slot {
                let reason = entry.view.lock().error.clone().unwrap_or_default();
                return Err(DaemonError::Conflict(format!(
                    "cannot open the torrent to delete its data: {reason}"
                )));
            }
        }
        let store = inner.store.clone();
        let hash = entry.info_hash;
        tokio::task::spawn_blocking(move || store.remove(&hash))
            .await
            .map_err(|e| DaemonError::Internal(e.to_string()))??;
        saved.removed = true;
        inner.forget(&hash);
        let previous = std::mem::replace(&mut *slot, Slot::Gone);
        drop(slot);
        drop(saved);
        match previous {
            Slot::Running(handle) => {
                let stats = handle.stats();
                inner.counters.removed_downloaded.fetch_add(stats.downloaded, Ordering::Relaxed);
                inner.counters.removed_uploaded.fetch_add(stats.uploaded, Ordering::Relaxed);
                handle.remove(delete_data, REMOVE_ANNOUNCE).await?;
            }
            Slot::Fetching(task) => task.abort(),
            _ => {}
        }
        tracing::info!(torrent = %entry.id(), delete_data, "removed");
        inner.emit(DaemonEvent::Removed { id: entry.id(), deleted_data: delete_data });
        Ok(())
    }

    /// Sets per-file priorities (0 = skip), one per file.
    pub async fn set_file_priorities(
        &self,
        id: &str,
        priorities: Vec<u8>,
    ) -> Result<TorrentSummary, DaemonError> {
        let entry = self.inner.entry(id)?;
        let state = {
            let slot = entry.slot.lock().await;
            let Slot::Running(handle) = &*slot else {
                return Err(DaemonError::Conflict(format!(
                    "the torrent is {}; its files are not known yet",
                    entry.state_of(&slot).as_str()
                )));
            };
            handle.set_file_priorities(priorities.clone()).map_err(|e| DaemonError::BadField {
                field: "priorities",
                reason: e.to_string(),
            })?;
            entry.record.lock().file_priorities = Some(priorities);
            entry.refresh(&slot)
        };
        self.changed(&entry, state).await
    }

    /// Changes a torrent's caps; a missing value keeps the current one.
    pub async fn set_limits(
        &self,
        id: &str,
        limits: Limits,
    ) -> Result<TorrentSummary, DaemonError> {
        let entry = self.inner.entry(id)?;
        let state = {
            let slot = entry.slot.lock().await;
            let (up, down) = {
                let mut record = entry.record.lock();
                record.upload_limit = limits.upload.unwrap_or(record.upload_limit);
                record.download_limit = limits.download.unwrap_or(record.download_limit);
                (record.upload_limit, record.download_limit)
            };
            if let Slot::Running(handle) = &*slot {
                handle.set_limits(up, down);
            }
            entry.refresh(&slot)
        };
        self.changed(&entry, state).await
    }

    /// Changes the session-wide caps; a missing value keeps the current one.
    pub async fn set_global_limits(&self, limits: Limits) -> Result<Limits, DaemonError> {
        let inner = &self.inner;
        let record = {
            let mut record = inner.limits().lock();
            record.upload_limit = limits.upload.unwrap_or(record.upload_limit);
            record.download_limit = limits.download.unwrap_or(record.download_limit);
            record.config_upload_limit = inner.config.limits.upload;
            record.config_download_limit = inner.config.limits.download;
            *record
        };
        inner.session.set_limits(record.upload_limit, record.download_limit);
        let store = inner.store.clone();
        tokio::task::spawn_blocking(move || store.save_session(&record))
            .await
            .map_err(|e| DaemonError::Internal(e.to_string()))??;
        Ok(Limits { upload: Some(record.upload_limit), download: Some(record.download_limit) })
    }

    /// Saves a changed torrent, tells listeners, returns its summary.
    async fn changed(&self, entry: &Entry, state: State) -> Result<TorrentSummary, DaemonError> {
        self.inner.save_entry(entry, true).await?;
        self.inner.emit(DaemonEvent::State { id: entry.id(), state });
        Ok(entry.summary_with(state))
    }
}

impl Inner {
    /// Downloads a .torrent file (http or https, at most `api.max_body` bytes).
    async fn fetch_torrent(&self, url: &str) -> Result<Vec<u8>, DaemonError> {
        let fail = |reason: String| DaemonError::Fetch { url: url.to_string(), reason };
        let parsed = url::Url::parse(url)
            .map_err(|e| DaemonError::BadField { field: "url", reason: e.to_string() })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            let reason =
                format!("scheme {:?} is not supported (use http or https)", parsed.scheme());
            return Err(DaemonError::BadField { field: "url", reason });
        }
        let mut response = self.http.get(parsed).send().await.map_err(|e| fail(e.to_string()))?;
        if !response.status().is_success() {
            return Err(fail(format!("the server answered {}", response.status())));
        }
        let max = self.config.api.max_body;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| fail(e.to_string()))? {
            body.extend_from_slice(&chunk);
            if body.len() as u64 > max {
                return Err(fail(format!("larger than {max} bytes")));
            }
        }
        Ok(body)
    }
}
