//! Fast resume: what was verified, and proof that the files did not change since.
//!
//! [`ResumeData`] holds the verified-piece bitfield and each file's size and modification
//! time. On restart, pieces that touch only unchanged files are trusted without reading
//! them; pieces of changed, missing or grown files are hashed again. Data that changes on
//! disk without its size or mtime changing is not detected; this is the same trade every
//! mainstream client makes, and a full [`crate::TorrentHandle::recheck`] is available.

use ferrent_core::{Bitfield, Lengths};
use ferrent_storage::{Storage, PART_SUFFIX};
use sha1::{Digest, Sha1};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// A file's size and modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileStamp {
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: u128,
}

/// What a torrent needs to restart without rehashing its data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResumeData {
    /// Verified pieces, as a BEP 3 bitfield.
    pub have: Vec<u8>,
    /// Each file's stamp when `have` was taken (`None`: absent or a pad file).
    pub files: Vec<Option<FileStamp>>,
}

/// The path a file has on disk now: final name, or the `.part` name while incomplete.
pub(crate) fn current_path(storage: &Storage, file: usize) -> Option<PathBuf> {
    let path = storage.file_path(file)?;
    if path.exists() {
        return Some(path);
    }
    let mut part = path.into_os_string();
    part.push(PART_SUFFIX);
    let part = PathBuf::from(part);
    part.exists().then_some(part)
}

fn stamp(path: &Path) -> Option<FileStamp> {
    let meta = std::fs::symlink_metadata(path).ok().filter(|m| m.is_file())?;
    let mtime_ns = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?.as_nanos();
    Some(FileStamp { size: meta.len(), mtime_ns })
}

/// Stamps every file of `storage` as it is now.
pub(crate) fn stamps(storage: &Storage) -> Vec<Option<FileStamp>> {
    (0..storage.layout().files().len())
        .map(|i| current_path(storage, i).as_deref().and_then(stamp))
        .collect()
}

/// Turns saved resume data into a trusted bitfield, rehashing only what changed. Returns
/// the bitfield and the indices of the files found changed.
pub(crate) fn restore(
    storage: &Storage,
    hashes: &[[u8; 20]],
    resume: &ResumeData,
) -> (Bitfield, Vec<usize>) {
    let lengths: Lengths = storage.layout().lengths();
    let n = lengths.piece_count();
    let saved = Bitfield::from_bytes(&resume.have, n).unwrap_or_else(|_| Bitfield::new(n));
    let now = stamps(storage);
    let file_count = storage.layout().files().len();
    let changed: Vec<usize> = if resume.files.len() != file_count {
        (0..file_count).collect()
    } else {
        (0..file_count).filter(|&i| now[i] != resume.files[i]).collect()
    };
    let mut suspect = Bitfield::new(n);
    for &file in &changed {
        for piece in storage.layout().pieces_of_file(file) {
            suspect.set(piece, true);
        }
    }
    let mut have = Bitfield::new(n);
    let mut buf = Vec::new();
    for piece in lengths.pieces() {
        let i = piece.get();
        let good = if suspect.get(i) {
            storage.read_piece(piece, &mut buf).is_ok()
                && hashes
                    .get(piece.as_usize())
                    .is_some_and(|h| <[u8; 20]>::from(Sha1::digest(&buf)) == *h)
        } else {
            saved.get(i)
        };
        have.set(i, good);
    }
    (have, changed)
}
