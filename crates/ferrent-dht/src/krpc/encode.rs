//! Writing [`Message`]s as bencode.

use ferrent_bencode::OwnedValue;

use super::{Body, Message, Method, Query, Response, Want};
use crate::addr::{compact_peer, write_compact_nodes, Family};

pub(super) fn encode(message: &Message) -> Vec<u8> {
    let mut top = OwnedValue::dict([("t", OwnedValue::bytes(message.transaction_id.clone()))]);
    top = match &message.body {
        Body::Query(query) => {
            top.with("y", "q").with("q", query.method.name()).with("a", query_args(query))
        }
        Body::Response(response) => top.with("y", "r").with("r", response_dict(response)),
        Body::Error(error) => top.with("y", "e").with(
            "e",
            OwnedValue::list([
                OwnedValue::Int(error.code.code()),
                OwnedValue::from(error.message.as_str()),
            ]),
        ),
    };
    if let Some(version) = &message.version {
        top = top.with("v", version.clone());
    }
    if message.read_only {
        top = top.with("ro", 1);
    }
    if let Some(ip) = message.ip {
        top = top.with("ip", compact_peer(ip));
    }
    top.encode()
}

fn query_args(query: &Query) -> OwnedValue {
    let mut args = OwnedValue::dict([("id", OwnedValue::from(&query.id.0[..]))]);
    match &query.method {
        Method::Ping => {}
        Method::FindNode { target } => args = args.with("target", &target.0[..]),
        Method::GetPeers { info_hash } => args = args.with("info_hash", &info_hash.0[..]),
        Method::AnnouncePeer { info_hash, port, implied_port, token } => {
            args = args
                .with("info_hash", &info_hash.0[..])
                .with("port", i64::from(*port))
                .with("token", token.clone());
            if *implied_port {
                args = args.with("implied_port", 1);
            }
        }
    }
    if let Some(want) = query.want {
        args = args.with("want", want_list(want));
    }
    args
}

fn want_list(want: Want) -> OwnedValue {
    let mut list = Vec::new();
    if want.v4 {
        list.push(OwnedValue::from("n4"));
    }
    if want.v6 {
        list.push(OwnedValue::from("n6"));
    }
    OwnedValue::List(list)
}

fn response_dict(response: &Response) -> OwnedValue {
    let mut r = OwnedValue::dict([("id", OwnedValue::from(&response.id.0[..]))]);
    if !response.nodes.is_empty() {
        let mut nodes = Vec::new();
        write_compact_nodes(&mut nodes, &response.nodes, Family::V4);
        r = r.with("nodes", nodes);
    }
    if !response.nodes6.is_empty() {
        let mut nodes = Vec::new();
        write_compact_nodes(&mut nodes, &response.nodes6, Family::V6);
        r = r.with("nodes6", nodes);
    }
    if !response.values.is_empty() {
        r = r.with(
            "values",
            OwnedValue::list(response.values.iter().map(|p| OwnedValue::Bytes(compact_peer(*p)))),
        );
    }
    if let Some(token) = &response.token {
        r = r.with("token", token.clone());
    }
    r
}
