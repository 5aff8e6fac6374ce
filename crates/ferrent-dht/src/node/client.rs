//! Sending queries and handling their answers, errors and timeouts.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use crate::addr::{canonical_ip, Family, NodeInfo};
use crate::id::NodeId;
use crate::krpc::{Body, Message, Method, Query, Response};
use crate::lookup::LookupId;
use crate::routing::Inserted;

use super::rpc::{Pending, Purpose};
use super::{Dht, DhtEvent, MAX_TRANSMIT};

impl Dht {
    /// Sends a query and registers its transaction; false when the transaction table or
    /// the send queue is full.
    pub(super) fn send_query(
        &mut self,
        addr: SocketAddr,
        id: Option<NodeId>,
        method: Method,
        purpose: Purpose,
        now: Instant,
    ) -> bool {
        if self.transmit.len() >= MAX_TRANSMIT {
            return false;
        }
        let deadline = now + self.config.query_timeout;
        let Some(tid) = self.rpc.start(Pending { addr, id, purpose, deadline }) else {
            return false;
        };
        let message = Message {
            transaction_id: tid.to_vec(),
            version: self.config.version.clone(),
            read_only: self.config.read_only,
            ip: None,
            body: Body::Query(Query { id: self.id, method, want: None }),
        };
        self.send(addr, &message)
    }

    /// Pings `addr`, unless a query to it is already outstanding.
    pub(super) fn ping(&mut self, addr: SocketAddr, id: Option<NodeId>, now: Instant) {
        if !self.rpc.is_querying(&addr) {
            self.send_query(addr, id, Method::Ping, Purpose::Ping, now);
        }
    }

    /// Handles an answer to one of our queries.
    pub(super) fn on_response(
        &mut self,
        from: SocketAddr,
        tid: &[u8],
        response: Response,
        reported_ip: Option<SocketAddr>,
        now: Instant,
    ) {
        let Some(pending) = self.rpc.take(tid, from) else { return };
        if pending.id.is_some_and(|id| id != response.id) || response.id == self.id {
            // Not the node we asked (or an echo of ourselves): as good as no answer.
            self.query_failed(pending, now);
            return;
        }
        if let Some(ip) = reported_ip {
            self.vote_external(canonical_ip(ip.ip()));
        }
        self.learn(NodeInfo { id: response.id, addr: from }, now);
        if let Purpose::Lookup { lookup, seed } = pending.purpose {
            self.lookup_answered(lookup, seed, from, response, now);
        }
    }

    /// Handles a KRPC error answering one of our queries: the node is alive but refused,
    /// so it neither fails in the table nor helps the lookup.
    pub(super) fn on_error(&mut self, from: SocketAddr, tid: &[u8], now: Instant) {
        let Some(pending) = self.rpc.take(tid, from) else { return };
        if let Purpose::Lookup { lookup, seed } = pending.purpose {
            if let Some(l) = self.lookups.get_mut(&lookup) {
                l.on_failure(&from, seed);
            }
            self.step_lookup(lookup, now);
        }
    }

    /// A query went unanswered (or was answered by the wrong node).
    pub(super) fn query_failed(&mut self, pending: Pending, now: Instant) {
        if let Some(again) = self.table.on_failure(&pending.addr, now) {
            self.ping(again.addr, Some(again.id), now);
        }
        if let Purpose::Lookup { lookup, seed } = pending.purpose {
            if let Some(l) = self.lookups.get_mut(&lookup) {
                l.on_failure(&pending.addr, seed);
            }
            self.step_lookup(lookup, now);
        }
    }

    /// A node answered us: offer it to the routing table.
    fn learn(&mut self, node: NodeInfo, now: Instant) {
        if !self.may_route(&node) {
            return;
        }
        if let Inserted::Cached(Some(questionable)) = self.table.on_response(node, now) {
            self.ping(questionable.addr, Some(questionable.id), now);
        }
    }

    fn lookup_answered(
        &mut self,
        id: LookupId,
        seed: bool,
        from: SocketAddr,
        response: Response,
        now: Instant,
    ) {
        let nodes = match self.config.family {
            Family::V4 => &response.nodes,
            Family::V6 => &response.nodes6,
        };
        let nodes: Vec<NodeInfo> = nodes
            .iter()
            .filter(|n| n.id != self.id && self.may_contact(&n.addr))
            .copied()
            .collect();
        let Some(lookup) = self.lookups.get_mut(&id) else { return };
        lookup.on_response(&from, seed, &nodes, response.token);
        if let Some(info_hash) = lookup.purpose.info_hash() {
            let values: Vec<SocketAddr> =
                response.values.iter().filter(|p| is_peer_address(p)).copied().collect();
            let peers = lookup.new_peers(&values);
            if !peers.is_empty() {
                self.events.push_back(DhtEvent::Peers { lookup: id, info_hash, peers });
            }
        }
        self.step_lookup(id, now);
    }
}

/// Peers must have a port and a unicast address.
fn is_peer_address(addr: &SocketAddr) -> bool {
    let ip = canonical_ip(addr.ip());
    addr.port() != 0
        && !ip.is_unspecified()
        && !ip.is_multicast()
        && !matches!(ip, IpAddr::V4(v4) if v4.is_broadcast())
}
