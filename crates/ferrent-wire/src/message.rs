//! Peer wire messages (BEP 3, BEP 5, BEP 6, BEP 10) and their encoding.
//!
//! On the wire every message is a 4-byte big-endian length, then that many bytes: a one-byte
//! id followed by the payload. A length of zero is a keep-alive. Decoding lives in
//! [`Decoder`](crate::Decoder); this module builds messages into a [`BytesMut`].

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

/// Bytes of the length prefix in front of every message.
pub const LENGTH_PREFIX_LEN: usize = 4;

/// Bytes of a piece message before its data: length prefix, id, index and begin.
pub const PIECE_HEADER_LEN: usize = 13;

/// A block of a piece: `length` bytes at offset `begin` of piece `index`, as carried by
/// request, cancel and reject messages. The values are raw: nothing here checks them
/// against a torrent's geometry.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct BlockInfo {
    /// Piece index.
    pub index: u32,
    /// Byte offset inside the piece.
    pub begin: u32,
    /// Length in bytes.
    pub length: u32,
}

impl BlockInfo {
    fn to_be_bytes(self) -> [u8; 12] {
        let mut out = [0; 12];
        out[..4].copy_from_slice(&self.index.to_be_bytes());
        out[4..8].copy_from_slice(&self.begin.to_be_bytes());
        out[8..].copy_from_slice(&self.length.to_be_bytes());
        out
    }

    pub(crate) fn from_be_bytes(b: [u8; 12]) -> Self {
        Self {
            index: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            begin: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
            length: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
        }
    }
}

/// One peer wire message.
///
/// Payloads are [`Bytes`]: decoded messages share the receive buffer instead of copying it.
/// The `Debug` output abbreviates payloads longer than 32 bytes to their length.
#[derive(Clone, PartialEq, Eq)]
pub enum Message {
    /// An empty message that keeps an idle connection open.
    KeepAlive,
    /// The sender will not serve our requests (BEP 3).
    Choke,
    /// The sender will serve our requests (BEP 3).
    Unchoke,
    /// The sender wants pieces we have (BEP 3).
    Interested,
    /// The sender wants nothing we have (BEP 3).
    NotInterested,
    /// The sender has completed and verified a piece (BEP 3).
    Have {
        /// The piece index.
        index: u32,
    },
    /// Which pieces the sender has, high bit of the first byte first (BEP 3). Its length is
    /// not checked against a torrent here.
    Bitfield(Bytes),
    /// The sender asks for a block (BEP 3).
    Request(BlockInfo),
    /// A block of data (BEP 3).
    Piece {
        /// The piece index.
        index: u32,
        /// Byte offset of `data` inside the piece.
        begin: u32,
        /// The block's bytes.
        data: Bytes,
    },
    /// The sender withdraws a request (BEP 3).
    Cancel(BlockInfo),
    /// The sender's DHT node listens on this UDP port (BEP 5).
    Port(u16),
    /// The sender suggests we download this piece (BEP 6).
    Suggest {
        /// The piece index.
        index: u32,
    },
    /// The sender has every piece; replaces a bitfield (BEP 6).
    HaveAll,
    /// The sender has no piece; replaces a bitfield (BEP 6).
    HaveNone,
    /// The sender will not serve one of our requests (BEP 6).
    Reject(BlockInfo),
    /// We may request this piece even while choked (BEP 6).
    AllowedFast {
        /// The piece index.
        index: u32,
    },
    /// An extension protocol message (BEP 10): `id` 0 is the extension handshake, other ids
    /// are those the receiver assigned in its handshake.
    Extended {
        /// The extended message id.
        id: u8,
        /// The bencoded (or extension-specific) payload after the id.
        payload: Bytes,
    },
    /// A message with an id this crate does not know, kept whole so it can be logged or
    /// skipped. Encoding one with a known id produces that known message on the wire.
    Unknown {
        /// The message id.
        id: u8,
        /// Everything after the id.
        payload: Bytes,
    },
}

/// Which kind a [`Message`] is, without its fields: names messages in errors and logs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum MessageKind {
    /// [`Message::KeepAlive`]; it has no id.
    KeepAlive,
    /// [`Message::Choke`], id 0.
    Choke,
    /// [`Message::Unchoke`], id 1.
    Unchoke,
    /// [`Message::Interested`], id 2.
    Interested,
    /// [`Message::NotInterested`], id 3.
    NotInterested,
    /// [`Message::Have`], id 4.
    Have,
    /// [`Message::Bitfield`], id 5.
    Bitfield,
    /// [`Message::Request`], id 6.
    Request,
    /// [`Message::Piece`], id 7.
    Piece,
    /// [`Message::Cancel`], id 8.
    Cancel,
    /// [`Message::Port`], id 9.
    Port,
    /// [`Message::Suggest`], id 13.
    Suggest,
    /// [`Message::HaveAll`], id 14.
    HaveAll,
    /// [`Message::HaveNone`], id 15.
    HaveNone,
    /// [`Message::Reject`], id 16.
    Reject,
    /// [`Message::AllowedFast`], id 17.
    AllowedFast,
    /// [`Message::Extended`], id 20.
    Extended,
    /// [`Message::Unknown`] with its id.
    Unknown(u8),
}

/// How long a message of some kind may be, counting its id byte but not the length prefix.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LengthRule {
    /// Exactly this many bytes.
    Exact(u32),
    /// At least this many bytes.
    AtLeast(u32),
}

/// Every kind with an id, for the id table below and for tests.
const WITH_IDS: [(u8, MessageKind); 16] = [
    (0, MessageKind::Choke),
    (1, MessageKind::Unchoke),
    (2, MessageKind::Interested),
    (3, MessageKind::NotInterested),
    (4, MessageKind::Have),
    (5, MessageKind::Bitfield),
    (6, MessageKind::Request),
    (7, MessageKind::Piece),
    (8, MessageKind::Cancel),
    (9, MessageKind::Port),
    (13, MessageKind::Suggest),
    (14, MessageKind::HaveAll),
    (15, MessageKind::HaveNone),
    (16, MessageKind::Reject),
    (17, MessageKind::AllowedFast),
    (20, MessageKind::Extended),
];

impl MessageKind {
    /// The kind a message id stands for; ids this crate does not know give
    /// [`MessageKind::Unknown`].
    pub fn from_id(id: u8) -> Self {
        WITH_IDS.iter().find(|(known, _)| *known == id).map_or(Self::Unknown(id), |(_, k)| *k)
    }

    /// The message id, or `None` for a keep-alive.
    pub fn id(self) -> Option<u8> {
        match self {
            Self::KeepAlive => None,
            Self::Unknown(id) => Some(id),
            known => WITH_IDS.iter().find(|(_, k)| *k == known).map(|(id, _)| *id),
        }
    }

    /// The lengths the protocol allows for this kind, counting the id byte.
    pub fn length_rule(self) -> LengthRule {
        match self {
            Self::KeepAlive => LengthRule::Exact(0),
            Self::Choke
            | Self::Unchoke
            | Self::Interested
            | Self::NotInterested
            | Self::HaveAll
            | Self::HaveNone => LengthRule::Exact(1),
            Self::Have | Self::Suggest | Self::AllowedFast => LengthRule::Exact(5),
            Self::Request | Self::Cancel | Self::Reject => LengthRule::Exact(13),
            Self::Port => LengthRule::Exact(3),
            Self::Piece => LengthRule::AtLeast(9),
            Self::Extended => LengthRule::AtLeast(2),
            Self::Bitfield | Self::Unknown(_) => LengthRule::AtLeast(1),
        }
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::KeepAlive => "keep-alive",
            Self::Choke => "choke",
            Self::Unchoke => "unchoke",
            Self::Interested => "interested",
            Self::NotInterested => "not interested",
            Self::Have => "have",
            Self::Bitfield => "bitfield",
            Self::Request => "request",
            Self::Piece => "piece",
            Self::Cancel => "cancel",
            Self::Port => "port",
            Self::Suggest => "suggest piece",
            Self::HaveAll => "have all",
            Self::HaveNone => "have none",
            Self::Reject => "reject request",
            Self::AllowedFast => "allowed fast",
            Self::Extended => "extended",
            Self::Unknown(id) => return write!(f, "unknown (id {id})"),
        };
        f.write_str(name)
    }
}

impl Message {
    /// This message's kind.
    pub fn kind(&self) -> MessageKind {
        match self {
            Self::KeepAlive => MessageKind::KeepAlive,
            Self::Choke => MessageKind::Choke,
            Self::Unchoke => MessageKind::Unchoke,
            Self::Interested => MessageKind::Interested,
            Self::NotInterested => MessageKind::NotInterested,
            Self::Have { .. } => MessageKind::Have,
            Self::Bitfield(_) => MessageKind::Bitfield,
            Self::Request(_) => MessageKind::Request,
            Self::Piece { .. } => MessageKind::Piece,
            Self::Cancel(_) => MessageKind::Cancel,
            Self::Port(_) => MessageKind::Port,
            Self::Suggest { .. } => MessageKind::Suggest,
            Self::HaveAll => MessageKind::HaveAll,
            Self::HaveNone => MessageKind::HaveNone,
            Self::Reject(_) => MessageKind::Reject,
            Self::AllowedFast { .. } => MessageKind::AllowedFast,
            Self::Extended { .. } => MessageKind::Extended,
            Self::Unknown { id, .. } => MessageKind::Unknown(*id),
        }
    }

    /// How many bytes [`encode`](Self::encode) appends, length prefix included.
    pub fn encoded_len(&self) -> usize {
        let variable = match self {
            Self::Bitfield(bytes) => bytes.len(),
            Self::Piece { data, .. } => data.len(),
            Self::Extended { payload, .. } => payload.len(),
            Self::Unknown { payload, .. } => payload.len(),
            _ => 0,
        };
        let fixed = match self.kind().length_rule() {
            LengthRule::Exact(n) | LengthRule::AtLeast(n) => n as usize,
        };
        LENGTH_PREFIX_LEN + fixed + variable
    }

    /// Appends the message, length prefix included, to `buf`.
    ///
    /// # Panics
    ///
    /// If a payload is so large (4 GiB or more) that its length does not fit the 32-bit prefix.
    /// Decoded messages always fit, since their length came from such a prefix.
    pub fn encode(&self, buf: &mut BytesMut) {
        let Some(id) = self.kind().id() else {
            // A keep-alive is a bare zero length.
            buf.put_u32(0);
            return;
        };
        buf.reserve(self.encoded_len());
        match self {
            Self::KeepAlive => {} // written above
            Self::Choke
            | Self::Unchoke
            | Self::Interested
            | Self::NotInterested
            | Self::HaveAll
            | Self::HaveNone => put_header(buf, 1, id),
            Self::Have { index } | Self::Suggest { index } | Self::AllowedFast { index } => {
                put_header(buf, 5, id);
                buf.put_u32(*index);
            }
            Self::Request(block) | Self::Cancel(block) | Self::Reject(block) => {
                put_header(buf, 13, id);
                buf.put_slice(&block.to_be_bytes());
            }
            Self::Port(port) => {
                put_header(buf, 3, id);
                buf.put_u16(*port);
            }
            Self::Piece { index, begin, data } => {
                encode_piece_header(*index, *begin, wire_len(data.len(), 0), buf);
                buf.put_slice(data);
            }
            Self::Bitfield(payload) | Self::Unknown { payload, .. } => {
                put_header(buf, wire_len(payload.len(), 1), id);
                buf.put_slice(payload);
            }
            Self::Extended { id: extended_id, payload } => {
                put_header(buf, wire_len(payload.len(), 2), id);
                buf.put_u8(*extended_id);
                buf.put_slice(payload);
            }
        }
    }
}

/// `payload` bytes plus `header` bytes as a 32-bit wire length.
///
/// # Panics
///
/// If the sum does not fit 32 bits: only a payload of 4 GiB or more can cause that.
fn wire_len(payload: usize, header: u32) -> u32 {
    u32::try_from(payload)
        .ok()
        .and_then(|len| len.checked_add(header))
        .expect("message payload of 4 GiB or more cannot be framed")
}

/// Writes the length prefix `len` (id byte and payload) and the message id.
fn put_header(buf: &mut BytesMut, len: u32, id: u8) {
    buf.put_u32(len);
    buf.put_u8(id);
}

/// Appends the 13-byte header of a piece message carrying `data_len` bytes of data, so the
/// data itself can be written straight from storage (e.g. by a vectored write) uncopied.
///
/// # Panics
///
/// If `data_len` exceeds `u32::MAX - 9`, the most a 32-bit length prefix can frame.
pub fn encode_piece_header(index: u32, begin: u32, data_len: u32, buf: &mut BytesMut) {
    let len = data_len.checked_add(9).expect("piece data of 4 GiB or more cannot be framed");
    buf.reserve(PIECE_HEADER_LEN);
    put_header(buf, len, 7);
    buf.put_u32(index);
    buf.put_u32(begin);
}

/// Appends a request message for `block`: the hot path of a downloader.
pub fn encode_request(block: BlockInfo, buf: &mut BytesMut) {
    Message::Request(block).encode(buf);
}

/// Shows a payload in full when short and as its length otherwise.
struct Payload<'a>(&'a Bytes);

impl fmt::Debug for Payload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.len() <= 32 {
            fmt::Debug::fmt(self.0, f)
        } else {
            write!(f, "<{} bytes>", self.0.len())
        }
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Have { index } => f.debug_struct("Have").field("index", index).finish(),
            Self::Suggest { index } => f.debug_struct("Suggest").field("index", index).finish(),
            Self::AllowedFast { index } => {
                f.debug_struct("AllowedFast").field("index", index).finish()
            }
            Self::Bitfield(bits) => f.debug_tuple("Bitfield").field(&Payload(bits)).finish(),
            Self::Request(block) => f.debug_tuple("Request").field(block).finish(),
            Self::Cancel(block) => f.debug_tuple("Cancel").field(block).finish(),
            Self::Reject(block) => f.debug_tuple("Reject").field(block).finish(),
            Self::Port(port) => f.debug_tuple("Port").field(port).finish(),
            Self::Piece { index, begin, data } => f
                .debug_struct("Piece")
                .field("index", index)
                .field("begin", begin)
                .field("data", &Payload(data))
                .finish(),
            Self::Extended { id, payload } => f
                .debug_struct("Extended")
                .field("id", id)
                .field("payload", &Payload(payload))
                .finish(),
            Self::Unknown { id, payload } => f
                .debug_struct("Unknown")
                .field("id", id)
                .field("payload", &Payload(payload))
                .finish(),
            unit => fmt::Debug::fmt(&unit.kind(), f),
        }
    }
}
