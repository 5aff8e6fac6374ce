//! Reading a torrent's files while they download, for streaming.

use crate::error::SessionError;
use crate::torrent::Torrent;
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Bytes ahead of the read position fetched before everything else.
const READ_AHEAD: u64 = 32 * 1024 * 1024;
/// Pieces ahead of the read position fetched first, at the least.
const MIN_AHEAD_PIECES: u32 = 4;

/// Reads a torrent's files, waiting for and prioritising the pieces under the read
/// position; reading does not block the torrent. The priority ends when the reader is
/// dropped (a stream that ends or whose client goes away).
pub struct TorrentReader {
    torrent: Arc<Torrent>,
}

impl TorrentReader {
    pub(crate) fn new(torrent: Arc<Torrent>) -> Self {
        Self { torrent }
    }

    /// The size of file `file` (indices as [`crate::TorrentHandle::details`] lists files).
    pub fn file_len(&self, file: usize) -> Option<u64> {
        let index = self.torrent.visible.get(file)?;
        Some(self.torrent.storage.layout().files()[index].length)
    }

    /// Reads up to `max_len` bytes of file `file` from `offset`, waiting until they are
    /// downloaded and verified; those pieces and a window after them are fetched first.
    /// Returns fewer bytes than asked at piece boundaries and none at the end of the file.
    pub async fn read(
        &self,
        file: usize,
        offset: u64,
        max_len: usize,
    ) -> Result<Bytes, SessionError> {
        let layout = self.torrent.storage.layout();
        let lengths = layout.lengths();
        let count = self.torrent.visible.len();
        let entry = self.torrent.visible.get(file).map(|i| &layout.files()[i]);
        let entry = entry.ok_or(SessionError::BadFileIndex { index: file, count })?;
        if offset >= entry.length || max_len == 0 {
            return Ok(Bytes::new());
        }
        let stream_pos = entry.offset + offset;
        let piece_len = u64::from(lengths.piece_length());
        let first = (stream_pos / piece_len) as u32;
        let ahead = (READ_AHEAD / piece_len).max(u64::from(MIN_AHEAD_PIECES)) as u32;
        let piece =
            lengths.piece(first).ok_or(SessionError::BadFileIndex { index: file, count })?;
        // A complete torrent has every piece: no need to wake it for a window.
        if !self.torrent.is_complete() {
            self.torrent.focus(Some(first..first.saturating_add(ahead)));
        }
        while !self.torrent.has_piece(piece) {
            if self.torrent.stopped.load(Ordering::SeqCst) {
                return Err(SessionError::Stopped);
            }
            let changed = self.torrent.progress.notified();
            if self.torrent.has_piece(piece) {
                break;
            }
            let _ = tokio::time::timeout(Duration::from_secs(1), changed).await;
        }
        let storage = self.torrent.storage.clone();
        let data = tokio::task::spawn_blocking(move || {
            let mut buf = Vec::new();
            storage.read_piece(piece, &mut buf).map(|()| buf)
        })
        .await
        .map_err(|e| SessionError::Task(e.to_string()))??;
        let start = (stream_pos - lengths.piece_offset(piece)) as usize;
        let file_left = (entry.length - offset) as usize;
        let end = data.len().min(start + max_len.min(file_left));
        Ok(Bytes::from(data).slice(start..end))
    }
}

impl Drop for TorrentReader {
    fn drop(&mut self) {
        self.torrent.focus(None);
    }
}
