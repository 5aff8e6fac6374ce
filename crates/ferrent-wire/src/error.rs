//! The one error type of the crate.

use crate::message::MessageKind;

/// Why bytes from a peer are not a valid handshake or message.
///
/// Every variant is fatal for the connection: the stream can no longer be framed (or the
/// peer does not speak the protocol), so the driver should drop the peer. The decoder never
/// consumes bytes when it returns an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The length prefix announces more bytes than the decoder accepts. Raised as soon as the
    /// four prefix bytes are seen, before any of the body is buffered.
    #[error("message of {len} bytes exceeds limit {limit}")]
    MessageTooLong {
        /// The announced length (the id byte plus the payload).
        len: u32,
        /// The decoder's limit.
        limit: u32,
    },
    /// A message whose size is fixed by the protocol announced another length.
    #[error("{kind} message has length {len}, expected {expected}")]
    WrongLength {
        /// Which message it was.
        kind: MessageKind,
        /// The announced length (the id byte plus the payload).
        len: u32,
        /// The length the protocol requires.
        expected: u32,
    },
    /// A message with a variable-size payload is too short to hold its fixed header.
    #[error("{kind} message has length {len}, expected at least {min}")]
    TooShort {
        /// Which message it was.
        kind: MessageKind,
        /// The announced length (the id byte plus the payload).
        len: u32,
        /// The smallest length the protocol allows.
        min: u32,
    },
    /// A handshake must be exactly [`Handshake::LEN`](crate::Handshake::LEN) bytes.
    #[error("handshake has {len} bytes, expected exactly 68")]
    HandshakeLength {
        /// How many bytes were given.
        len: usize,
    },
    /// The first handshake byte (the protocol string's length) is not 19.
    #[error("handshake protocol string length is {0}, expected 19")]
    HandshakeProtocolLength(u8),
    /// The handshake's protocol string differs from `BitTorrent protocol`.
    #[error("handshake protocol string is not 'BitTorrent protocol'")]
    HandshakeProtocol,
}
