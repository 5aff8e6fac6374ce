//! Parsing datagrams into [`Message`]s.

use ferrent_bencode::{decode_with, Dict, Kind, Limits, Value};
use ferrent_core::InfoHashV1;

use super::error::{KrpcError, KrpcErrorKind as E};
use super::{
    Body, ErrorBody, ErrorCode, Message, Method, Query, Response, Want, MAX_ERROR_MESSAGE,
    MAX_TOKEN, MAX_TRANSACTION_ID, MAX_VERSION,
};
use crate::addr::{read_compact_nodes, read_compact_peer, Family};
use crate::id::NodeId;

/// KRPC nests at most three levels (message, arguments, `want`/`values`); extensions get a
/// little room, hostile nesting gets none.
const MAX_DEPTH: usize = 8;

pub(super) fn decode(bytes: &[u8], max_len: usize) -> Result<Message, KrpcError> {
    if bytes.len() > max_len {
        return Err(KrpcError::bare(E::TooLarge { len: bytes.len(), max: max_len }));
    }
    let limits = Limits { max_depth: MAX_DEPTH, max_items: max_len, max_input: max_len };
    let value = decode_with(bytes, &limits).map_err(|e| KrpcError::bare(E::Bencode(e)))?;
    let dict = value.as_dict().ok_or_else(|| KrpcError::bare(E::NotADict(value.kind())))?;

    let y = required_bytes(dict, b"y", "y").map_err(KrpcError::bare)?;
    let was_query = y == b"q";
    let tid = required_bytes(dict, b"t", "t")
        .and_then(|t| check_max_len(t, "t", MAX_TRANSACTION_ID, "at most 32"))
        .map_err(|kind| KrpcError { kind, transaction_id: None, was_query })?;
    let fail = |kind| KrpcError { kind, transaction_id: Some(tid.to_vec()), was_query };

    let body = match y {
        b"q" => decode_query(dict).map(Body::Query),
        b"r" => decode_response(dict).map(Body::Response),
        b"e" => decode_error(dict).map(Body::Error),
        other => Err(E::UnknownType(lossy(other, 16))),
    }
    .map_err(fail)?;

    // Informational keys: kept when well formed, ignored otherwise.
    let version = dict
        .get(b"v")
        .and_then(Value::as_bytes)
        .filter(|v| v.len() <= MAX_VERSION)
        .map(<[u8]>::to_vec);
    let read_only = dict.get(b"ro").and_then(Value::as_int) == Some(1);
    let ip = dict.get(b"ip").and_then(Value::as_bytes).and_then(read_compact_peer);
    Ok(Message { transaction_id: tid.to_vec(), version, read_only, ip, body })
}

fn decode_query(dict: &Dict<'_>) -> Result<Query, E> {
    let method = required_bytes(dict, b"q", "q")?;
    let args = match dict.get(b"a") {
        Some(a) => {
            a.as_dict().ok_or(E::WrongType { field: "a", expected: Kind::Dict, found: a.kind() })?
        }
        None => return Err(E::Missing("a")),
    };
    let id = NodeId(id20(args, b"id", "a.id")?);
    let want = decode_want(args)?;
    let method = match method {
        b"ping" => Method::Ping,
        b"find_node" => Method::FindNode { target: NodeId(id20(args, b"target", "a.target")?) },
        b"get_peers" => {
            Method::GetPeers { info_hash: InfoHashV1(id20(args, b"info_hash", "a.info_hash")?) }
        }
        b"announce_peer" => {
            let info_hash = InfoHashV1(id20(args, b"info_hash", "a.info_hash")?);
            let implied_port =
                optional_int(args, b"implied_port", "a.implied_port")?.is_some_and(|v| v != 0);
            let port = match optional_int(args, b"port", "a.port")? {
                Some(p) => {
                    u16::try_from(p).map_err(|_| E::OutOfRange { field: "a.port", value: p })?
                }
                None if implied_port => 0,
                None => return Err(E::Missing("a.port")),
            };
            let token = required_bytes(args, b"token", "a.token")?;
            let token = check_max_len(token, "a.token", MAX_TOKEN, "at most 64")?.to_vec();
            Method::AnnouncePeer { info_hash, port, implied_port, token }
        }
        other => return Err(E::UnknownMethod(lossy(other, 32))),
    };
    Ok(Query { id, method, want })
}

fn decode_want(args: &Dict<'_>) -> Result<Option<Want>, E> {
    let Some(value) = args.get(b"want") else { return Ok(None) };
    let list = value.as_list().ok_or(E::WrongType {
        field: "a.want",
        expected: Kind::List,
        found: value.kind(),
    })?;
    let mut want = Want::default();
    for item in list {
        match item.as_bytes() {
            Some(b"n4") => want.v4 = true,
            Some(b"n6") => want.v6 = true,
            Some(_) => {} // future families
            None => {
                return Err(E::WrongType {
                    field: "a.want",
                    expected: Kind::Bytes,
                    found: item.kind(),
                })
            }
        }
    }
    Ok(Some(want))
}

fn decode_response(dict: &Dict<'_>) -> Result<Response, E> {
    let r = match dict.get(b"r") {
        Some(r) => {
            r.as_dict().ok_or(E::WrongType { field: "r", expected: Kind::Dict, found: r.kind() })?
        }
        None => return Err(E::Missing("r")),
    };
    let id = NodeId(id20(r, b"id", "r.id")?);
    let nodes = match optional_bytes(r, b"nodes", "r.nodes")? {
        Some(b) => read_compact_nodes(b, Family::V4).ok_or(E::BadLength {
            field: "r.nodes",
            len: b.len(),
            expected: "a multiple of 26",
        })?,
        None => Vec::new(),
    };
    let nodes6 = match optional_bytes(r, b"nodes6", "r.nodes6")? {
        Some(b) => read_compact_nodes(b, Family::V6).ok_or(E::BadLength {
            field: "r.nodes6",
            len: b.len(),
            expected: "a multiple of 38",
        })?,
        None => Vec::new(),
    };
    let values = match r.get(b"values") {
        Some(v) => {
            let list = v.as_list().ok_or(E::WrongType {
                field: "r.values",
                expected: Kind::List,
                found: v.kind(),
            })?;
            let mut peers = Vec::with_capacity(list.len());
            for (index, item) in list.iter().enumerate() {
                let bytes = item.as_bytes().ok_or(E::WrongType {
                    field: "r.values",
                    expected: Kind::Bytes,
                    found: item.kind(),
                })?;
                let peer =
                    read_compact_peer(bytes).ok_or(E::BadPeer { index, len: bytes.len() })?;
                peers.push(peer);
            }
            peers
        }
        None => Vec::new(),
    };
    let token = match optional_bytes(r, b"token", "r.token")? {
        Some(t) => Some(check_max_len(t, "r.token", MAX_TOKEN, "at most 64")?.to_vec()),
        None => None,
    };
    Ok(Response { id, nodes, nodes6, values, token })
}

fn decode_error(dict: &Dict<'_>) -> Result<ErrorBody, E> {
    let list = dict.get(b"e").ok_or(E::Missing("e"))?.as_list().ok_or(E::BadErrorList)?;
    match list {
        [code, message] => {
            let code = code.as_int().ok_or(E::BadErrorList)?;
            let message = message.as_bytes().ok_or(E::BadErrorList)?;
            Ok(ErrorBody {
                code: ErrorCode::from_code(code),
                message: lossy(message, MAX_ERROR_MESSAGE),
            })
        }
        _ => Err(E::BadErrorList),
    }
}

fn optional_bytes<'a>(
    dict: &Dict<'a>,
    key: &[u8],
    field: &'static str,
) -> Result<Option<&'a [u8]>, E> {
    match dict.get(key) {
        None => Ok(None),
        Some(v) => v.as_bytes().map(Some).ok_or(E::WrongType {
            field,
            expected: Kind::Bytes,
            found: v.kind(),
        }),
    }
}

fn required_bytes<'a>(dict: &Dict<'a>, key: &[u8], field: &'static str) -> Result<&'a [u8], E> {
    optional_bytes(dict, key, field)?.ok_or(E::Missing(field))
}

fn optional_int(dict: &Dict<'_>, key: &[u8], field: &'static str) -> Result<Option<i64>, E> {
    match dict.get(key) {
        None => Ok(None),
        Some(v) => {
            v.as_int().map(Some).ok_or(E::WrongType { field, expected: Kind::Int, found: v.kind() })
        }
    }
}

fn id20(dict: &Dict<'_>, key: &[u8], field: &'static str) -> Result<[u8; 20], E> {
    let bytes = required_bytes(dict, key, field)?;
    bytes.try_into().map_err(|_| E::BadLength { field, len: bytes.len(), expected: "20" })
}

fn check_max_len<'a>(
    bytes: &'a [u8],
    field: &'static str,
    max: usize,
    expected: &'static str,
) -> Result<&'a [u8], E> {
    if bytes.len() > max {
        return Err(E::BadLength { field, len: bytes.len(), expected });
    }
    Ok(bytes)
}

/// Text for an error message or report: lossy UTF-8 of at most `max` input bytes.
fn lossy(bytes: &[u8], max: usize) -> String {
    String::from_utf8_lossy(bytes.get(..max).unwrap_or(bytes)).into_owned()
}
