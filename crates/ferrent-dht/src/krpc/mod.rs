//! KRPC, the DHT's bencoded UDP protocol (BEP 5), with BEP 32 `nodes6`/`want`, BEP 42 `ip`
//! and BEP 43 `ro`.
//!
//! A datagram is one [`Message`]: a query, a response or an error, tied together by a
//! transaction id. Responses do not say which query they answer, so [`Response`] holds every
//! field any of the four queries can return; the caller matches it to its transaction.

mod decode;
mod encode;
mod error;

use std::net::SocketAddr;

use ferrent_core::InfoHashV1;

use crate::addr::NodeInfo;
use crate::id::NodeId;

pub use error::{KrpcError, KrpcErrorKind};

/// Datagrams longer than this are refused unread (a typical Ethernet MTU).
pub const MAX_PACKET: usize = 1500;
/// Longest accepted transaction id.
pub const MAX_TRANSACTION_ID: usize = 32;
/// Longest accepted announce token.
pub const MAX_TOKEN: usize = 64;
/// Longest kept client version string (`v`); longer ones are dropped.
pub const MAX_VERSION: usize = 16;
/// Longest kept error message; longer ones are cut.
pub const MAX_ERROR_MESSAGE: usize = 256;

/// One KRPC datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Echoed by the responder so the querier can match answers to queries (`t`).
    pub transaction_id: Vec<u8>,
    /// The sender's client and version, if it said (`v`).
    pub version: Option<Vec<u8>>,
    /// BEP 43: the sender will not answer queries and must not enter routing tables (`ro`).
    pub read_only: bool,
    /// BEP 42: the address the responder saw the query come from (`ip`).
    pub ip: Option<SocketAddr>,
    /// What the message says.
    pub body: Body,
}

/// The three message types (`y`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// `y = q`.
    Query(Query),
    /// `y = r`.
    Response(Response),
    /// `y = e`.
    Error(ErrorBody),
}

/// A query (`q` names the method, `a` holds the arguments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The querying node's id (`a.id`).
    pub id: NodeId,
    /// The method and its own arguments.
    pub method: Method,
    /// BEP 32: which address families of nodes the querier wants (`a.want`).
    pub want: Option<Want>,
}

/// The four BEP 5 methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// `ping`: are you there?
    Ping,
    /// `find_node`: the nodes you know closest to `target`.
    FindNode {
        /// The id sought.
        target: NodeId,
    },
    /// `get_peers`: peers of a torrent, or the nodes closest to it, and a token.
    GetPeers {
        /// The torrent.
        info_hash: InfoHashV1,
    },
    /// `announce_peer`: the querier is a peer of the torrent.
    AnnouncePeer {
        /// The torrent.
        info_hash: InfoHashV1,
        /// The peer's port (`port`); ignored when `implied_port` is set.
        port: u16,
        /// Use the UDP source port instead of `port` (`implied_port = 1`).
        implied_port: bool,
        /// The token the responder gave in its `get_peers` answer.
        token: Vec<u8>,
    },
}

impl Method {
    /// The method name as sent in `q`.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Ping => "ping",
            Method::FindNode { .. } => "find_node",
            Method::GetPeers { .. } => "get_peers",
            Method::AnnouncePeer { .. } => "announce_peer",
        }
    }
}

/// BEP 32 `want`: which node lists a querier asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Want {
    /// `n4`: IPv4 nodes in `nodes`.
    pub v4: bool,
    /// `n6`: IPv6 nodes in `nodes6`.
    pub v6: bool,
}

/// A response (`r`): every field any method returns; absent fields are empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The responder's id (`r.id`).
    pub id: NodeId,
    /// IPv4 nodes (`r.nodes`).
    pub nodes: Vec<NodeInfo>,
    /// IPv6 nodes (`r.nodes6`, BEP 32).
    pub nodes6: Vec<NodeInfo>,
    /// Peers of the torrent (`r.values`), for `get_peers`.
    pub values: Vec<SocketAddr>,
    /// The token to present in a later `announce_peer` (`r.token`), for `get_peers`.
    pub token: Option<Vec<u8>>,
}

impl Response {
    /// A response carrying only the responder's id (the answer to `ping` and
    /// `announce_peer`).
    pub fn id_only(id: NodeId) -> Self {
        Self { id, nodes: Vec::new(), nodes6: Vec::new(), values: Vec::new(), token: None }
    }
}

/// An error message (`e`): a code and a human-readable reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    /// The error code.
    pub code: ErrorCode,
    /// The reason, lossily decoded as UTF-8 and cut to [`MAX_ERROR_MESSAGE`] bytes.
    pub message: String,
}

/// KRPC error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 201: generic error.
    Generic,
    /// 202: server error.
    Server,
    /// 203: protocol error (malformed packet, invalid arguments, bad token).
    Protocol,
    /// 204: method unknown.
    MethodUnknown,
    /// Any other code.
    Other(i64),
}

impl ErrorCode {
    /// The numeric code.
    pub fn code(self) -> i64 {
        match self {
            ErrorCode::Generic => 201,
            ErrorCode::Server => 202,
            ErrorCode::Protocol => 203,
            ErrorCode::MethodUnknown => 204,
            ErrorCode::Other(n) => n,
        }
    }

    /// The variant for a numeric code.
    pub fn from_code(code: i64) -> Self {
        match code {
            201 => ErrorCode::Generic,
            202 => ErrorCode::Server,
            203 => ErrorCode::Protocol,
            204 => ErrorCode::MethodUnknown,
            n => ErrorCode::Other(n),
        }
    }
}

impl Message {
    /// A message with no version, `ro` or `ip`.
    pub fn new(transaction_id: Vec<u8>, body: Body) -> Self {
        Self { transaction_id, version: None, read_only: false, ip: None, body }
    }

    /// Parses one datagram, refusing anything longer than `max_len` bytes.
    ///
    /// Unknown keys are ignored (BEP 5 leaves room for extensions); known keys must have the
    /// right type and length. On failure the error still carries the transaction id when
    /// the datagram was a readable query, so the caller can answer with a KRPC error.
    pub fn decode(bytes: &[u8], max_len: usize) -> Result<Message, KrpcError> {
        decode::decode(bytes, max_len)
    }

    /// The bencoded datagram.
    pub fn encode(&self) -> Vec<u8> {
        encode::encode(self)
    }
}

#[cfg(test)]
mod tests;
