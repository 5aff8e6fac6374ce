//! One torrent of the daemon: its persisted settings, its place in the session, and a
//! cached view so that listing never waits for a torrent busy with a long operation.

use crate::model::{FileView, PeerView, State, TorrentDetails, TorrentSummary, TrackerView};
use crate::store::TorrentRecord;
use data_encoding::BASE64;
use ferrent_core::InfoHashV1;
use ferrent_session::{TorrentHandle, TorrentStats};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::UNIX_EPOCH;
use tokio::task::JoinHandle;

/// Notices kept per torrent.
const MAX_NOTICES: usize = 8;

/// Where a torrent is in the session.
pub(crate) enum Slot {
    /// Not in the session: queued at start-up, or paused before its metadata arrived.
    Idle,
    /// A magnet link whose metadata is being fetched by this task.
    Fetching(JoinHandle<()>),
    /// In the session (running or paused).
    Running(TorrentHandle),
    /// Could not be started; the reason is in the view.
    Failed,
    /// Removed.
    Gone,
}

/// What listing shows, refreshed whenever the slot is free.
#[derive(Default)]
pub(crate) struct View {
    /// State while the slot is busy (checking) or not running.
    pub(crate) state: Option<State>,
    /// Set during a background operation (a recheck): wins over everything else.
    pub(crate) busy: Option<State>,
    pub(crate) stats: TorrentStats,
    pub(crate) size: u64,
    pub(crate) error: Option<String>,
    pub(crate) notices: Vec<String>,
    /// Metainfo file indices of the files the session lists (pad files left out), when
    /// the torrent has pad files.
    pub(crate) file_map: Option<Box<[u32]>>,
}

/// What was last written for this torrent.
#[derive(Default)]
pub(crate) struct Saved {
    /// A digest of the bytes written last.
    pub(crate) digest: u64,
    /// Verified pieces in the last resume data written.
    pub(crate) have: u32,
    /// The torrent was removed: never write again.
    pub(crate) removed: bool,
}

/// A torrent's state and numbers at one moment (see [`Entry::status`]).
pub(crate) struct Status {
    pub(crate) state: State,
    pub(crate) stats: TorrentStats,
    /// Running and asleep (see [`TorrentHandle::is_asleep`]); false while the slot is busy.
    pub(crate) asleep: bool,
}

/// One torrent.
pub(crate) struct Entry {
    pub(crate) info_hash: InfoHashV1,
    /// Settings; `resume` is only held until the torrent starts (then the session has it).
    pub(crate) record: Mutex<TorrentRecord>,
    pub(crate) slot: tokio::sync::Mutex<Slot>,
    pub(crate) view: Mutex<View>,
    /// Serialises this torrent's writes, so that an older snapshot never lands last.
    pub(crate) saved: tokio::sync::Mutex<Saved>,
    /// It was seen incomplete since it last completed: its next `Completed` event is a
    /// finished download (the session also reports `Completed` for data found complete).
    pub(crate) incomplete_seen: AtomicBool,
}

impl Entry {
    pub(crate) fn new(info_hash: InfoHashV1, record: TorrentRecord, saved: Saved) -> Self {
        Self {
            info_hash,
            record: Mutex::new(record),
            slot: tokio::sync::Mutex::new(Slot::Idle),
            view: Mutex::new(View::default()),
            saved: tokio::sync::Mutex::new(saved),
            incomplete_seen: AtomicBool::new(false),
        }
    }

    pub(crate) fn id(&self) -> String {
        self.info_hash.to_hex()
    }

    /// Remembers something notable to show in the details.
    pub(crate) fn note(&self, text: String) {
        let mut view = self.view.lock();
        if view.notices.len() >= MAX_NOTICES {
            view.notices.remove(0);
        }
        view.notices.push(text);
    }

    /// Sets the state shown while the slot is busy or the torrent is not running.
    pub(crate) fn show(&self, state: State) {
        self.view.lock().state = Some(state);
    }

    /// The current state, given the slot.
    pub(crate) fn state_of(&self, slot: &Slot) -> State {
        let view = self.view.lock();
        if let Some(busy) = view.busy {
            return busy;
        }
        match slot {
            Slot::Running(handle) => {
                if view.error.is_some() {
                    State::Error
                } else if handle.is_paused() {
                    State::Paused
                } else if view.stats.complete {
                    State::Seeding
                } else {
                    State::Downloading
                }
            }
            Slot::Fetching(_) => State::FetchingMetadata,
            Slot::Failed => State::Error,
            // Not started yet at all: queued, even if it will start paused.
            Slot::Idle | Slot::Gone => match view.state {
                None | Some(State::Queued) => State::Queued,
                Some(_) if self.record.lock().paused => State::Paused,
                Some(state) => state,
            },
        }
    }

    /// Refreshes the cached numbers from a running handle and records the state.
    pub(crate) fn refresh(&self, slot: &Slot) -> State {
        if let Slot::Running(handle) = slot {
            let stats = handle.stats();
            if !stats.complete {
                self.incomplete_seen.store(true, Ordering::Relaxed);
            }
            self.view.lock().stats = stats;
        }
        let state = self.state_of(slot);
        self.view.lock().state = Some(state);
        state
    }

    /// The state and numbers: fresh when the slot is free, else the cached ones.
    pub(crate) fn status(&self) -> Status {
        let (state, asleep) = match self.slot.try_lock() {
            Ok(slot) => {
                let asleep = matches!(&*slot, Slot::Running(h) if h.is_asleep());
                (self.refresh(&slot), asleep)
            }
            Err(_) => {
                let view = self.view.lock();
                (view.busy.or(view.state).unwrap_or(State::Checking), false)
            }
        };
        Status { state, stats: self.view.lock().stats, asleep }
    }

    /// The list entry: fresh when the slot is free, else the cached one.
    pub(crate) fn summary(&self) -> TorrentSummary {
        self.summary_with(self.status().state)
    }

    pub(crate) fn summary_with(&self, state: State) -> TorrentSummary {
        let view = self.view.lock();
        let record = self.record.lock();
        let s = &view.stats;
        let progress = if s.total == 0 { 0.0 } else { f64::from(s.have) / f64::from(s.total) };
        TorrentSummary {
            id: self.id(),
            name: record.name.clone(),
            state,
            progress,
            size: view.size,
            left: s.left,
            pieces_have: s.have,
            pieces_total: s.total,
            downloaded: s.downloaded,
            uploaded: s.uploaded,
            down_rate: s.down_rate,
            up_rate: s.up_rate,
            peer_count: s.peers,
            download_dir: record.download_dir.display().to_string(),
            added_at: record.added_at,
            upload_limit: record.upload_limit,
            download_limit: record.download_limit,
            error: view.error.clone(),
        }
    }

    /// Everything about the torrent; files, peers and trackers only while it runs.
    pub(crate) fn details(&self, slot: &Slot) -> TorrentDetails {
        let state = self.refresh(slot);
        let summary = self.summary_with(state);
        let magnet = self.record.lock().magnet.clone();
        let notices = self.view.lock().notices.clone();
        let Slot::Running(handle) = slot else {
            return TorrentDetails {
                summary,
                magnet,
                files: Vec::new(),
                peers: Vec::new(),
                trackers: Vec::new(),
                pieces: String::new(),
                notices,
            };
        };
        let d = handle.details();
        let file_map = self.view.lock().file_map.clone();
        let files = d
            .files
            .into_iter()
            .enumerate()
            .map(|(i, f)| FileView {
                index: file_map.as_ref().and_then(|m| m.get(i)).map_or(i, |&x| x as usize),
                path: f.path,
                size: f.size,
                done: f.done,
                priority: f.priority,
                stream_url: None,
            })
            .collect();
        let peers = d
            .peers
            .into_iter()
            .map(|p| PeerView {
                addr: p.addr.to_string(),
                client: p.client,
                down_rate: p.down_rate,
                up_rate: p.up_rate,
                downloaded: p.downloaded,
                uploaded: p.uploaded,
                progress: p.progress,
                flags: p.flags,
            })
            .collect();
        let trackers = d
            .trackers
            .into_iter()
            .map(|t| TrackerView {
                url: t.url,
                working: t.working,
                message: t.message,
                last_announce: t
                    .last_announce
                    .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
                    .map(|d| d.as_secs()),
                interval: t.interval,
                seeders: t.seeders,
                leechers: t.leechers,
            })
            .collect();
        TorrentDetails {
            summary,
            magnet,
            files,
            peers,
            trackers,
            pieces: BASE64.encode(&d.pieces),
            notices,
        }
    }
}
