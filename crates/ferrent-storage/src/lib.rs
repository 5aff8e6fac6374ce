//! A torrent's data on disk: where each piece's bytes live, writing and reading them safely,
//! and checking data that is already there.
//!
//! # Layout model
//!
//! A torrent is one byte stream cut into pieces; its files are consecutive ranges of that
//! stream. A [`Layout`] holds the files (path, length, offset, pad flag) and the piece
//! geometry, and answers which file ranges make up a piece ([`Layout::segments`]) and which
//! pieces touch a file ([`Layout::pieces_of_file`]). A single-file torrent lives at
//! `ROOT/name`, a multi-file one at `ROOT/name/<path...>`. BEP 47 pad files are never created:
//! their ranges read as zeros and writes to them are skipped.
//!
//! # The `.part` rule
//!
//! While a file is incomplete it lives on disk as `<file>.part`. It is created lazily on the
//! first write to it, sparse, at its full length. Once every piece touching it is verified,
//! [`Storage::piece_completed`] renames it to its final name, so a file under its final name
//! holds complete, verified data. Zero-length files are created when the piece their offset
//! falls in is completed (or by [`Storage::complete_files`]). [`Storage::check_existing`]
//! looks for each file under its final name first, then under `.part`; existing data found
//! under the final name (say, copied in by the user) is verified and, if some pieces are bad,
//! repaired in place under that name. A stale `.part` next to a final file is ignored.
//!
//! # Files and threads
//!
//! [`Storage`] is shared between threads (`&self` everywhere). It keeps a bounded cache of
//! open files ([`DEFAULT_MAX_OPEN_FILES`], least recently used evicted first) and does all
//! I/O with positional reads and writes, so there is no shared file position; one mutex guards
//! only the cache and the `.part`/final name of each file. Errors name the path and the
//! operation, and tell a full disk ([`StorageError::DiskFull`]) and a read-only one
//! ([`StorageError::ReadOnly`]) from other failures. A failed write touches only the piece
//! being written.
//!
//! # Path safety
//!
//! Nothing is ever written outside the download directory `ROOT`:
//!
//! * Every path from the torrent is validated, in [`Layout::new`] and again in
//!   [`Storage::open`]: no absolute path, no empty, `.` or `..` component, no NUL byte, no
//!   backslash, no drive letter (`C:`), and no two files that collide (same path, a file that
//!   is another's directory, or `a` next to `a.part`).
//! * `ROOT` itself is opened once as a directory (following links: it is the user's choice).
//!   Below it, every directory component is opened with `openat(dir, name, O_NOFOLLOW |
//!   O_DIRECTORY)` relative to the previous one, and created with `mkdirat` when missing; files
//!   are opened with `O_NOFOLLOW` and must be regular files (FIFOs and devices are refused
//!   without blocking). A symbolic link planted anywhere below `ROOT` is therefore refused
//!   with [`StorageError::UnsafePath`] instead of followed; renames use `renameat` on the same
//!   directory descriptor, which replaces a link rather than writing through it.
//! * The race accepted: once a directory below `ROOT` is open, someone with write access to
//!   `ROOT` could *move* that very directory elsewhere and we would keep writing into it,
//!   wherever it now is. Swapping a component for a link, the usual attack, cannot work.
//!   Hard links are not refused: a file hard-linked into `ROOT` is written like any other
//!   (the kernel's `protected_hardlinks` stops links to other users' files).
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use ferrent_core::{Bitfield, Lengths};
//! use ferrent_storage::{Layout, LayoutFile, Storage};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let file = |path: &str, offset, length| LayoutFile { path: path.into(), length, offset, pad: false };
//! let files = vec![file("album/a.flac", 0, 10_000), file("album/b.flac", 10_000, 30_000)];
//! let layout = Layout::new(files, Lengths::new(40_000, 32_768).unwrap()).unwrap();
//! let storage = Storage::open(dir.path(), layout).unwrap();
//!
//! let piece = storage.layout().lengths().piece(1).unwrap();
//! storage.write_piece(piece, &[Bytes::from(vec![7u8; 40_000 - 32_768])]).unwrap();
//! assert!(dir.path().join("album/b.flac.part").exists());
//!
//! let mut have = Bitfield::new(2);
//! have.set(1, true);
//! storage.piece_completed(piece, &have).unwrap();
//! // b.flac also holds bytes of piece 0, which is still missing.
//! assert!(!dir.path().join("album/b.flac").exists());
//!
//! let mut buf = Vec::new();
//! storage.read_piece(piece, &mut buf).unwrap();
//! assert_eq!(buf, vec![7u8; 40_000 - 32_768]);
//! ```
#![deny(missing_docs)]

mod check;
pub mod create;
mod directories;
mod error;
mod files;
mod layout;
mod path;
mod storage;
mod sys;

pub use directories::Directories;
pub use error::{LayoutError, PathProblem, StorageError};
pub use layout::{Layout, LayoutFile, Segment, Segments};
pub use path::{validate_relative, PART_SUFFIX};
pub use storage::{Storage, DEFAULT_MAX_OPEN_FILES};
