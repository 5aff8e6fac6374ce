//! What a torrent reports: its numbers, its life stage and its details. None of it wakes a
//! sleeping torrent.

use super::Torrent;
use crate::details::{FileStatus, PeerStatus, TorrentDetails, TorrentState, TrackerStatus};
use crate::events::TorrentStats;
use ferrent_core::{Bitfield, Lengths, PieceIndex};
use std::sync::atomic::Ordering;

impl Torrent {
    /// A snapshot of the numbers.
    pub(crate) fn stats(&self) -> TorrentStats {
        let slot = self.engine.lock();
        let lengths = self.storage.layout().lengths();
        let have = slot.have();
        let transferred = slot.transferred();
        let engine = slot.awake();
        let (down_rate, up_rate) = engine.map_or((0, 0), |e| e.rates());
        TorrentStats {
            have: have.count(),
            total: lengths.piece_count(),
            // A torrent sleeps only when complete.
            remaining: engine.map_or(0, |e| e.remaining_pieces()),
            downloaded: transferred.downloaded,
            uploaded: transferred.uploaded,
            wasted: transferred.wasted,
            peers: engine.map_or(0, |e| e.peer_count()),
            down_rate,
            up_rate,
            left: lengths.total() - have_bytes(lengths, have),
            complete: engine.is_none_or(|e| e.is_complete()),
        }
    }

    /// True when `piece` is verified.
    pub(crate) fn has_piece(&self, piece: PieceIndex) -> bool {
        self.engine.lock().have().has(piece)
    }

    /// The verified pieces.
    pub(crate) fn have(&self) -> Bitfield {
        self.engine.lock().have().clone()
    }

    /// Records what a tracker said, for [`Torrent::details`].
    pub(crate) fn tracker_said(&self, url: &str, update: impl FnOnce(&mut TrackerStatus)) {
        let mut trackers = self.trackers.lock();
        let at = match trackers.binary_search_by(|t| t.url.as_str().cmp(url)) {
            Ok(at) => at,
            Err(at) => {
                let status = TrackerStatus {
                    url: url.to_string(),
                    working: false,
                    message: None,
                    last_announce: None,
                    interval: None,
                    seeders: None,
                    leechers: None,
                };
                // A torrent has one tracker or a few: no room kept for more.
                trackers.reserve_exact(1);
                trackers.insert(at, status);
                at
            }
        };
        let status = &mut trackers[at];
        update(status);
    }

    /// The torrent's life stage.
    pub(crate) fn state(&self) -> TorrentState {
        if self.failed.load(Ordering::Relaxed) {
            TorrentState::Error
        } else if self.checking.load(Ordering::Relaxed) {
            TorrentState::Checking
        } else if self.paused.load(Ordering::Relaxed) {
            TorrentState::Paused
        } else if self.is_complete() {
            TorrentState::Seeding
        } else {
            TorrentState::Downloading
        }
    }

    /// Everything about the torrent.
    pub(crate) fn details(&self) -> TorrentDetails {
        let stats = self.stats();
        let layout = self.storage.layout();
        let lengths = layout.lengths();
        let priorities = self.file_priorities();
        let (pieces, peer_numbers) = {
            let slot = self.engine.lock();
            let numbers: Vec<_> = match slot.awake() {
                Some(engine) => self
                    .peers
                    .lock()
                    .iter()
                    .filter_map(|(k, l)| Some((l.addr, l.peer_id, engine.peer_stats(*k)?)))
                    .collect(),
                None => Vec::new(),
            };
            (slot.have().clone(), numbers)
        };
        let files = self
            .visible
            .iter()
            .enumerate()
            .map(|(v, i)| {
                let f = &layout.files()[i];
                let mut done = 0;
                for p in layout.pieces_of_file(i) {
                    let Some(piece) = lengths.piece(p) else { continue };
                    if pieces.has(piece) {
                        let start = lengths.piece_offset(piece);
                        let end = start + u64::from(lengths.piece_len(piece));
                        done += end.min(f.offset + f.length).saturating_sub(start.max(f.offset));
                    }
                }
                FileStatus {
                    path: f.path.to_string_lossy().into_owned(),
                    size: f.length,
                    done,
                    priority: priorities.get(v).copied().unwrap_or(1),
                }
            })
            .collect();
        let total = f64::from(lengths.piece_count().max(1));
        let peers = peer_numbers
            .into_iter()
            .map(|(addr, peer_id, s)| {
                let mut flags = String::new();
                if s.am_interested && !s.peer_choking {
                    flags.push('D');
                } else if s.am_interested {
                    flags.push('d');
                }
                if s.peer_interested && !s.am_choking {
                    flags.push('U');
                } else if s.peer_interested {
                    flags.push('u');
                }
                if s.snubbed {
                    flags.push('S');
                }
                if !s.outgoing {
                    flags.push('I');
                }
                PeerStatus {
                    addr,
                    client: crate::web_seed::client_name(&peer_id),
                    down_rate: s.down_rate,
                    up_rate: s.up_rate,
                    downloaded: s.downloaded,
                    uploaded: s.uploaded,
                    progress: f64::from(s.pieces) / total,
                    flags,
                }
            })
            .collect();
        TorrentDetails {
            stats,
            state: self.state(),
            error: self.error.lock().clone(),
            files,
            peers,
            trackers: self.trackers.lock().clone(),
            pieces: pieces.as_bytes().to_vec(),
        }
    }
}

/// Bytes in the verified pieces of `have`.
fn have_bytes(lengths: Lengths, have: &Bitfield) -> u64 {
    let mut bytes = u64::from(have.count()) * u64::from(lengths.piece_length());
    if let Some(last) = lengths.piece_count().checked_sub(1).and_then(|l| lengths.piece(l)) {
        if have.has(last) {
            bytes -= u64::from(lengths.piece_length()) - u64::from(lengths.piece_len(last));
        }
    }
    bytes
}
