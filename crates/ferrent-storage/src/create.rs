//! Creating `.torrent` files from a file or a directory: v1 (BEP 3), v2 (BEP 52) or
//! hybrid (both, with BEP 47 pad files).
//!
//! [`TorrentBuilder`] lists the payload, picks a piece length ([`auto_piece_length`]) if
//! none is given, hashes everything on all cores and returns the encoded torrent.
//!
//! * Directories are walked in a stable order. v1 torrents sort files by their whole
//!   `/`-separated path as bytes, exactly like mktorrent, so for the same input and piece
//!   length both produce the same info hash. v2 and hybrid torrents sort component by
//!   component (`a/x` before `a.txt`), the order of a BEP 52 `file tree`, which hybrid
//!   `files` lists must follow.
//! * Names starting with `.` (files and directories) are left out unless
//!   [`TorrentBuilder::include_hidden`]. Symlinks and special files inside a directory are
//!   skipped (with a warning), never followed; a symlink given as the root is followed.
//! * File and directory names must be valid UTF-8, as BEP 3 requires.
//! * Hybrid torrents pad every file but the last to a piece boundary in the v1 stream
//!   (pad entries are `{"attr": "p", "length": N, "path": [".pad", "N"]}`), so v1 and v2
//!   pieces cover the same bytes.
//!
//! ```
//! use ferrent_storage::create::{TorrentBuilder, Version};
//!
//! let dir = std::env::temp_dir().join(format!("ferrent-create-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("hello.txt");
//! std::fs::write(&path, b"hello, swarm")?;
//!
//! let torrent = TorrentBuilder::new(&path)
//!     .trackers(vec![vec!["http://tracker.example/announce".into()]])
//!     .version(Version::Hybrid)
//!     .build(&|_hashed, _total| {})?;
//!
//! let decoded = ferrent_bencode::decode(&torrent)?;
//! let info = decoded.get(b"info").unwrap();
//! assert_eq!(info.get(b"name").and_then(|v| v.as_str()), Some("hello.txt"));
//! assert_eq!(info.get(b"length").and_then(|v| v.as_int()), Some(12));
//! assert_eq!(info.get(b"meta version").and_then(|v| v.as_int()), Some(2));
//! std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod encode;
mod hasher;
mod merkle;
mod plan;
#[cfg(test)]
mod tests;
mod walk;

use std::io;
use std::path::{Path, PathBuf};

use plan::Plan;
use walk::Order;

/// Which BitTorrent version a new torrent targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    /// BEP 3: SHA-1 piece hashes over all files back to back. Understood by every client.
    #[default]
    V1,
    /// BEP 52 only: a SHA-256 merkle tree per file. Only v2-aware clients can join.
    V2,
    /// Both at once (BEP 52 hybrid): joins v1 and v2 swarms; files are piece-aligned with
    /// BEP 47 pad files.
    Hybrid,
}

/// Why a torrent could not be created. Every variant that concerns a file names it.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The path (or an entry below it) could not be examined; it may not exist.
    #[error("cannot access `{path}`: {source}")]
    Stat {
        /// The path.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The path is neither a regular file nor a directory (a FIFO, a device, ...).
    #[error("`{path}` is neither a regular file nor a directory")]
    NotAFileOrDirectory {
        /// The path.
        path: PathBuf,
    },
    /// The path has no last component to name the torrent after (such as `/`).
    #[error("cannot name a torrent after `{path}`")]
    NoName {
        /// The path.
        path: PathBuf,
    },
    /// A file or directory name is not valid UTF-8.
    #[error("`{path}`: name is not valid UTF-8")]
    NonUtf8Name {
        /// The path with the offending name.
        path: PathBuf,
    },
    /// A directory could not be listed.
    #[error("cannot list directory `{path}`: {source}")]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The directory holds no files (after leaving out hidden files and symlinks).
    #[error("`{path}` contains no files to share (hidden files and symlinks are skipped)")]
    NoFiles {
        /// The directory.
        path: PathBuf,
    },
    /// Every file is empty: a torrent needs at least one byte.
    #[error("`{path}` holds no data (0 bytes); a torrent needs at least one byte")]
    NoData {
        /// The root path.
        path: PathBuf,
    },
    /// A file could not be opened or read.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// A file's size changed while the torrent was being created.
    #[error("`{path}` changed size while it was being hashed")]
    FileChanged {
        /// The file.
        path: PathBuf,
    },
    /// The requested piece length is not allowed.
    #[error(
        "piece length {0} is not a power of two between {min} and {max} bytes",
        min = MIN_PIECE_LENGTH,
        max = MAX_PIECE_LENGTH
    )]
    BadPieceLength(u64),
    /// The payload needs more pieces than a 32-bit piece index can address.
    #[error("the payload needs {pieces} pieces, more than 2^32 - 1; use a larger piece length")]
    TooManyPieces {
        /// The number of pieces needed.
        pieces: u64,
    },
    /// The payload's total size does not fit a signed 64-bit length.
    #[error("the payload is larger than 2^63 - 1 bytes")]
    TooLarge,
}

/// The smallest allowed piece length: one 16 KiB block (also the BEP 52 minimum).
pub const MIN_PIECE_LENGTH: u64 = 16 * 1024;

/// The largest allowed piece length: 64 MiB.
pub const MAX_PIECE_LENGTH: u64 = 64 * 1024 * 1024;

/// The piece length [`auto_piece_length`] never exceeds: 16 MiB.
pub const MAX_AUTO_PIECE_LENGTH: u64 = 16 * 1024 * 1024;

/// The piece length chosen for a payload of `total` bytes when none is given.
///
/// Like libtorrent and qBittorrent, it aims for a torrent of 1024 to 2048 pieces: the
/// smallest power of two that keeps the piece count at or below 2048, clamped to
/// 16 KiB ..= 16 MiB (beyond 32 GiB the count grows instead):
///
/// | total size        | piece length | pieces      |
/// |-------------------|--------------|-------------|
/// | up to 32 MiB      | 16 KiB       | up to 2048  |
/// | up to 64 MiB      | 32 KiB       | 1025..=2048 |
/// | up to 128 MiB     | 64 KiB       | 1025..=2048 |
/// | up to 256 MiB     | 128 KiB      | 1025..=2048 |
/// | up to 512 MiB     | 256 KiB      | 1025..=2048 |
/// | up to 1 GiB       | 512 KiB      | 1025..=2048 |
/// | up to 2 GiB       | 1 MiB        | 1025..=2048 |
/// | up to 4 GiB       | 2 MiB        | 1025..=2048 |
/// | up to 8 GiB       | 4 MiB        | 1025..=2048 |
/// | up to 16 GiB      | 8 MiB        | 1025..=2048 |
/// | more than 16 GiB  | 16 MiB       | 1025 and up |
///
/// ```
/// use ferrent_storage::create::auto_piece_length;
/// assert_eq!(auto_piece_length(700 << 20), 512 << 10);
/// assert_eq!(auto_piece_length(1 << 30), 512 << 10);
/// assert_eq!(auto_piece_length(1), 16 << 10);
/// assert_eq!(auto_piece_length(1 << 40), 16 << 20);
/// ```
pub fn auto_piece_length(total: u64) -> u64 {
    total.div_ceil(2048).next_power_of_two().clamp(MIN_PIECE_LENGTH, MAX_AUTO_PIECE_LENGTH)
}

/// Builds a `.torrent` from a file or a directory. Every setting has a default; only the
/// path is required.
#[derive(Debug, Clone)]
pub struct TorrentBuilder {
    root: PathBuf,
    piece_length: Option<u64>,
    trackers: Vec<Vec<String>>,
    web_seeds: Vec<String>,
    private: bool,
    comment: Option<String>,
    created_by: Option<String>,
    creation_date: Option<i64>,
    include_hidden: bool,
    version: Version,
    threads: Option<usize>,
}

impl TorrentBuilder {
    /// A builder for the file or directory at `root`; the torrent is named after its last
    /// component.
    pub fn new(root: impl AsRef<Path>) -> Self {
        TorrentBuilder {
            root: root.as_ref().to_path_buf(),
            piece_length: None,
            trackers: Vec::new(),
            web_seeds: Vec::new(),
            private: false,
            comment: None,
            created_by: None,
            creation_date: None,
            include_hidden: false,
            version: Version::V1,
            threads: None,
        }
    }

    /// The piece length in bytes (a power of two from [`MIN_PIECE_LENGTH`] to
    /// [`MAX_PIECE_LENGTH`]), or `None` for [`auto_piece_length`] (the default).
    pub fn piece_length(mut self, piece_length: Option<u64>) -> Self {
        self.piece_length = piece_length;
        self
    }

    /// Tracker announce URLs by tier (BEP 12). The first URL also becomes `announce`;
    /// `announce-list` is written when there is more than one URL. Empty URLs and tiers
    /// are dropped.
    pub fn trackers(mut self, tiers: Vec<Vec<String>>) -> Self {
        self.trackers = tiers;
        self
    }

    /// Web seed URLs (BEP 19), written as `url-list`.
    pub fn web_seeds(mut self, urls: Vec<String>) -> Self {
        self.web_seeds = urls;
        self
    }

    /// Sets the `private` flag (BEP 27): peers only from the trackers.
    pub fn private(mut self, private: bool) -> Self {
        self.private = private;
        self
    }

    /// A free-text `comment`.
    pub fn comment(mut self, comment: Option<String>) -> Self {
        self.comment = comment;
        self
    }

    /// The `created by` field, such as `ferrent 0.1.0`.
    pub fn created_by(mut self, created_by: Option<String>) -> Self {
        self.created_by = created_by;
        self
    }

    /// The `creation date` in seconds since the Unix epoch; `None` (the default) leaves
    /// it out, which makes the output reproducible.
    pub fn creation_date(mut self, seconds: Option<i64>) -> Self {
        self.creation_date = seconds;
        self
    }

    /// Includes files and directories whose names start with `.` (default: left out).
    pub fn include_hidden(mut self, include: bool) -> Self {
        self.include_hidden = include;
        self
    }

    /// Which BitTorrent version to create (default [`Version::V1`]).
    pub fn version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }

    /// How many threads hash (default: one per CPU). Zero means the default.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = (threads > 0).then_some(threads);
        self
    }

    /// The torrent's name: the last component of the path (resolved if it is `.` or
    /// `..`). Lets a caller pick an output file name before the slow [`Self::build`].
    pub fn name(&self) -> Result<String, CreateError> {
        walk::torrent_name(&self.root)
    }

    /// Reads and hashes the payload and returns the encoded `.torrent`.
    ///
    /// `progress(hashed, total)` is called on the calling thread once the payload is
    /// listed (with `hashed` 0) and after each chunk of a few MiB: payload bytes hashed so
    /// far, out of `total`.
    pub fn build(&self, progress: &dyn Fn(u64, u64)) -> Result<Vec<u8>, CreateError> {
        if let Some(len) = self.piece_length {
            if !len.is_power_of_two() || !(MIN_PIECE_LENGTH..=MAX_PIECE_LENGTH).contains(&len) {
                return Err(CreateError::BadPieceLength(len));
            }
        }
        let order = match self.version {
            Version::V1 => Order::FullPath,
            Version::V2 | Version::Hybrid => Order::Components,
        };
        let payload = walk::collect(&self.root, self.include_hidden, order)?;
        let total = payload
            .files
            .iter()
            .try_fold(0u64, |sum, f| sum.checked_add(f.length))
            .ok_or(CreateError::TooLarge)?;
        if total == 0 {
            return Err(CreateError::NoData { path: self.root.clone() });
        }
        let piece_length = self.piece_length.unwrap_or_else(|| auto_piece_length(total));
        let plan = Plan::new(&payload.files, piece_length, self.version)?;
        let threads = self.threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        progress(0, total);
        let digests =
            hasher::hash_all(&payload.files, &plan, threads, &|done| progress(done, total))?;
        Ok(encode::torrent(self, &payload, &plan, &digests))
    }
}
