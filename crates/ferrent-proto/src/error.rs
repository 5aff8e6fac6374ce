//! Why the engine drops a peer.

use ferrent_core::BitfieldError;

/// A peer misbehaved; the connection must be closed. Never fatal to the torrent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerError {
    /// The bitfield had the wrong length or spare bits set.
    #[error("bad bitfield: {0}")]
    BadBitfield(#[from] BitfieldError),
    /// A bitfield (or have-all/none) arrived after other messages.
    #[error("bitfield sent after the first message")]
    LateBitfield,
    /// A `have` named a piece past the end.
    #[error("have for piece {0}, past the last piece")]
    BadHave(u32),
    /// A `piece` message carried a block outside the torrent or longer than 16 KiB.
    #[error("piece message out of range: piece {index} offset {begin} length {len}")]
    BadBlock {
        /// Piece index.
        index: u32,
        /// Offset in the piece.
        begin: u32,
        /// Data length.
        len: u32,
    },
    /// A block arrived that nobody asked for.
    #[error("unrequested block: piece {index} offset {begin}")]
    Unrequested {
        /// Piece index.
        index: u32,
        /// Offset in the piece.
        begin: u32,
    },
    /// A request outside the torrent, over 16 KiB, or for a piece we lack.
    #[error("invalid request: piece {index} offset {begin} length {len}")]
    BadRequest {
        /// Piece index.
        index: u32,
        /// Offset in the piece.
        begin: u32,
        /// Requested length.
        len: u32,
    },
    /// Too many requests queued at once.
    #[error("request flood: more than {0} requests outstanding")]
    RequestFlood(usize),
    /// Fast-extension message from a peer that did not negotiate it.
    #[error("fast extension message without negotiating it")]
    FastNotNegotiated,
    /// An extension message (BEP 10, 9, 11) was malformed.
    #[error("bad extension message: {0}")]
    Extension(#[from] crate::extension::ExtensionError),
    /// The peer sent data that failed hash checks too often.
    #[error("banned after {0} pieces failed their hash check")]
    Banned(u32),
}
