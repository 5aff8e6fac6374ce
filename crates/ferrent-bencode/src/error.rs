//! Decode errors and non-fatal quirks.

use std::fmt;

/// Why an input was refused, and where.
///
/// Displays as `at byte 17: expected ':' after string length, found 'x'`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at byte {offset}: {kind}")]
pub struct DecodeError {
    /// Byte offset into the input where the problem was detected.
    pub offset: usize,
    /// What is wrong.
    pub kind: DecodeErrorKind,
}

impl DecodeError {
    pub(crate) fn new(offset: usize, kind: DecodeErrorKind) -> Self {
        Self { offset, kind }
    }
}

/// The kinds of malformed or hostile input the decoder refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended in the middle of a value.
    #[error("unexpected end of input inside {0}")]
    UnexpectedEnd(Context),
    /// A byte that cannot appear here.
    #[error("expected {expected}, found {}", ShowByte(*found))]
    UnexpectedByte {
        /// What the decoder was looking for.
        expected: &'static str,
        /// The byte it found instead.
        found: u8,
    },
    /// `ie`: an integer with no digits.
    #[error("integer has no digits")]
    EmptyInteger,
    /// `i-0e`: negative zero is not canonical.
    #[error("integer is negative zero")]
    NegativeZero,
    /// `i03e`: leading zeros are not canonical.
    #[error("integer has a leading zero")]
    IntegerLeadingZero,
    /// The integer does not fit in an `i64`.
    #[error("integer does not fit in 64 bits")]
    IntegerOverflow,
    /// `03:abc`: a string length with a leading zero.
    #[error("string length has a leading zero")]
    LengthLeadingZero,
    /// The string length runs past the end of the input.
    #[error("string length {len} exceeds the {available} bytes left in the input")]
    StringPastEnd {
        /// The declared length (saturated at `u64::MAX`).
        len: u64,
        /// How many bytes follow the `:`.
        available: usize,
    },
    /// Lists and dictionaries nest deeper than [`Limits::max_depth`](crate::Limits::max_depth).
    #[error("nesting deeper than {max} levels")]
    NestingTooDeep {
        /// The configured limit.
        max: usize,
    },
    /// More values than [`Limits::max_items`](crate::Limits::max_items).
    #[error("more than {max} values")]
    TooManyItems {
        /// The configured limit.
        max: usize,
    },
    /// The input is longer than [`Limits::max_input`](crate::Limits::max_input).
    #[error("input of {len} bytes exceeds the limit of {max} bytes")]
    InputTooLarge {
        /// Length of the input.
        len: usize,
        /// The configured limit.
        max: usize,
    },
    /// The same key appears twice in one dictionary.
    #[error("duplicate dictionary key {}", ShowKey(key))]
    DuplicateKey {
        /// The repeated key.
        key: Vec<u8>,
    },
    /// A dictionary key that is an integer, list or dictionary.
    #[error("dictionary key must be a string, found {0}")]
    NonStringKey(crate::Kind),
    /// A dictionary ends right after a key.
    #[error("dictionary key {} has no value", ShowKey(key))]
    MissingValue {
        /// The key left without a value.
        key: Vec<u8>,
    },
    /// Bytes follow the value (only when the whole input must be one value).
    #[error("{0} bytes of trailing data after the value")]
    TrailingData(usize),
}

/// Which kind of value the decoder was inside when the input ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Looking for the start of a value.
    Value,
    /// Inside an integer.
    Integer,
    /// Inside a string length or its data.
    String,
    /// Inside a list.
    List,
    /// Inside a dictionary.
    Dict,
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Context::Value => "a value",
            Context::Integer => "an integer",
            Context::String => "a string",
            Context::List => "a list",
            Context::Dict => "a dictionary",
        })
    }
}

/// Something accepted but not canonical, reported by [`Decoder::decode`](crate::Decoder::decode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quirk {
    /// Byte offset of the offending item.
    pub offset: usize,
    /// What is unusual.
    pub kind: QuirkKind,
}

/// The kinds of accepted-but-not-canonical input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum QuirkKind {
    /// A dictionary key sorts before the key preceding it.
    UnsortedKeys,
}

impl fmt::Display for Quirk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            QuirkKind::UnsortedKeys => {
                write!(f, "at byte {}: dictionary key out of sorted order", self.offset)
            }
        }
    }
}

/// Formats a byte for an error message: `'x'` when printable ASCII, else `0x1f`.
struct ShowByte(u8);

impl fmt::Display for ShowByte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_ascii_graphic() {
            write!(f, "'{}'", self.0 as char)
        } else {
            write!(f, "0x{:02x}", self.0)
        }
    }
}

/// Formats a key for an error message: quoted, escaped, cut after 64 bytes.
pub(crate) struct ShowKey<'k>(pub(crate) &'k [u8]);

impl fmt::Display for ShowKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 64;
        let shown = self.0.get(..MAX).unwrap_or(self.0);
        f.write_str("\"")?;
        for &b in shown {
            write!(f, "{}", std::ascii::escape_default(b))?;
        }
        if shown.len() < self.0.len() {
            f.write_str("...")?;
        }
        f.write_str("\"")
    }
}
