//! The engine's extension protocol: metadata serving (BEP 9) and peer exchange (BEP 11).

use bytes::Bytes;
use ferrent_core::{Bitfield, Lengths};
use ferrent_proto::extension::{ExtHandshake, HANDSHAKE_ID, UT_METADATA, UT_PEX};
use ferrent_proto::metadata::MetadataMessage;
use ferrent_proto::pex::PexMessage;
use ferrent_proto::{Action, Engine, EngineConfig, PeerInfo};
use ferrent_wire::Message;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

fn engine(pex: bool) -> Engine {
    let lengths = Lengths::new(1 << 20, 1 << 16).unwrap();
    let config = EngineConfig { pex, listen_port: 6881, ..EngineConfig::default() };
    let mut engine = Engine::new(lengths, Bitfield::full(16), config, 9);
    engine.set_metadata(Bytes::from(vec![7u8; 40_000]));
    engine
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn connect(engine: &mut Engine, key: u64, port: u16, now: Instant) {
    let info = PeerInfo { addr: addr(port), outgoing: true, fast: true, extensions: true };
    engine.add_peer(key, info, now);
}

fn hello(extensions: &[(&str, u8)]) -> Message {
    let hs = ExtHandshake {
        extensions: extensions.iter().map(|(n, i)| (n.to_string(), *i)).collect(),
        ..ExtHandshake::default()
    };
    Message::Extended { id: HANDSHAKE_ID, payload: hs.encode().into() }
}

fn drain(engine: &mut Engine) -> Vec<Action> {
    std::iter::from_fn(|| engine.poll_action()).collect()
}

fn extended_to(actions: &[Action], key: u64, id: u8) -> Vec<Bytes> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(k, Message::Extended { id: i, payload }) if *k == key && *i == id => {
                Some(payload.clone())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn handshake_advertises_metadata_and_pex_unless_private() {
    let now = Instant::now();
    for pex in [true, false] {
        let mut e = engine(pex);
        connect(&mut e, 1, 1000, now);
        let actions = drain(&mut e);
        let sent = extended_to(&actions, 1, HANDSHAKE_ID);
        let hs = ExtHandshake::decode(&sent[0]).unwrap();
        assert_eq!(hs.metadata_size, Some(40_000));
        assert_eq!(hs.listen_port, Some(6881));
        assert_eq!(hs.id_of("ut_metadata"), Some(UT_METADATA));
        assert_eq!(hs.id_of("ut_pex").is_some(), pex);
        assert!(matches!(actions[0], Action::Send(1, Message::HaveAll)), "bitfield comes first");
    }
}

#[test]
fn serves_metadata_pieces_and_refuses_floods() {
    let now = Instant::now();
    let mut e = engine(true);
    connect(&mut e, 1, 1000, now);
    drain(&mut e);
    e.handle_message(1, hello(&[("ut_metadata", 3)]), now);
    let ask = |piece| Message::Extended {
        id: UT_METADATA,
        payload: MetadataMessage::Request { piece }.encode().into(),
    };
    e.handle_message(1, ask(2), now);
    let reply = extended_to(&drain(&mut e), 1, 3);
    match MetadataMessage::decode(&reply[0]).unwrap() {
        MetadataMessage::Data { piece: 2, total_size: 40_000, data } => {
            assert_eq!(data.len(), 40_000 - 2 * 16384)
        }
        other => panic!("unexpected {other:?}"),
    }
    e.handle_message(1, ask(3), now);
    let reply = extended_to(&drain(&mut e), 1, 3);
    assert_eq!(MetadataMessage::decode(&reply[0]).unwrap(), MetadataMessage::Reject { piece: 3 });
    // Three pieces may be asked twice each; after that every request is rejected.
    for _ in 0..10 {
        e.handle_message(1, ask(0), now);
    }
    let replies = extended_to(&drain(&mut e), 1, 3);
    let data = replies
        .iter()
        .filter(|p| matches!(MetadataMessage::decode(p), Ok(MetadataMessage::Data { .. })))
        .count();
    assert_eq!(data, 4, "2 * 3 pieces allowed, 2 already served");
    // Malformed extension payloads drop the peer.
    e.handle_message(
        1,
        Message::Extended { id: UT_METADATA, payload: Bytes::from_static(b"xx") },
        now,
    );
    assert!(drain(&mut e).iter().any(|a| matches!(a, Action::Disconnect(1, _))));
}

#[test]
fn pex_sends_diffs_each_minute_and_rate_limits_incoming() {
    let mut now = Instant::now();
    let mut e = engine(true);
    for (key, port) in [(1, 1001), (2, 1002), (3, 1003)] {
        connect(&mut e, key, port, now);
    }
    e.handle_message(1, hello(&[("ut_pex", 5)]), now);
    drain(&mut e);
    e.handle_tick(now);
    let sent = extended_to(&drain(&mut e), 1, 5);
    let first = PexMessage::decode(&sent[0]).unwrap();
    let mut added: Vec<SocketAddr> = first.added.iter().map(|(a, _)| *a).collect();
    added.sort();
    assert_eq!(added, vec![addr(1002), addr(1003)]);
    // Nothing new within the minute; after it, peer 3's departure is reported.
    e.remove_peer(3);
    e.handle_tick(now + Duration::from_secs(30));
    assert!(extended_to(&drain(&mut e), 1, 5).is_empty());
    now += Duration::from_secs(61);
    e.handle_tick(now);
    let second = PexMessage::decode(&extended_to(&drain(&mut e), 1, 5)[0]).unwrap();
    assert_eq!(second.dropped, vec![addr(1003)]);
    assert!(second.added.is_empty());
    // Incoming PEX: learnt once, then ignored while the peer sends too often.
    let pex = PexMessage { added: vec![(addr(2000), 0)], dropped: vec![] };
    let message = || Message::Extended { id: UT_PEX, payload: pex.encode().into() };
    e.handle_message(2, message(), now);
    assert!(drain(&mut e)
        .iter()
        .any(|a| matches!(a, Action::Discovered(v) if v == &vec![addr(2000)])));
    e.handle_message(2, message(), now + Duration::from_secs(10));
    assert!(!drain(&mut e).iter().any(|a| matches!(a, Action::Discovered(_))));
}

#[test]
fn private_torrents_ignore_pex() {
    let now = Instant::now();
    let mut e = engine(false);
    connect(&mut e, 1, 1001, now);
    connect(&mut e, 2, 1002, now);
    e.handle_message(1, hello(&[("ut_pex", 5)]), now);
    drain(&mut e);
    e.handle_tick(now + Duration::from_secs(120));
    assert!(extended_to(&drain(&mut e), 1, 5).is_empty());
    let pex = PexMessage { added: vec![(addr(2000), 0)], dropped: vec![] };
    e.handle_message(1, Message::Extended { id: UT_PEX, payload: pex.encode().into() }, now);
    assert!(!drain(&mut e).iter().any(|a| matches!(a, Action::Discovered(_))));
}
