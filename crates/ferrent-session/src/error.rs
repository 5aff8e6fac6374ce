//! Errors that stop a torrent or the session (peer misbehaviour is not among them: see
//! [`ferrent_proto::PeerError`], which only ever closes one connection).

use std::io;

/// A failure that stops a torrent or the whole session.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The peer listener could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address tried.
        addr: String,
        /// The cause.
        source: io::Error,
    },
    /// The torrent's data could not be opened, read or written.
    #[error(transparent)]
    Storage(#[from] ferrent_storage::StorageError),
    /// The torrent's geometry is impossible.
    #[error("invalid torrent: {0}")]
    Lengths(#[from] ferrent_core::LengthsError),
    /// A torrent with the same info hash is already in the session.
    #[error("torrent {0} is already added")]
    Duplicate(String),
    /// A file index in the selection is out of range.
    #[error("file index {index} is out of range (the torrent has {count} files)")]
    BadFileIndex {
        /// The index asked for.
        index: usize,
        /// Files in the torrent.
        count: usize,
    },
    /// v2-only torrents cannot be downloaded yet.
    #[error("v2-only torrents cannot be downloaded yet (no v1 piece hashes)")]
    V2Only,
    /// No peer delivered a magnet link's metadata in time.
    #[error("no peer delivered the torrent's metadata within {0:?}")]
    MetadataTimeout(std::time::Duration),
    /// The metadata matched the info hash but is not a valid info dictionary.
    #[error("the torrent's metadata is invalid: {0}")]
    BadMetadata(String),
    /// The torrent was stopped while waiting for it.
    #[error("the torrent was stopped")]
    Stopped,
    /// A blocking task died.
    #[error("internal task failed: {0}")]
    Task(String),
}
