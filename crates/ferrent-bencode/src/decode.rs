//! The decoder: iterative (no recursion), bounded by [`Limits`].

use crate::error::{Context, DecodeError, DecodeErrorKind as E, Quirk, QuirkKind};
use crate::value::{Data, Dict, Kind, Value};

/// Bounds that keep hostile input from exhausting memory or time.
///
/// The decoder never recurses, so `max_depth` only bounds the nesting of the values it
/// returns; keep it modest, because dropping or walking a value is recursive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest allowed nesting of lists and dictionaries (default 256).
    pub max_depth: usize,
    /// Most values (keys included) in one input (default 2,000,000).
    pub max_items: usize,
    /// Longest accepted input in bytes (default 64 MiB).
    pub max_input: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_depth: 256, max_items: 2_000_000, max_input: 64 << 20 }
    }
}

/// A configurable decoder; the free functions cover the common cases.
///
/// ```
/// use ferrent_bencode::{Decoder, QuirkKind};
/// let out = Decoder::new().allow_trailing(true).decode(b"d1:bi1e1:ai2eeRAW").unwrap();
/// assert_eq!(out.len, 14);
/// assert_eq!(out.quirks[0].kind, QuirkKind::UnsortedKeys);
/// assert_eq!(out.quirks[0].offset, 7);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    limits: Limits,
    allow_trailing: bool,
}

/// What [`Decoder::decode`] returns.
#[derive(Debug, Clone)]
pub struct Decoded<'a> {
    /// The value at the start of the input.
    pub value: Value<'a>,
    /// How many input bytes the value occupies.
    pub len: usize,
    /// Non-canonical but accepted details, in input order.
    pub quirks: Vec<Quirk>,
}

impl Decoder {
    /// A decoder with default [`Limits`] that refuses trailing data.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// When true, bytes after the first value are left alone instead of refused.
    pub fn allow_trailing(mut self, allow: bool) -> Self {
        self.allow_trailing = allow;
        self
    }

    /// Decodes one value from the start of `input`.
    pub fn decode<'a>(&self, input: &'a [u8]) -> Result<Decoded<'a>, DecodeError> {
        if input.len() > self.limits.max_input {
            return Err(DecodeError::new(
                0,
                E::InputTooLarge { len: input.len(), max: self.limits.max_input },
            ));
        }
        let mut parser =
            Parser { input, pos: 0, limits: &self.limits, items: 0, quirks: Vec::new() };
        let value = parser.run()?;
        let len = parser.pos;
        if !self.allow_trailing && len < input.len() {
            return Err(DecodeError::new(len, E::TrailingData(input.len() - len)));
        }
        Ok(Decoded { value, len, quirks: parser.quirks })
    }
}

/// Decodes `input`, which must be exactly one value, with default [`Limits`].
///
/// ```
/// let v = ferrent_bencode::decode(b"d4:spaml1:a1:bee").unwrap();
/// assert_eq!(v.get(b"spam").unwrap().raw(), b"l1:a1:be");
/// assert!(ferrent_bencode::decode(b"i1ei2e").is_err());
/// ```
pub fn decode(input: &[u8]) -> Result<Value<'_>, DecodeError> {
    Decoder::new().decode(input).map(|d| d.value)
}

/// Like [`decode`] with caller-chosen limits.
pub fn decode_with<'a>(input: &'a [u8], limits: &Limits) -> Result<Value<'a>, DecodeError> {
    Decoder::new().limits(*limits).decode(input).map(|d| d.value)
}

/// Decodes the value at the start of `input` and returns it with its length; what follows
/// is left alone (BEP 9 metadata messages put raw data after a dictionary).
pub fn decode_prefix(input: &[u8]) -> Result<(Value<'_>, usize), DecodeError> {
    Decoder::new().allow_trailing(true).decode(input).map(|d| (d.value, d.len))
}

/// Like [`decode`], also reporting accepted quirks such as unsorted dictionary keys.
pub fn decode_report(input: &[u8]) -> Result<(Value<'_>, Vec<Quirk>), DecodeError> {
    Decoder::new().decode(input).map(|d| (d.value, d.quirks))
}

/// A list or dictionary still being read. Its children live on the parser's shared
/// `values` and `keys` stacks from the recorded positions on, and move into one exactly
/// sized vector when the container closes.
struct Frame {
    start: usize,
    dict: bool,
    values_from: usize,
    keys_from: usize,
    /// Set when a key sorted before its predecessor: duplicates need a full check.
    unsorted: bool,
}

struct Parser<'a, 'l> {
    input: &'a [u8],
    pos: usize,
    limits: &'l Limits,
    items: usize,
    quirks: Vec<Quirk>,
}

/// What reading at the current position produced.
enum Step<'a> {
    /// A complete value.
    Value(Value<'a>),
    /// A new list (`dict == false`) or dictionary to fill.
    Open { dict: bool },
    /// A dictionary key, now pending on the top frame.
    Key,
}

impl<'a> Parser<'a, '_> {
    fn err<T>(&self, offset: usize, kind: E) -> Result<T, DecodeError> {
        Err(DecodeError::new(offset, kind))
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn run(&mut self) -> Result<Value<'a>, DecodeError> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut values: Vec<Value<'a>> = Vec::new();
        let mut keys: Vec<&'a [u8]> = Vec::new();
        loop {
            let step = match stack.last_mut() {
                None => self.start_value(Context::Value)?,
                Some(frame) if !frame.dict => {
                    if self.peek() == Some(b'e') {
                        self.pos += 1;
                        let items: Vec<Value<'a>> = values.drain(frame.values_from..).collect();
                        let start = frame.start;
                        stack.pop();
                        Step::Value(self.finish(start, Data::List(items)))
                    } else {
                        self.start_value(Context::List)?
                    }
                }
                Some(frame) => {
                    let own_keys = &keys[frame.keys_from..];
                    if own_keys.len() > values.len() - frame.values_from {
                        // A key is waiting for its value.
                        if self.peek() == Some(b'e') {
                            let key = own_keys.last().map_or(Vec::new(), |k| k.to_vec());
                            return self.err(self.pos, E::MissingValue { key });
                        }
                        self.start_value(Context::Dict)?
                    } else {
                        match self.peek() {
                            Some(b'e') => {
                                if frame.unsorted {
                                    self.check_duplicates(own_keys)?;
                                }
                                self.pos += 1;
                                let entries: Vec<(&'a [u8], Value<'a>)> = keys
                                    .drain(frame.keys_from..)
                                    .zip(values.drain(frame.values_from..))
                                    .collect();
                                let start = frame.start;
                                stack.pop();
                                let dict = Dict::from_entries(entries);
                                Step::Value(self.finish(start, Data::Dict(dict)))
                            }
                            Some(b'0'..=b'9') => {
                                let offset = self.pos;
                                self.count_item()?;
                                let key = self.read_string()?;
                                if let Some(&last) = own_keys.last() {
                                    if key == last {
                                        let key = key.to_vec();
                                        return self.err(offset, E::DuplicateKey { key });
                                    }
                                    if key < last {
                                        frame.unsorted = true;
                                        let kind = QuirkKind::UnsortedKeys;
                                        self.quirks.push(Quirk { offset, kind });
                                    }
                                }
                                keys.push(key);
                                Step::Key
                            }
                            Some(b'i') => return self.err(self.pos, E::NonStringKey(Kind::Int)),
                            Some(b'l') => return self.err(self.pos, E::NonStringKey(Kind::List)),
                            Some(b'd') => return self.err(self.pos, E::NonStringKey(Kind::Dict)),
                            Some(found) => {
                                let expected = "a string key or 'e'";
                                return self.err(self.pos, E::UnexpectedByte { expected, found });
                            }
                            None => return self.err(self.pos, E::UnexpectedEnd(Context::Dict)),
                        }
                    }
                }
            };
            match step {
                Step::Key => {}
                Step::Open { dict } => {
                    let start = self.pos - 1;
                    if stack.len() >= self.limits.max_depth {
                        return self.err(start, E::NestingTooDeep { max: self.limits.max_depth });
                    }
                    let (values_from, keys_from) = (values.len(), keys.len());
                    stack.push(Frame { start, dict, values_from, keys_from, unsorted: false });
                }
                Step::Value(value) => {
                    if stack.is_empty() {
                        return Ok(value);
                    }
                    values.push(value);
                }
            }
        }
    }

    fn finish(&self, start: usize, data: Data<'a>) -> Value<'a> {
        Value::new(&self.input[start..self.pos], start, data)
    }

    fn count_item(&mut self) -> Result<(), DecodeError> {
        self.items += 1;
        if self.items > self.limits.max_items {
            return self.err(self.pos, E::TooManyItems { max: self.limits.max_items });
        }
        Ok(())
    }

    /// Reads an integer or string, or opens a container; `ctx` names the enclosing value for
    /// end-of-input errors.
    fn start_value(&mut self, ctx: Context) -> Result<Step<'a>, DecodeError> {
        let start = self.pos;
        let Some(byte) = self.peek() else {
            return self.err(start, E::UnexpectedEnd(ctx));
        };
        self.count_item()?;
        match byte {
            b'i' => {
                let n = self.read_int()?;
                Ok(Step::Value(self.finish(start, Data::Int(n))))
            }
            b'0'..=b'9' => {
                let s = self.read_string()?;
                Ok(Step::Value(self.finish(start, Data::Bytes(s))))
            }
            b'l' | b'd' => {
                self.pos += 1;
                Ok(Step::Open { dict: byte == b'd' })
            }
            found => self.err(start, E::UnexpectedByte { expected: "a value", found }),
        }
    }

    /// Reads `i<digits>e` at the current position.
    fn read_int(&mut self) -> Result<i64, DecodeError> {
        self.pos += 1; // 'i'
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let digits_start = self.pos;
        // Accumulate towards the sign so that i64::MIN fits.
        let mut n: i64 = 0;
        loop {
            match self.peek() {
                Some(d @ b'0'..=b'9') => {
                    if self.pos > digits_start && n == 0 {
                        return self.err(digits_start, E::IntegerLeadingZero);
                    }
                    let digit = i64::from(d - b'0');
                    n = n
                        .checked_mul(10)
                        .and_then(|n| {
                            if negative {
                                n.checked_sub(digit)
                            } else {
                                n.checked_add(digit)
                            }
                        })
                        .ok_or(DecodeError::new(digits_start, E::IntegerOverflow))?;
                    self.pos += 1;
                }
                Some(b'e') => break,
                Some(found) => {
                    return self
                        .err(self.pos, E::UnexpectedByte { expected: "a digit or 'e'", found })
                }
                None => return self.err(self.pos, E::UnexpectedEnd(Context::Integer)),
            }
        }
        if self.pos == digits_start {
            return self.err(digits_start, E::EmptyInteger);
        }
        if negative && n == 0 {
            return self.err(digits_start - 1, E::NegativeZero);
        }
        self.pos += 1; // 'e'
        Ok(n)
    }

    /// Reads `<len>:<bytes>` at the current position without allocating.
    fn read_string(&mut self) -> Result<&'a [u8], DecodeError> {
        let start = self.pos;
        let mut len: u64 = 0;
        loop {
            match self.peek() {
                Some(d @ b'0'..=b'9') => {
                    if self.pos > start && len == 0 {
                        return self.err(start, E::LengthLeadingZero);
                    }
                    len = len.saturating_mul(10).saturating_add(u64::from(d - b'0'));
                    self.pos += 1;
                }
                Some(b':') => break,
                Some(found) => {
                    return self.err(
                        self.pos,
                        E::UnexpectedByte { expected: "':' after string length", found },
                    )
                }
                None => return self.err(self.pos, E::UnexpectedEnd(Context::String)),
            }
        }
        self.pos += 1; // ':'
        let available = self.input.len() - self.pos;
        match usize::try_from(len) {
            Ok(n) if n <= available => {
                let data = &self.input[self.pos..self.pos + n];
                self.pos += n;
                Ok(data)
            }
            _ => self.err(start, E::StringPastEnd { len, available }),
        }
    }

    /// Full duplicate check for a dictionary whose keys were not all in order.
    fn check_duplicates(&self, keys: &[&'a [u8]]) -> Result<(), DecodeError> {
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_unstable_by(|&a, &b| keys[a].cmp(keys[b]).then(a.cmp(&b)));
        let first_dup = order.windows(2).filter(|w| keys[w[0]] == keys[w[1]]).map(|w| w[1]).min();
        match first_dup {
            None => Ok(()),
            Some(i) => {
                let key = keys[i];
                self.err(self.key_offset(key), E::DuplicateKey { key: key.to_vec() })
            }
        }
    }

    /// The offset of a key's length prefix; `key` borrows from the input.
    fn key_offset(&self, key: &[u8]) -> usize {
        let data = key.as_ptr() as usize - self.input.as_ptr() as usize;
        let digits = key.len().checked_ilog10().map_or(1, |l| l as usize + 1);
        data - 1 - digits
    }
}
