//! Encoding: an owned value tree, and a streaming dictionary writer.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::ShowKey;
use crate::DecodeError;

/// An owned bencode value. Dictionaries are `BTreeMap`s, so keys encode in sorted order.
///
/// ```
/// use ferrent_bencode::OwnedValue;
/// let v = OwnedValue::dict([("b", OwnedValue::from(1)), ("a", OwnedValue::from("x"))]);
/// assert_eq!(v.encode(), b"d1:a1:x1:bi1ee");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OwnedValue {
    /// An integer.
    Int(i64),
    /// A byte string.
    Bytes(Vec<u8>),
    /// A list.
    List(Vec<OwnedValue>),
    /// A dictionary with byte-string keys.
    Dict(BTreeMap<Vec<u8>, OwnedValue>),
}

impl OwnedValue {
    /// A dictionary from `(key, value)` pairs; a repeated key keeps the last value.
    pub fn dict<K: AsRef<[u8]>>(entries: impl IntoIterator<Item = (K, OwnedValue)>) -> Self {
        OwnedValue::Dict(entries.into_iter().map(|(k, v)| (k.as_ref().to_vec(), v)).collect())
    }

    /// A list from values.
    pub fn list(items: impl IntoIterator<Item = OwnedValue>) -> Self {
        OwnedValue::List(items.into_iter().collect())
    }

    /// A byte string.
    pub fn bytes(b: impl Into<Vec<u8>>) -> Self {
        OwnedValue::Bytes(b.into())
    }

    /// Inserts into a dictionary and returns `self`, for chaining.
    ///
    /// # Panics
    /// If `self` is not a dictionary (a programming error).
    pub fn with(mut self, key: impl AsRef<[u8]>, value: impl Into<OwnedValue>) -> Self {
        match &mut self {
            OwnedValue::Dict(map) => {
                map.insert(key.as_ref().to_vec(), value.into());
            }
            other => panic!("OwnedValue::with called on a {}", other.kind()),
        }
        self
    }

    /// Which of the four types this is.
    pub fn kind(&self) -> crate::Kind {
        match self {
            OwnedValue::Int(_) => crate::Kind::Int,
            OwnedValue::Bytes(_) => crate::Kind::Bytes,
            OwnedValue::List(_) => crate::Kind::List,
            OwnedValue::Dict(_) => crate::Kind::Dict,
        }
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// Appends the canonical encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            OwnedValue::Int(n) => write_int(out, *n),
            OwnedValue::Bytes(b) => write_bytes(out, b),
            OwnedValue::List(items) => {
                out.push(b'l');
                for item in items {
                    item.encode_into(out);
                }
                out.push(b'e');
            }
            OwnedValue::Dict(map) => {
                out.push(b'd');
                for (k, v) in map {
                    write_bytes(out, k);
                    v.encode_into(out);
                }
                out.push(b'e');
            }
        }
    }
}

impl fmt::Debug for OwnedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OwnedValue::Int(n) => write!(f, "{n}"),
            OwnedValue::Bytes(b) => write!(f, "{}", ShowKey(b)),
            OwnedValue::List(items) => f.debug_list().entries(items).finish(),
            OwnedValue::Dict(map) => f
                .debug_map()
                .entries(map.iter().map(|(k, v)| (format!("{}", ShowKey(k)), v)))
                .finish(),
        }
    }
}

impl From<i64> for OwnedValue {
    fn from(n: i64) -> Self {
        OwnedValue::Int(n)
    }
}

impl From<&str> for OwnedValue {
    fn from(s: &str) -> Self {
        OwnedValue::Bytes(s.as_bytes().to_vec())
    }
}

impl From<String> for OwnedValue {
    fn from(s: String) -> Self {
        OwnedValue::Bytes(s.into_bytes())
    }
}

impl From<&[u8]> for OwnedValue {
    fn from(b: &[u8]) -> Self {
        OwnedValue::Bytes(b.to_vec())
    }
}

impl From<Vec<u8>> for OwnedValue {
    fn from(b: Vec<u8>) -> Self {
        OwnedValue::Bytes(b)
    }
}

impl From<Vec<OwnedValue>> for OwnedValue {
    fn from(items: Vec<OwnedValue>) -> Self {
        OwnedValue::List(items)
    }
}

/// Appends `i<n>e`.
pub fn write_int(out: &mut Vec<u8>, n: i64) {
    out.push(b'i');
    out.extend_from_slice(n.to_string().as_bytes());
    out.push(b'e');
}

/// Appends `<len>:<bytes>`.
pub fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(bytes.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(bytes);
}

/// Writes a dictionary entry by entry, without building a tree; entries may be
/// pre-encoded bytes copied verbatim (e.g. a torrent's original info dictionary).
///
/// ```
/// use ferrent_bencode::{DictWriter, OwnedValue};
/// let mut out = Vec::new();
/// let mut w = DictWriter::new(&mut out);
/// w.entry(b"a", &OwnedValue::from(1));
/// w.entry_raw(b"info", b"d1:xi2ee").unwrap();
/// w.finish();
/// assert_eq!(out, b"d1:ai1e4:infod1:xi2eee");
/// ```
pub struct DictWriter<'o> {
    out: &'o mut Vec<u8>,
    last_key: Option<Vec<u8>>,
}

impl<'o> DictWriter<'o> {
    /// Starts a dictionary at the end of `out`.
    pub fn new(out: &'o mut Vec<u8>) -> Self {
        out.push(b'd');
        Self { out, last_key: None }
    }

    fn key(&mut self, key: &[u8]) {
        if let Some(last) = &self.last_key {
            assert!(
                last.as_slice() < key,
                "DictWriter keys must be written in strictly increasing order: {} after {}",
                ShowKey(key),
                ShowKey(last)
            );
        }
        self.last_key = Some(key.to_vec());
        write_bytes(self.out, key);
    }

    /// Writes `key` and the encoding of `value`.
    ///
    /// # Panics
    /// If `key` does not sort after the previous key (a programming error).
    pub fn entry(&mut self, key: &[u8], value: &OwnedValue) {
        self.key(key);
        value.encode_into(self.out);
    }

    /// Writes `key` followed by `encoded` verbatim, after checking that `encoded` is exactly
    /// one well-formed value.
    ///
    /// # Panics
    /// If `key` does not sort after the previous key (a programming error).
    pub fn entry_raw(&mut self, key: &[u8], encoded: &[u8]) -> Result<(), DecodeError> {
        crate::decode(encoded)?;
        self.key(key);
        self.out.extend_from_slice(encoded);
        Ok(())
    }

    /// Closes the dictionary.
    pub fn finish(self) {
        self.out.push(b'e');
    }
}
