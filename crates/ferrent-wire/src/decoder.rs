//! Framing and decoding of peer wire messages from a receive buffer.

use bytes::{Buf, Bytes, BytesMut};

use crate::error::WireError;
use crate::message::{BlockInfo, LengthRule, Message, MessageKind, LENGTH_PREFIX_LEN};

/// The limit of [`Decoder::default`]: 256 KiB. A 16 KiB block (16 397 bytes with its header)
/// and BEP 9 metadata pieces fit many times over, and so does the bitfield of a torrent with
/// up to two million pieces, which matters before the metadata (and so the piece count) is
/// known, e.g. for a magnet link.
pub const DEFAULT_MAX_MESSAGE_LEN: u32 = 256 * 1024;

/// The least limit [`Decoder::for_piece_count`] sets: 64 KiB, room for a 16 KiB block, a
/// metadata piece or a peer exchange message with a comfortable margin.
pub const MIN_MAX_MESSAGE_LEN: u32 = 64 * 1024;

/// Splits a byte stream into [`Message`]s, after the handshake.
///
/// The decoder is sans-IO: the caller appends received bytes to a [`BytesMut`] and calls
/// [`decode`](Self::decode) until it returns `Ok(None)`. Every length is checked before the
/// bytes it announces are awaited, so a peer cannot make the caller buffer more than the
/// limit, nor wait for the body of a message that is already known to be malformed.
///
/// ```
/// use bytes::BytesMut;
/// use ferrent_wire::{Decoder, Message};
///
/// let mut decoder = Decoder::default();
/// let mut buf = BytesMut::from(&[0, 0, 0, 5, 4, 0, 0][..]);
/// assert_eq!(decoder.decode(&mut buf), Ok(None));
/// assert_eq!(decoder.wanted(&buf), 2);
/// buf.extend_from_slice(&[0, 7]);
/// assert_eq!(decoder.decode(&mut buf), Ok(Some(Message::Have { index: 7 })));
/// assert!(buf.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoder {
    max_message_len: u32,
}

impl Default for Decoder {
    /// A decoder with the limit [`DEFAULT_MAX_MESSAGE_LEN`].
    fn default() -> Self {
        Self::new(DEFAULT_MAX_MESSAGE_LEN)
    }
}

impl Decoder {
    /// A decoder refusing messages whose length (id byte and payload) exceeds
    /// `max_message_len`. The limit is taken as given: one below 16 397 refuses full-size
    /// blocks.
    pub fn new(max_message_len: u32) -> Self {
        Self { max_message_len }
    }

    /// A decoder for a torrent of `piece_count` pieces: the limit is its bitfield message's
    /// length or [`MIN_MAX_MESSAGE_LEN`], whichever is larger.
    pub fn for_piece_count(piece_count: u32) -> Self {
        let bitfield_len = piece_count.div_ceil(8) + 1;
        Self::new(bitfield_len.max(MIN_MAX_MESSAGE_LEN))
    }

    /// The largest message length (id byte and payload) accepted.
    pub fn max_message_len(&self) -> u32 {
        self.max_message_len
    }

    /// Changes the limit, e.g. once a magnet link's metadata reveals the piece count.
    pub fn set_max_message_len(&mut self, max_message_len: u32) {
        self.max_message_len = max_message_len;
    }

    /// Takes one complete message off the front of `buf`.
    ///
    /// Returns `Ok(None)`, consuming nothing, while the message is incomplete. Payloads are
    /// split off `buf` without copying. On error nothing is consumed either; the stream cannot
    /// be framed any further, so the connection should be dropped.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Message>, WireError> {
        let Some(len) = self.checked_len(buf)? else { return Ok(None) };
        let frame_len = frame_len(len);
        if buf.len() < frame_len {
            return Ok(None);
        }
        if len == 0 {
            buf.advance(LENGTH_PREFIX_LEN);
            return Ok(Some(Message::KeepAlive));
        }
        // A complete frame of nonzero length holds its id, so this never returns.
        let Some(&id) = buf.get(LENGTH_PREFIX_LEN) else { return Ok(None) };
        let mut frame = buf.split_to(frame_len);
        frame.advance(LENGTH_PREFIX_LEN + 1);
        parse(MessageKind::from_id(id), len, frame.freeze()).map(Some)
    }

    /// How many more bytes `buf` needs before [`decode`](Self::decode) can make progress:
    /// zero when a message is complete or an error is ready to be reported, otherwise the
    /// missing part of the current message (or of its length prefix, while fewer than four
    /// bytes are buffered). Never more than the limit plus the prefix.
    pub fn wanted(&self, buf: &[u8]) -> usize {
        match self.checked_len(buf) {
            Ok(Some(len)) => frame_len(len).saturating_sub(buf.len()),
            Ok(None) => LENGTH_PREFIX_LEN.saturating_sub(buf.len()),
            Err(_) => 0,
        }
    }

    /// The length prefix at the front of `buf` (`None` while incomplete), checked against the
    /// limit and, once the id byte is buffered too, against the rule of the message's kind.
    fn checked_len(&self, buf: &[u8]) -> Result<Option<u32>, WireError> {
        let Some(prefix) = buf.first_chunk::<LENGTH_PREFIX_LEN>() else { return Ok(None) };
        let len = u32::from_be_bytes(*prefix);
        if len > self.max_message_len {
            return Err(WireError::MessageTooLong { len, limit: self.max_message_len });
        }
        if len > 0 {
            if let Some(&id) = buf.get(LENGTH_PREFIX_LEN) {
                check_length(MessageKind::from_id(id), len)?;
            }
        }
        Ok(Some(len))
    }
}

/// The size in the buffer of a message of length `len`, prefix included. Saturates where
/// `usize` has 32 bits and `len` is within four bytes of 4 GiB: no buffer holds that anyway.
fn frame_len(len: u32) -> usize {
    usize::try_from(len).unwrap_or(usize::MAX).saturating_add(LENGTH_PREFIX_LEN)
}

/// Checks a message length (id byte included) against its kind's rule.
fn check_length(kind: MessageKind, len: u32) -> Result<(), WireError> {
    match kind.length_rule() {
        LengthRule::Exact(expected) if len != expected => {
            Err(WireError::WrongLength { kind, len, expected })
        }
        LengthRule::AtLeast(min) if len < min => Err(WireError::TooShort { kind, len, min }),
        _ => Ok(()),
    }
}

/// Builds the message of `kind` from its payload (the bytes after the id), whose length
/// already satisfies the kind's rule.
fn parse(kind: MessageKind, len: u32, mut payload: Bytes) -> Result<Message, WireError> {
    let wrong = || length_error(kind, len);
    Ok(match kind {
        MessageKind::KeepAlive => Message::KeepAlive,
        MessageKind::Choke => Message::Choke,
        MessageKind::Unchoke => Message::Unchoke,
        MessageKind::Interested => Message::Interested,
        MessageKind::NotInterested => Message::NotInterested,
        MessageKind::HaveAll => Message::HaveAll,
        MessageKind::HaveNone => Message::HaveNone,
        MessageKind::Have => Message::Have { index: fixed_u32(&payload).ok_or_else(wrong)? },
        MessageKind::Suggest => Message::Suggest { index: fixed_u32(&payload).ok_or_else(wrong)? },
        MessageKind::AllowedFast => {
            Message::AllowedFast { index: fixed_u32(&payload).ok_or_else(wrong)? }
        }
        MessageKind::Request => Message::Request(block(&payload).ok_or_else(wrong)?),
        MessageKind::Cancel => Message::Cancel(block(&payload).ok_or_else(wrong)?),
        MessageKind::Reject => Message::Reject(block(&payload).ok_or_else(wrong)?),
        MessageKind::Port => {
            let port: [u8; 2] = payload.as_ref().try_into().map_err(|_| wrong())?;
            Message::Port(u16::from_be_bytes(port))
        }
        MessageKind::Bitfield => Message::Bitfield(payload),
        MessageKind::Piece => {
            let head = *payload.first_chunk::<8>().ok_or_else(wrong)?;
            payload.advance(8);
            Message::Piece {
                index: u32::from_be_bytes([head[0], head[1], head[2], head[3]]),
                begin: u32::from_be_bytes([head[4], head[5], head[6], head[7]]),
                data: payload,
            }
        }
        MessageKind::Extended => {
            let id = *payload.first().ok_or_else(wrong)?;
            payload.advance(1);
            Message::Extended { id, payload }
        }
        MessageKind::Unknown(id) => Message::Unknown { id, payload },
    })
}

/// The error for a payload whose length breaks its kind's rule.
fn length_error(kind: MessageKind, len: u32) -> WireError {
    match kind.length_rule() {
        LengthRule::Exact(expected) => WireError::WrongLength { kind, len, expected },
        LengthRule::AtLeast(min) => WireError::TooShort { kind, len, min },
    }
}

/// A payload of exactly four bytes as a big-endian integer.
fn fixed_u32(payload: &[u8]) -> Option<u32> {
    payload.try_into().ok().map(u32::from_be_bytes)
}

/// A payload of exactly twelve bytes as a block.
fn block(payload: &[u8]) -> Option<BlockInfo> {
    payload.try_into().ok().map(BlockInfo::from_be_bytes)
}
