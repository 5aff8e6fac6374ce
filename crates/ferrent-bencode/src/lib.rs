//! Bencode, the serialization format of BitTorrent: decoding that keeps byte spans, and
//! canonical encoding.
//!
//! * [`decode`] reads exactly one value; [`decode_prefix`] reads one value and leaves what
//!   follows (BEP 9 metadata messages); [`decode_report`] also lists accepted quirks such as
//!   unsorted keys; [`Decoder`] combines these with custom [`Limits`].
//! * Every decoded [`Value`] knows its exact input bytes ([`Value::raw`]) and offset, so a
//!   torrent's info hash can be computed over the original encoding.
//! * Malformed input (leading zeros, `i-0e`, duplicate keys, truncation, ...) is refused with
//!   a [`DecodeError`] naming the byte offset. The decoder never recurses, allocates nothing
//!   on a declared string length it cannot back with input, and enforces [`Limits`] on depth,
//!   item count and input size, so hostile input cannot exhaust stack or memory.
//! * [`OwnedValue`] builds values and encodes them canonically (sorted keys); [`DictWriter`]
//!   streams a dictionary and can embed pre-encoded values verbatim.
//!
//! ```
//! use ferrent_bencode::{decode, OwnedValue};
//!
//! let input = b"d8:announce9:udp://x:14:infod4:name1:aee";
//! let torrent = decode(input).unwrap();
//! let info = torrent.get(b"info").unwrap();
//! assert_eq!(info.raw(), b"d4:name1:ae");
//! assert_eq!(info.offset(), 28);
//! assert_eq!(info.get(b"name").and_then(|v| v.as_str()), Some("a"));
//!
//! let err = decode(b"d3:key5:value").unwrap_err();
//! assert_eq!(err.to_string(), "at byte 13: unexpected end of input inside a dictionary");
//!
//! let built = OwnedValue::dict([("n", OwnedValue::from(-3)), ("l", OwnedValue::list([]))]);
//! assert_eq!(built.encode(), b"d1:lle1:ni-3ee");
//! assert_eq!(decode(&built.encode()).unwrap().to_owned(), built);
//! ```
#![deny(missing_docs)]

mod decode;
mod encode;
mod error;
mod value;

pub use decode::{decode, decode_prefix, decode_report, decode_with, Decoded, Decoder, Limits};
pub use encode::{write_bytes, write_int, DictWriter, OwnedValue};
pub use error::{Context, DecodeError, DecodeErrorKind, Quirk, QuirkKind};
pub use value::{Dict, Kind, Value};
