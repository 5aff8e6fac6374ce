//! Borrowed, decoded values that remember their exact bytes.

use std::fmt;

use crate::error::ShowKey;
use crate::OwnedValue;

/// The four bencode types, for error messages and matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `i42e`
    Int,
    /// `4:spam`
    Bytes,
    /// `l...e`
    List,
    /// `d...e`
    Dict,
}

impl Kind {
    /// A human name: "integer", "string", "list" or "dictionary".
    pub fn name(self) -> &'static str {
        match self {
            Kind::Int => "integer",
            Kind::Bytes => "string",
            Kind::List => "list",
            Kind::Dict => "dictionary",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A decoded value borrowing from the input, with its exact byte span.
///
/// [`raw`](Value::raw) returns the bytes the value was decoded from, so hashes can be computed
/// over the original encoding (the info hash of a torrent, for instance).
#[derive(Clone, PartialEq, Eq)]
pub struct Value<'a> {
    raw: &'a [u8],
    offset: usize,
    data: Data<'a>,
}

#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Data<'a> {
    Int(i64),
    Bytes(&'a [u8]),
    List(Vec<Value<'a>>),
    Dict(Dict<'a>),
}

impl<'a> Value<'a> {
    pub(crate) fn new(raw: &'a [u8], offset: usize, data: Data<'a>) -> Self {
        Self { raw, offset, data }
    }

    /// The exact bytes this value was decoded from.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Byte offset of the value's first byte in the decoded input.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Byte offset just past the value's last byte in the decoded input.
    pub fn end(&self) -> usize {
        self.offset + self.raw.len()
    }

    /// Which of the four types this is.
    pub fn kind(&self) -> Kind {
        match self.data {
            Data::Int(_) => Kind::Int,
            Data::Bytes(_) => Kind::Bytes,
            Data::List(_) => Kind::List,
            Data::Dict(_) => Kind::Dict,
        }
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self.data {
            Data::Int(n) => Some(n),
            _ => None,
        }
    }

    /// The string's bytes, if this is a string.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self.data {
            Data::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The string as UTF-8, if this is a string and valid UTF-8.
    pub fn as_str(&self) -> Option<&'a str> {
        self.as_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The elements, if this is a list.
    pub fn as_list(&self) -> Option<&[Value<'a>]> {
        match &self.data {
            Data::List(items) => Some(items),
            _ => None,
        }
    }

    /// The dictionary, if this is one.
    pub fn as_dict(&self) -> Option<&Dict<'a>> {
        match &self.data {
            Data::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// Looks up `key` when this is a dictionary; `None` otherwise or when absent.
    pub fn get(&self, key: &[u8]) -> Option<&Value<'a>> {
        self.as_dict()?.get(key)
    }

    /// Copies the value into an [`OwnedValue`] (dictionary keys end up sorted).
    pub fn to_owned(&self) -> OwnedValue {
        match &self.data {
            Data::Int(n) => OwnedValue::Int(*n),
            Data::Bytes(b) => OwnedValue::Bytes(b.to_vec()),
            Data::List(items) => OwnedValue::List(items.iter().map(Value::to_owned).collect()),
            Data::Dict(d) => {
                OwnedValue::Dict(d.iter().map(|(k, v)| (k.to_vec(), v.to_owned())).collect())
            }
        }
    }
}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.data {
            Data::Int(n) => write!(f, "{n}"),
            Data::Bytes(b) => write!(f, "{}", ShowKey(b)),
            Data::List(items) => f.debug_list().entries(items).finish(),
            Data::Dict(d) => fmt::Debug::fmt(d, f),
        }
    }
}

/// A decoded dictionary. Entries keep their input order; keys are unique.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Dict<'a> {
    entries: Vec<(&'a [u8], Value<'a>)>,
}

impl<'a> Dict<'a> {
    pub(crate) fn from_entries(entries: Vec<(&'a [u8], Value<'a>)>) -> Self {
        Self { entries }
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &[u8]) -> Option<&Value<'a>> {
        self.entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Entries in input order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&'a [u8], &Value<'a>)> + '_ {
        self.entries.iter().map(|(k, v)| (*k, v))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the dictionary has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl fmt::Debug for Dict<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in &self.entries {
            m.key(&format_args!("{}", ShowKey(k))).value(v);
        }
        m.finish()
    }
}
