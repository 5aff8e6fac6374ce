//! Writing torrents' records: when asked (settings changed, completed), every save
//! interval for torrents that verified pieces since their last write, and at shutdown.
//! Unchanged records are never rewritten, so thousands of idle torrents cost nothing.

use super::entry::{Entry, Saved, Slot};
use super::Inner;
use crate::store::{record, StoreError, StoredResume, TorrentRecord};
use ferrent_core::InfoHashV1;
use futures_util::StreamExt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::mpsc;

/// Writes in flight at once from the periodic scan.
const PARALLEL_WRITES: usize = 8;
/// Time a torrent gets to announce `stopped` at shutdown.
const STOP_ANNOUNCE: Duration = Duration::from_secs(3);

/// A digest of encoded record bytes, to skip rewriting identical records.
pub(super) fn digest(bytes: &[u8]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

/// The saver task: urgent requests at once, a scan every `interval`.
pub(super) async fn run(
    inner: Weak<Inner>,
    mut queue: mpsc::UnboundedReceiver<InfoHashV1>,
    interval: Duration,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let Some(inner) = inner.upgrade() else { return };
                inner.save_progressed().await;
            }
            hash = queue.recv() => {
                let (Some(hash), Some(inner)) = (hash, inner.upgrade()) else { return };
                if let Some(entry) = inner.entry_by_hash(&hash) {
                    let _ = inner.save_entry(&entry, true).await;
                }
            }
        }
    }
}

impl Inner {
    /// Saves every running torrent whose verified-piece count changed since its last write.
    async fn save_progressed(self: &Arc<Self>) {
        let due: Vec<Arc<Entry>> = self
            .snapshot()
            .into_iter()
            .filter(|entry| {
                let Ok(slot) = entry.slot.try_lock() else { return false };
                let Slot::Running(handle) = &*slot else { return false };
                let have = handle.stats().have;
                entry.saved.try_lock().is_ok_and(|saved| saved.have != have)
            })
            .collect();
        futures_util::stream::iter(due)
            .for_each_concurrent(PARALLEL_WRITES, |entry| async move {
                let _ = self.save_entry(&entry, false).await;
            })
            .await;
    }

    /// Writes a torrent's record if it changed. With `wait`, waits for a busy torrent;
    /// without, skips it (the next scan retries).
    pub(crate) async fn save_entry(&self, entry: &Entry, wait: bool) -> Result<(), StoreError> {
        let mut saved = entry.saved.lock().await;
        if saved.removed {
            return Ok(());
        }
        let snapshot = {
            let slot = if wait {
                entry.slot.lock().await
            } else {
                match entry.slot.try_lock() {
                    Ok(slot) => slot,
                    Err(_) => return Ok(()),
                }
            };
            current_record(entry, &slot, &saved)
        };
        match snapshot {
            Some((record, have)) => self.write_if_changed(entry, &mut saved, &record, have).await,
            None => Ok(()),
        }
    }

    async fn write_if_changed(
        &self,
        entry: &Entry,
        saved: &mut Saved,
        record: &TorrentRecord,
        have: u32,
    ) -> Result<(), StoreError> {
        let bytes = record::encode(record);
        let digest = digest(&bytes);
        if digest == saved.digest {
            saved.have = have;
            return Ok(());
        }
        let store = self.store.clone();
        let hash = entry.info_hash;
        self.counters.saves_in_flight.fetch_add(1, Ordering::Relaxed);
        let result = tokio::task::spawn_blocking(move || store.save_encoded(&hash, &bytes)).await;
        self.counters.saves_in_flight.fetch_sub(1, Ordering::Relaxed);
        let result = result.unwrap_or_else(|e| {
            Err(StoreError {
                action: "write",
                path: self.store.dir().to_path_buf(),
                source: std::io::Error::other(e.to_string()),
            })
        });
        match result {
            Ok(_) => {
                saved.digest = digest;
                saved.have = have;
                self.counters.saves.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                tracing::error!(torrent = %entry.id(), error = %e, "cannot save torrent state");
                self.counters.save_errors.fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    /// At shutdown: announces `stopped`, saves the final state, closes the torrent.
    pub(super) async fn stop_entry(&self, entry: &Entry) {
        let mut saved = entry.saved.lock().await;
        let mut slot = entry.slot.lock().await;
        if let Slot::Running(handle) = &mut *slot {
            let _ = tokio::time::timeout(STOP_ANNOUNCE, handle.pause()).await;
        }
        if let (Some((record, have)), false) = (current_record(entry, &slot, &saved), saved.removed)
        {
            let _ = self.write_if_changed(entry, &mut saved, &record, have).await;
        }
        match std::mem::replace(&mut *slot, Slot::Gone) {
            Slot::Running(handle) => {
                if let Err(e) = handle.stop(Duration::from_millis(500)).await {
                    tracing::warn!(torrent = %entry.id(), error = %e, "torrent did not stop cleanly");
                }
            }
            Slot::Fetching(task) => task.abort(),
            _ => {}
        }
    }
}

/// The record as it should be on disk now, and its verified-piece count; `None` for a
/// removed torrent.
fn current_record(entry: &Entry, slot: &Slot, saved: &Saved) -> Option<(TorrentRecord, u32)> {
    let mut record = entry.record.lock().clone();
    match slot {
        Slot::Gone => None,
        Slot::Running(handle) => {
            let resume = StoredResume::from(&handle.resume_data());
            let have = resume.have_count();
            record.resume = Some(Box::new(resume));
            Some((record, have))
        }
        _ => Some((record, saved.have)),
    }
}
