//! Why a datagram was refused.

use ferrent_bencode::{DecodeError, Kind};

use super::ErrorCode;

/// A datagram that could not be parsed, with what is known of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct KrpcError {
    /// What is wrong.
    pub kind: KrpcErrorKind,
    /// The transaction id, when the datagram got far enough to have a valid one.
    pub transaction_id: Option<Vec<u8>>,
    /// True when the datagram declared itself a query (`y = q`).
    pub was_query: bool,
}

impl KrpcError {
    pub(crate) fn bare(kind: KrpcErrorKind) -> Self {
        Self { kind, transaction_id: None, was_query: false }
    }

    /// The KRPC error code to answer with, when the datagram was a query with a transaction
    /// id: 204 for an unknown method, 203 for anything else. `None` when no answer is due.
    pub fn reply_code(&self) -> Option<ErrorCode> {
        if !self.was_query || self.transaction_id.is_none() {
            return None;
        }
        Some(match self.kind {
            KrpcErrorKind::UnknownMethod(_) => ErrorCode::MethodUnknown,
            _ => ErrorCode::Protocol,
        })
    }
}

/// The ways a datagram can be malformed. Field names are given as dotted paths (`a.id`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KrpcErrorKind {
    /// Longer than the accepted maximum; not read at all.
    #[error("datagram of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Datagram length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not valid bencode.
    #[error("invalid bencode: {0}")]
    Bencode(#[from] DecodeError),
    /// The top-level value is not a dictionary.
    #[error("message is a {0}, not a dictionary")]
    NotADict(Kind),
    /// A required key is absent.
    #[error("missing key `{0}`")]
    Missing(&'static str),
    /// A key holds the wrong type.
    #[error("key `{field}` is a {found}, expected a {expected}")]
    WrongType {
        /// The key.
        field: &'static str,
        /// The type it should have.
        expected: Kind,
        /// The type it has.
        found: Kind,
    },
    /// A string key has an impossible length.
    #[error("key `{field}` is {len} bytes long, expected {expected}")]
    BadLength {
        /// The key.
        field: &'static str,
        /// Its length.
        len: usize,
        /// What was expected, in words.
        expected: &'static str,
    },
    /// An integer key is out of range.
    #[error("key `{field}` is {value}, out of range")]
    OutOfRange {
        /// The key.
        field: &'static str,
        /// Its value.
        value: i64,
    },
    /// An element of `r.values` is not a 6- or 18-byte compact peer.
    #[error("element {index} of `r.values` is {len} bytes long, expected 6 or 18")]
    BadPeer {
        /// Position in the list.
        index: usize,
        /// Its length.
        len: usize,
    },
    /// `y` is not `q`, `r` or `e`.
    #[error("unknown message type `y` = {0:?}")]
    UnknownType(String),
    /// `q` names a method this node does not know.
    #[error("unknown method `q` = {0:?}")]
    UnknownMethod(String),
    /// `e` is not a list of an integer code and a string.
    #[error("key `e` must be a list of an integer code and a string message")]
    BadErrorList,
}
