//! The errors of this crate: every variant names the path or index involved and why.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why a relative path from a torrent was refused, or why a path on disk cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathProblem {
    /// The path has no components at all.
    Empty,
    /// The path starts with `/`.
    Absolute,
    /// A component is empty (`a//b`, or a trailing `/`).
    EmptyComponent,
    /// A component is `.`.
    CurrentDir,
    /// A component is `..`.
    ParentDir,
    /// A component contains a NUL byte.
    Nul,
    /// A component contains a backslash (a separator on Windows).
    Backslash,
    /// A component starts with a drive letter such as `C:`.
    DriveLetter,
    /// A component is longer than a file name may be (255 bytes, 250 for a file name so
    /// that its `.part` name fits too).
    TooLong,
    /// A component exists on disk as a symbolic link; links are never followed.
    Symlink,
    /// A component that must be a directory exists on disk as something else.
    NotADirectory,
    /// The file exists on disk but is not a regular file (a FIFO, socket, device or directory).
    NotARegularFile,
    /// Two files of the torrent have the same path.
    Duplicate,
    /// The path is also a directory of another file's path (`a` and `a/b`).
    FileIsDirectory,
    /// The path collides with the `.part` name of another file (`a` and `a.part`).
    PartNameCollision,
}

impl fmt::Display for PathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "the path is empty",
            Self::Absolute => "the path is absolute",
            Self::EmptyComponent => "a component is empty",
            Self::CurrentDir => "a component is `.`",
            Self::ParentDir => "a component is `..`",
            Self::Nul => "a component contains a NUL byte",
            Self::Backslash => "a component contains a backslash",
            Self::DriveLetter => "a component starts with a drive letter",
            Self::TooLong => "a component is too long for a file name",
            Self::Symlink => "a component is a symbolic link, which is never followed",
            Self::NotADirectory => "a component that must be a directory is not one",
            Self::NotARegularFile => "it exists but is not a regular file",
            Self::Duplicate => "two files have this path",
            Self::FileIsDirectory => "it is both a file and a directory of another file",
            Self::PartNameCollision => "it collides with the `.part` name of another file",
        })
    }
}

/// Why a list of files cannot describe a torrent's byte stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// The torrent has no files.
    #[error("the torrent has no files")]
    NoFiles,
    /// A file does not start where the previous one ends.
    #[error("file {file} starts at offset {offset}, expected {expected}")]
    NotContiguous {
        /// Index of the file.
        file: usize,
        /// The offset it claims.
        offset: u64,
        /// The end of the previous file.
        expected: u64,
    },
    /// A file's end does not fit 64 bits.
    #[error("file {file} ends past 2^64 bytes")]
    Overflow {
        /// Index of the file.
        file: usize,
    },
    /// The files add up to a different length than the piece geometry says.
    #[error("the files add up to {files} bytes but the torrent is {total} bytes long")]
    LengthMismatch {
        /// Sum of the file lengths.
        files: u64,
        /// The total from the geometry.
        total: u64,
    },
    /// The piece geometry itself is invalid.
    #[error("invalid piece geometry: {0}")]
    Lengths(#[from] ferrent_core::LengthsError),
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A path would leave the download directory, or cannot be used safely.
    #[error("unsafe path {}: {reason}", path.display())]
    UnsafePath {
        /// The offending path (relative when it comes from the torrent, absolute on disk).
        path: PathBuf,
        /// What is wrong with it.
        reason: PathProblem,
    },
    /// The file list does not describe the torrent.
    #[error("invalid file layout: {0}")]
    Layout(#[from] LayoutError),
    /// The disk or the user's quota is full (ENOSPC, EDQUOT).
    #[error("disk full while writing {}", path.display())]
    DiskFull {
        /// The file being written.
        path: PathBuf,
        /// The error from the system.
        #[source]
        source: io::Error,
    },
    /// The file system is read-only or the operation is not permitted (EROFS, EACCES, EPERM).
    #[error("cannot {op} {}: read-only or permission denied", path.display())]
    ReadOnly {
        /// The file or directory involved.
        path: PathBuf,
        /// What was being done (`open`, `write`, `mkdir`, `rename`, ...).
        op: &'static str,
        /// The error from the system.
        #[source]
        source: io::Error,
    },
    /// Any other I/O error.
    #[error("cannot {op} {}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// What was being done (`open`, `read`, `write`, `rename`, `sync`, ...).
        op: &'static str,
        /// The error from the system.
        #[source]
        source: io::Error,
    },
    /// A file that should hold data does not exist (neither its final nor its `.part` name).
    #[error("missing file {}", path.display())]
    Missing {
        /// The final path of the file.
        path: PathBuf,
    },
    /// A file is shorter than the data asked of it.
    #[error("file {} is {len} bytes long, {needed} needed", path.display())]
    ShortFile {
        /// The file on disk.
        path: PathBuf,
        /// Its length on disk.
        len: u64,
        /// The length the read needed.
        needed: u64,
    },
    /// A piece index or a block is outside the torrent.
    #[error("piece {piece}, offset {offset}, length {len} is outside the torrent")]
    OutOfRange {
        /// The piece index.
        piece: u32,
        /// Offset inside the piece.
        offset: u32,
        /// Length in bytes.
        len: u32,
    },
    /// Data or a buffer handed in has the wrong length.
    #[error("piece {piece}: got {got} bytes, expected {expected}")]
    WrongLength {
        /// The piece index.
        piece: u32,
        /// The length required.
        expected: u64,
        /// The length handed in.
        got: u64,
    },
    /// The list of piece hashes does not match the piece count.
    #[error("got {got} piece hashes for {expected} pieces")]
    HashCount {
        /// Number of pieces.
        expected: u32,
        /// Number of hashes handed in.
        got: usize,
    },
}

impl StorageError {
    /// Classifies a system error from operation `op` on `path`.
    pub(crate) fn io(path: PathBuf, op: &'static str, source: io::Error) -> Self {
        match source.raw_os_error() {
            Some(libc::ENOSPC | libc::EDQUOT) => Self::DiskFull { path, source },
            Some(libc::EROFS | libc::EACCES | libc::EPERM) => Self::ReadOnly { path, op, source },
            _ => Self::Io { path, op, source },
        }
    }
}
