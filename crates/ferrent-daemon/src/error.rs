//! Errors of daemon operations; the API maps each to an HTTP status and a stable code.

use crate::paths::PathError;
use crate::store::StoreError;
use ferrent_session::SessionError;

/// Why a daemon operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// No torrent has this id.
    #[error("no torrent {0}")]
    NotFound(String),
    /// The torrent is already in the daemon.
    #[error("torrent {0} is already added")]
    Duplicate(String),
    /// The .torrent file is not valid.
    #[error("invalid torrent: {0}")]
    InvalidTorrent(String),
    /// The magnet link is not valid.
    #[error("invalid magnet link: {0}")]
    InvalidMagnet(String),
    /// The torrent is valid but cannot be handled (e.g. v2-only).
    #[error("unsupported torrent: {0}")]
    Unsupported(String),
    /// A request field is wrong.
    #[error("{field}: {reason}")]
    BadField {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A requested download directory is not allowed.
    #[error(transparent)]
    Path(#[from] PathError),
    /// The operation does not fit the torrent's current state.
    #[error("{0}")]
    Conflict(String),
    /// A .torrent URL could not be fetched.
    #[error("cannot fetch {url}: {reason}")]
    Fetch {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The state directory failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The session failed.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// A background task failed (a bug or a panic).
    #[error("internal error: {0}")]
    Internal(String),
    /// The daemon is shutting down.
    #[error("the daemon is shutting down")]
    ShuttingDown,
}
