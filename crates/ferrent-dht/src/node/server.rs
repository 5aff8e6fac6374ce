//! Answering other nodes' queries.

use std::net::SocketAddr;
use std::time::Instant;

use crate::addr::{Family, NodeInfo, COMPACT_PEER_V4, COMPACT_PEER_V6};
use crate::bep42;
use crate::id::NodeId;
use crate::krpc::{Body, ErrorBody, ErrorCode, KrpcError, Message, Method, Query, Response, Want};

use super::Dht;

/// Bytes a `get_peers` answer needs besides its values: envelope, id, token, `ip`, version
/// and `k` compact nodes are well under this for k = 8.
const ANSWER_OVERHEAD: usize = 400;

impl Dht {
    /// Answers a query, unless read-only or over the rate limit.
    pub(super) fn on_query(
        &mut self,
        from: SocketAddr,
        tid: Vec<u8>,
        sender_read_only: bool,
        query: Query,
        now: Instant,
    ) {
        if self.config.read_only || query.id == self.id {
            return;
        }
        if !self.limiter.allow(from, now) {
            return;
        }
        if !sender_read_only {
            self.note_querier(query.id, from, now);
        }
        let body = match query.method {
            Method::Ping => Body::Response(Response::id_only(self.id)),
            Method::FindNode { target } => {
                Body::Response(self.nodes_answer(&target, query.want, from, now))
            }
            Method::GetPeers { info_hash } => {
                let mut answer = self.nodes_answer(&info_hash.into(), query.want, from, now);
                let max = self.max_values(from);
                answer.values = self.store.peers(&info_hash, max, now, &mut self.rng);
                answer.token = Some(self.tokens.issue(from.ip()).to_vec());
                Body::Response(answer)
            }
            Method::AnnouncePeer { info_hash, port, implied_port, token } => {
                let port = if implied_port { from.port() } else { port };
                if !self.tokens.verify(from.ip(), &token) {
                    error_body(ErrorCode::Protocol, "bad token")
                } else if port == 0 {
                    error_body(ErrorCode::Protocol, "invalid port")
                } else {
                    self.store.announce(info_hash, SocketAddr::new(from.ip(), port), now);
                    Body::Response(Response::id_only(self.id))
                }
            }
        };
        self.reply(from, tid, body);
    }

    /// Answers an unreadable query that had a transaction id with a KRPC error.
    pub(super) fn on_malformed(&mut self, from: SocketAddr, error: &KrpcError, now: Instant) {
        let (Some(code), Some(tid)) = (error.reply_code(), &error.transaction_id) else {
            return;
        };
        if self.config.read_only || !self.limiter.allow(from, now) {
            return;
        }
        let reason = match code {
            ErrorCode::MethodUnknown => "method unknown",
            _ => "malformed query",
        };
        self.reply(from, tid.clone(), error_body(code, reason));
    }

    fn reply(&mut self, to: SocketAddr, tid: Vec<u8>, body: Body) {
        let message = Message {
            transaction_id: tid,
            version: self.config.version.clone(),
            read_only: false,
            ip: Some(to),
            body,
        };
        self.send(to, &message);
    }

    /// The `k` closest nodes to `target`, in the list(s) the querier wants. A node routes in
    /// one family, so a querier wanting only the other family gets an empty answer.
    fn nodes_answer(
        &self,
        target: &NodeId,
        want: Option<Want>,
        from: SocketAddr,
        now: Instant,
    ) -> Response {
        let family = self.config.family;
        let wanted = match want {
            Some(w) => match family {
                Family::V4 => w.v4,
                Family::V6 => w.v6,
            },
            None => Family::of(&from) == family,
        };
        let mut answer = Response::id_only(self.id);
        if wanted {
            let nodes = self.table.closest(target, self.config.table.k, now);
            match family {
                Family::V4 => answer.nodes = nodes,
                Family::V6 => answer.nodes6 = nodes,
            }
        }
        answer
    }

    /// Peers per `get_peers` answer: the configured maximum, lowered so the datagram fits.
    fn max_values(&self, to: SocketAddr) -> usize {
        let per_value = match Family::of(&to) {
            Family::V4 => COMPACT_PEER_V4 + 2,
            Family::V6 => COMPACT_PEER_V6 + 3,
        };
        let room = self.config.max_packet.saturating_sub(ANSWER_OVERHEAD) / per_value;
        self.config.max_values.min(room)
    }

    /// A node that queries us is live; if it is new and would fit, ping it so it can join
    /// the routing table (only nodes that answer queries do).
    fn note_querier(&mut self, id: NodeId, from: SocketAddr, now: Instant) {
        if self.table.on_query(&id, &from, now) || !self.may_route(&NodeInfo { id, addr: from }) {
            return;
        }
        if self.table.would_accept(&id, from.ip(), now) && !self.rpc.is_querying(&from) {
            self.ping(from, Some(id), now);
        }
    }

    /// Whether a node may enter the routing table: address policy, family, BEP 42.
    pub(super) fn may_route(&self, node: &NodeInfo) -> bool {
        node.id != self.id
            && self.may_contact(&node.addr)
            && (!self.config.enforce_node_id || bep42::id_matches_ip(&node.id, node.addr.ip()))
    }
}

fn error_body(code: ErrorCode, message: &str) -> Body {
    Body::Error(ErrorBody { code, message: message.to_owned() })
}
