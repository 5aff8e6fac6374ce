//! Typed access to decoded values, with errors that name the field.

use ferrent_bencode::{Dict, Kind, Value};

use super::error::{At, MetainfoError, Problem};

type Result<T> = std::result::Result<T, MetainfoError>;

fn wrong_type(value: &Value<'_>, expected: Kind, at: &At<'_>) -> MetainfoError {
    at.err(Problem::WrongType { expected, found: value.kind() })
}

/// The value under `key`, or a [`Problem::Missing`] error for `at` (the key's own field).
pub(crate) fn required<'v, 'a>(
    dict: &'v Dict<'a>,
    key: &str,
    at: &At<'_>,
) -> Result<&'v Value<'a>> {
    dict.get(key.as_bytes()).ok_or_else(|| at.err(Problem::Missing))
}

pub(crate) fn dict<'v, 'a>(value: &'v Value<'a>, at: &At<'_>) -> Result<&'v Dict<'a>> {
    value.as_dict().ok_or_else(|| wrong_type(value, Kind::Dict, at))
}

pub(crate) fn list<'v, 'a>(value: &'v Value<'a>, at: &At<'_>) -> Result<&'v [Value<'a>]> {
    value.as_list().ok_or_else(|| wrong_type(value, Kind::List, at))
}

pub(crate) fn int(value: &Value<'_>, at: &At<'_>) -> Result<i64> {
    value.as_int().ok_or_else(|| wrong_type(value, Kind::Int, at))
}

/// A non-negative integer.
pub(crate) fn uint(value: &Value<'_>, at: &At<'_>) -> Result<u64> {
    let n = int(value, at)?;
    u64::try_from(n).map_err(|_| at.err(Problem::Negative(n)))
}

pub(crate) fn bytes<'a>(value: &Value<'a>, at: &At<'_>) -> Result<&'a [u8]> {
    value.as_bytes().ok_or_else(|| wrong_type(value, Kind::Bytes, at))
}

pub(crate) fn utf8<'a>(value: &Value<'a>, at: &At<'_>) -> Result<&'a str> {
    std::str::from_utf8(bytes(value, at)?).map_err(|_| at.err(Problem::NotUtf8))
}

/// A fixed-size hash.
pub(crate) fn hash<const N: usize>(value: &Value<'_>, at: &At<'_>) -> Result<[u8; N]> {
    let b = bytes(value, at)?;
    b.try_into().map_err(|_| at.err(Problem::HashLength { expected: N, found: b.len() }))
}
