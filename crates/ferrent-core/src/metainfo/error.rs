//! Why a metainfo was refused, and where.

use std::fmt;

use ferrent_bencode::{DecodeError, Kind};

/// Why a `.torrent` file or info dictionary was refused.
///
/// Every refusal of well-formed bencode names the field, e.g.
/// `info.files[3].path[1]: component '..' would escape the download directory`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetainfoError {
    /// The bytes are not valid bencode.
    #[error("not valid bencode: {0}")]
    Bencode(#[from] DecodeError),
    /// A field is missing, of the wrong type, or has a refused value.
    #[error("{field}: {problem}")]
    Invalid {
        /// Where the problem is, like `info.files[3].path[1]` or `info.file tree["a"]`.
        field: String,
        /// What is wrong with it.
        problem: Problem,
    },
}

impl MetainfoError {
    /// The offending field, unless the bencode itself was malformed.
    pub fn field(&self) -> Option<&str> {
        match self {
            MetainfoError::Bencode(_) => None,
            MetainfoError::Invalid { field, .. } => Some(field),
        }
    }

    /// What is wrong with the field, unless the bencode itself was malformed.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            MetainfoError::Bencode(_) => None,
            MetainfoError::Invalid { problem, .. } => Some(problem),
        }
    }
}

/// What is wrong with a metainfo field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// A required key is absent.
    #[error("required key is missing")]
    Missing,
    /// The value has the wrong bencode type.
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// The type required here.
        expected: Kind,
        /// The type found.
        found: Kind,
    },
    /// A string that must be UTF-8 is not.
    #[error("not valid UTF-8")]
    NotUtf8,
    /// A length or count is negative.
    #[error("must not be negative, found {0}")]
    Negative(i64),
    /// A file or directory name that is unsafe or invalid.
    #[error("{0}")]
    Path(#[from] PathProblem),
    /// The piece length is not a power of two between 16 KiB and 2 GiB.
    #[error("piece length {0} is not a power of two between 16 KiB and 2 GiB")]
    BadPieceLength(i64),
    /// The concatenated v1 piece hashes are not a whole number of SHA-1 hashes.
    #[error("length {0} is not a multiple of 20")]
    PiecesNotMultipleOf20(usize),
    /// The number of v1 piece hashes does not match the total length.
    #[error("{found} piece hashes for {expected} pieces")]
    PieceCount {
        /// Pieces implied by the total length and piece length.
        expected: u64,
        /// Hashes present.
        found: u64,
    },
    /// The torrent has more pieces than a 32-bit index can name.
    #[error("{0} pieces do not fit a 32-bit index")]
    TooManyPieces(u64),
    /// The total length does not fit 64 bits.
    #[error("total length overflows 64 bits")]
    TotalTooLarge,
    /// The torrent holds no data at all.
    #[error("the torrent holds no data")]
    EmptyTorrent,
    /// A single-file torrent also lists files, or vice versa.
    #[error("has both '{0}' and '{1}'")]
    Conflicting(&'static str, &'static str),
    /// Only `meta version` 2 is understood.
    #[error("unsupported meta version {0}")]
    UnsupportedMetaVersion(i64),
    /// A hash has the wrong number of bytes.
    #[error("expected a {expected}-byte hash, found {found} bytes")]
    HashLength {
        /// Required length.
        expected: usize,
        /// Length found.
        found: usize,
    },
    /// Two files have the same path.
    #[error("same path as file {0}")]
    DuplicatePath(usize),
    /// A file's path is used as a directory by another file.
    #[error("file path is also a directory holding file {0}")]
    FileIsDirectory(usize),
    /// A v2 file tree whose paths, spelled out per file, hold too many components.
    #[error("file paths hold more than {max} components in total")]
    TooManyComponents {
        /// The limit.
        max: usize,
    },
    /// A v2 file tree directory has no entries.
    #[error("empty directory")]
    EmptyDirectory,
    /// A v2 file tree node is both a file (key "") and a directory.
    #[error("node is both a file and a directory")]
    FileAndDirectory,
    /// A file larger than one piece has no entry in `piece layers`.
    #[error("no piece layer for file {file} ({pieces} pieces)")]
    PieceLayerMissing {
        /// Index of the file in [`Info::files`](crate::Info::files).
        file: usize,
        /// Pieces in that file.
        pieces: u64,
    },
    /// A piece layer has the wrong length for its file.
    #[error("piece layer is {found} bytes; file {file} needs {expected}")]
    PieceLayerLength {
        /// Index of the file in [`Info::files`](crate::Info::files).
        file: usize,
        /// Bytes required: 32 per piece.
        expected: u64,
        /// Bytes present.
        found: usize,
    },
    /// A piece layer does not hash up to its file's pieces root.
    #[error("piece layer does not hash to the pieces root of file {0}")]
    PieceLayerMismatch(usize),
    /// The v1 file list and the v2 file tree of a hybrid torrent disagree.
    #[error("v1 'files' and v2 'file tree' disagree: {0}")]
    HybridMismatch(String),
}

/// Why a path component (file name, directory name or torrent name) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathProblem {
    /// A path list without components.
    #[error("path has no components")]
    NoComponents,
    /// An empty component.
    #[error("component is empty")]
    Empty,
    /// `.` names the directory itself.
    #[error("component '.' is not a file name")]
    Dot,
    /// `..` climbs out of the torrent's directory.
    #[error("component '..' would escape the download directory")]
    DotDot,
    /// A `/` or `\` inside one component.
    #[error("component {0:?} contains a path separator")]
    Separator(String),
    /// A NUL byte.
    #[error("component {0:?} contains a NUL byte")]
    Nul(String),
    /// A Windows drive prefix like `C:`.
    #[error("component {0:?} starts with a drive letter")]
    DriveLetter(String),
}

/// Where in the metainfo a value sits; rendered only when an error is reported.
#[derive(Clone, Copy)]
pub(crate) enum At<'p> {
    /// A top-level key.
    Root(&'static str),
    /// `.key` below a dictionary.
    Key(&'p At<'p>, &'static str),
    /// `[i]` below a list.
    Index(&'p At<'p>, usize),
    /// `["name"]` below a v2 file tree directory.
    Name(&'p At<'p>, &'p [u8]),
}

impl<'p> At<'p> {
    pub(crate) fn key(&'p self, key: &'static str) -> At<'p> {
        At::Key(self, key)
    }

    pub(crate) fn index(&'p self, i: usize) -> At<'p> {
        At::Index(self, i)
    }

    pub(crate) fn name(&'p self, name: &'p [u8]) -> At<'p> {
        At::Name(self, name)
    }

    /// An error naming this field.
    pub(crate) fn err(&self, problem: impl Into<Problem>) -> MetainfoError {
        MetainfoError::Invalid { field: self.to_string(), problem: problem.into() }
    }
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Root(key) => f.write_str(key),
            At::Key(parent, key) => write!(f, "{parent}.{key}"),
            At::Index(parent, i) => write!(f, "{parent}[{i}]"),
            At::Name(parent, name) => write!(f, "{parent}[{:?}]", String::from_utf8_lossy(name)),
        }
    }
}
