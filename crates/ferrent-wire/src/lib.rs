//! Sans-IO codec for the BitTorrent peer wire protocol.
//!
//! * [`Handshake`] and its [`Reserved`] extension bits (BEP 3, 5, 6, 10, 52): the 68 bytes
//!   that open a connection.
//! * [`Message`]: every message of BEP 3 (core), BEP 5 (`port`), BEP 6 (fast extension) and
//!   BEP 10 (extension protocol); other ids come through as [`Message::Unknown`].
//! * [`Decoder`]: frames messages out of a receive buffer without copying payloads, refusing
//!   oversized or malformed lengths as soon as their first bytes arrive.
//! * [`Message::encode`], [`encode_piece_header`] and [`encode_request`]: build messages into
//!   a send buffer.
//! * [`PeerId`]: generates ferrent's peer id and names the client behind a peer's.
//!
//! Nothing here touches a socket or a clock, and no input makes it panic: bad bytes become a
//! [`WireError`] that says what was wrong.
//!
//! ```
//! use bytes::BytesMut;
//! use ferrent_wire::{BlockInfo, Decoder, Handshake, Message, PeerId};
//! use rand::SeedableRng;
//!
//! let peer_id = PeerId::generate(&mut rand::rngs::StdRng::seed_from_u64(7));
//! let ours = Handshake::new([0xab; 20], peer_id.0);
//! let theirs = Handshake::decode(&ours.encode()).unwrap();
//! assert!(theirs.reserved.fast());
//! assert_eq!(PeerId(theirs.peer_id).client_name().as_deref(), Some("ferrent 0.1.0"));
//!
//! let mut wire = BytesMut::new();
//! Message::Interested.encode(&mut wire);
//! Message::Request(BlockInfo { index: 3, begin: 16_384, length: 16_384 }).encode(&mut wire);
//!
//! let mut decoder = Decoder::default();
//! assert_eq!(decoder.decode(&mut wire), Ok(Some(Message::Interested)));
//! assert!(matches!(decoder.decode(&mut wire), Ok(Some(Message::Request(b))) if b.index == 3));
//! assert_eq!(decoder.decode(&mut wire), Ok(None));
//! ```
#![deny(missing_docs)]

mod decoder;
mod error;
mod handshake;
mod message;
mod peer_id;

pub use decoder::{Decoder, DEFAULT_MAX_MESSAGE_LEN, MIN_MAX_MESSAGE_LEN};
pub use error::WireError;
pub use handshake::{Handshake, Reserved};
pub use message::{
    encode_piece_header, encode_request, BlockInfo, LengthRule, Message, MessageKind,
    LENGTH_PREFIX_LEN, PIECE_HEADER_LEN,
};
pub use peer_id::{PeerId, FERRENT_PREFIX};
