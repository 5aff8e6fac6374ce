use ferrent_bencode::Kind;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::*;

fn decode(bytes: &[u8]) -> Result<Message, KrpcError> {
    Message::decode(bytes, MAX_PACKET)
}

/// Decodes, checks the canonical re-encoding is byte-identical, and returns the message.
fn round_trip(bytes: &[u8]) -> Message {
    let message = decode(bytes).unwrap();
    assert_eq!(message.encode(), bytes, "{message:?}");
    message
}

fn query(message: &Message) -> &Query {
    match &message.body {
        Body::Query(q) => q,
        other => panic!("not a query: {other:?}"),
    }
}

#[test]
fn bep5_queries() {
    let ping = round_trip(b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe");
    assert_eq!(ping.transaction_id, b"aa");
    assert_eq!(query(&ping).id, NodeId(*b"abcdefghij0123456789"));
    assert_eq!(query(&ping).method, Method::Ping);

    let find = round_trip(
        b"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe",
    );
    assert_eq!(query(&find).method, Method::FindNode { target: NodeId(*b"mnopqrstuvwxyz123456") });

    let get = round_trip(
        b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe",
    );
    assert_eq!(
        query(&get).method,
        Method::GetPeers { info_hash: InfoHashV1(*b"mnopqrstuvwxyz123456") }
    );

    let announce = round_trip(
        b"d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
    );
    assert_eq!(
        query(&announce).method,
        Method::AnnouncePeer {
            info_hash: InfoHashV1(*b"mnopqrstuvwxyz123456"),
            port: 6881,
            implied_port: true,
            token: b"aoeusnth".to_vec(),
        }
    );
}

#[test]
fn bep5_responses_and_errors() {
    let peers = round_trip(
        b"d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re",
    );
    let Body::Response(r) = &peers.body else { panic!() };
    assert_eq!(r.token.as_deref(), Some(&b"aoeusnth"[..]));
    assert_eq!(r.values.len(), 2);
    assert_eq!(r.values[0], "97.120.106.101:11893".parse().unwrap());

    let mut nodes = b"d1:rd2:id20:abcdefghij01234567895:nodes52:".to_vec();
    for n in 0..2u8 {
        nodes.extend_from_slice(&[n + 1; 20]);
        nodes.extend_from_slice(&[10, 0, 0, n, 0x1a, 0xe1]);
    }
    nodes.extend_from_slice(b"e1:t2:aa1:y1:re");
    let Body::Response(r) = round_trip(&nodes).body else { panic!() };
    assert_eq!(r.nodes[1].addr, "10.0.0.1:6881".parse().unwrap());
    assert_eq!(r.nodes[1].id, NodeId([2; 20]));

    let error = round_trip(b"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee");
    let Body::Error(e) = error.body else { panic!() };
    assert_eq!((e.code, e.message.as_str()), (ErrorCode::Generic, "A Generic Error Ocurred"));
}

#[test]
fn extensions_round_trip() {
    let mut message = Message::new(
        b"xy".to_vec(),
        Body::Query(Query {
            id: NodeId([7; 20]),
            method: Method::FindNode { target: NodeId([8; 20]) },
            want: Some(Want { v4: true, v6: true }),
        }),
    );
    message.version = Some(b"FE\x00\x01".to_vec());
    message.read_only = true;
    assert_eq!(decode(&message.encode()).unwrap(), message);

    let mut answer =
        Message::new(b"xy".to_vec(), Body::Response(Response::id_only(NodeId([9; 20]))));
    answer.ip = Some("[2001:db8::1]:6881".parse().unwrap());
    if let Body::Response(r) = &mut answer.body {
        r.nodes6.push(NodeInfo { id: NodeId([1; 20]), addr: "[2001:db8::2]:1".parse().unwrap() });
        r.values.push("[2001:db8::3]:2".parse().unwrap());
    }
    assert_eq!(decode(&answer.encode()).unwrap(), answer);
}

#[test]
fn unknown_keys_are_ignored() {
    let m = decode(b"d1:ad2:id20:abcdefghij01234567894:seedi1e5:extrali1eee1:q4:ping1:t2:aa1:v4:LT\x02\x001:y1:qe")
        .unwrap();
    assert_eq!(m.version.as_deref(), Some(&b"LT\x02\x00"[..]));
}

fn error_of(bytes: &[u8]) -> KrpcError {
    decode(bytes).unwrap_err()
}

#[test]
fn malformed_messages_are_refused_with_reasons() {
    let long = vec![b'x'; MAX_PACKET + 1];
    assert_eq!(error_of(&long).kind, KrpcErrorKind::TooLarge { len: 1501, max: 1500 });
    assert!(matches!(error_of(b"d1:t2:aa").kind, KrpcErrorKind::Bencode(_)));
    assert!(matches!(error_of(b"le").kind, KrpcErrorKind::NotADict(_)));
    assert_eq!(error_of(b"d1:t2:aae").kind, KrpcErrorKind::Missing("y"));
    assert_eq!(error_of(b"d1:y1:qe").kind, KrpcErrorKind::Missing("t"));

    let short_id = error_of(b"d1:ad2:id19:abcdefghij012345678e1:q4:ping1:t2:aa1:y1:qe");
    assert_eq!(short_id.kind, KrpcErrorKind::BadLength { field: "a.id", len: 19, expected: "20" });
    assert_eq!(short_id.to_string(), "key `a.id` is 19 bytes long, expected 20");
    assert_eq!(short_id.reply_code(), Some(ErrorCode::Protocol));
    assert_eq!(short_id.transaction_id.as_deref(), Some(&b"aa"[..]));

    let unknown = error_of(b"d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:aa1:y1:qe");
    assert_eq!(unknown.kind, KrpcErrorKind::UnknownMethod("vote".into()));
    assert_eq!(unknown.reply_code(), Some(ErrorCode::MethodUnknown));

    let no_port = error_of(
        b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234565:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe",
    );
    assert_eq!(no_port.kind, KrpcErrorKind::Missing("a.port"));
    let big_port = error_of(
        b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti65536e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe",
    );
    assert_eq!(big_port.kind, KrpcErrorKind::OutOfRange { field: "a.port", value: 65536 });

    let bad_nodes = error_of(b"d1:rd2:id20:abcdefghij01234567895:nodes3:abce1:t2:aa1:y1:re");
    assert_eq!(
        bad_nodes.kind,
        KrpcErrorKind::BadLength { field: "r.nodes", len: 3, expected: "a multiple of 26" }
    );
    assert_eq!(bad_nodes.reply_code(), None, "responses are never answered");
    let bad_peer =
        error_of(b"d1:rd2:id20:abcdefghij01234567896:valuesl6:axje.u5:idhtnee1:t2:aa1:y1:re");
    assert_eq!(bad_peer.kind, KrpcErrorKind::BadPeer { index: 1, len: 5 });
    let bad_error = error_of(b"d1:eli201ee1:t2:aa1:y1:ee");
    assert_eq!(bad_error.kind, KrpcErrorKind::BadErrorList);
    let bad_type = error_of(b"d1:t2:aa1:y1:xe");
    assert_eq!(bad_type.kind, KrpcErrorKind::UnknownType("x".into()));
    let long_tid = error_of(
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t33:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1:y1:qe",
    );
    assert_eq!(long_tid.reply_code(), None, "no usable transaction id");
    let wrong_type = error_of(b"d1:ad2:idi5ee1:q4:ping1:t2:aa1:y1:qe");
    assert_eq!(
        wrong_type.kind,
        KrpcErrorKind::WrongType { field: "a.id", expected: Kind::Bytes, found: Kind::Int }
    );
}

/// Random mutations of valid messages: decoding never panics, and whatever decodes
/// re-encodes to something that decodes to the same message.
#[test]
fn mutated_messages_never_panic() {
    let seeds: [&[u8]; 4] = [
        b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe",
        b"d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re",
        b"d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
        b"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
    ];
    let mut rng = SmallRng::seed_from_u64(0xd47);
    let mut decoded = 0;
    for round in 0..40_000 {
        let mut bytes = seeds[round % seeds.len()].to_vec();
        for _ in 0..rng.gen_range(1..4) {
            let at = rng.gen_range(0..bytes.len());
            match rng.gen_range(0..3) {
                0 => bytes[at] = rng.gen(),
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, rng.gen()),
            }
        }
        if let Ok(message) = decode(&bytes) {
            decoded += 1;
            assert_eq!(decode(&message.encode()).unwrap(), message);
        }
    }
    assert!(decoded > 100, "mutations should sometimes stay valid ({decoded})");
}
