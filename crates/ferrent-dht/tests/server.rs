//! The server side seen from outside: answers, tokens, limits and hostile input.

mod sim;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use ferrent_core::InfoHashV1;
use ferrent_dht::krpc::{Body, ErrorCode, Message, Method, Query, Response, Want, MAX_PACKET};
use ferrent_dht::{generate_id, Config, Dht, DhtEvent, NodeId, RateLimitConfig, StoreConfig};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use sim::Net;

const CLIENT_ID: NodeId = NodeId([0x42; 20]);

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn unlimited() -> RateLimitConfig {
    RateLimitConfig {
        per_source_rate: 1e9,
        per_source_burst: 1e9,
        global_rate: 1e9,
        global_burst: 1e9,
        slots: 16,
    }
}

fn node(config: Config, now: Instant) -> Dht {
    Dht::new(Config { seed: 3, ..config }, now)
}

fn query_bytes(method: Method, want: Option<Want>) -> Vec<u8> {
    Message::new(b"tt".to_vec(), Body::Query(Query { id: CLIENT_ID, method, want })).encode()
}

/// Sends `method` from `from` and returns the single datagram sent back, decoded.
fn ask(dht: &mut Dht, from: SocketAddr, method: Method, now: Instant) -> Option<Message> {
    dht.handle_datagram(from, &query_bytes(method, None), now);
    answer(dht, from)
}

/// The one datagram `dht` sent to `to`, ignoring its own pings of new nodes.
fn answer(dht: &mut Dht, to: SocketAddr) -> Option<Message> {
    let mut found = None;
    while let Some((dest, bytes)) = dht.poll_transmit() {
        let message = Message::decode(&bytes, usize::MAX).unwrap();
        if dest == to && !matches!(message.body, Body::Query(_)) {
            assert!(found.is_none(), "two answers");
            assert!(bytes.len() <= MAX_PACKET, "answer of {} bytes", bytes.len());
            found = Some(message);
        }
    }
    found
}

fn token_for(dht: &mut Dht, from: SocketAddr, info_hash: InfoHashV1, now: Instant) -> Vec<u8> {
    let reply = ask(dht, from, Method::GetPeers { info_hash }, now).expect("an answer");
    match reply.body {
        Body::Response(Response { token: Some(token), .. }) => token,
        other => panic!("no token in {other:?}"),
    }
}

fn announce(token: Vec<u8>, info_hash: InfoHashV1, port: u16, implied_port: bool) -> Method {
    Method::AnnouncePeer { info_hash, port, implied_port, token }
}

fn error_code(message: &Message) -> Option<ErrorCode> {
    match &message.body {
        Body::Error(e) => Some(e.code),
        _ => None,
    }
}

#[test]
fn tokens_rotate_and_expire_after_two_periods() {
    let t0 = Instant::now();
    let mut dht = node(Config::default(), t0);
    let client = addr("8.8.8.8:1000");
    let torrent = InfoHashV1([1; 20]);
    let token = token_for(&mut dht, client, torrent, t0);

    let minute = Duration::from_secs(60);
    for (at, accepted) in [(4, true), (6, true), (9, true), (11, false)] {
        let now = t0 + minute * at;
        dht.handle_timeout(now);
        let reply =
            ask(&mut dht, client, announce(token.clone(), torrent, 80, false), now).unwrap();
        assert_eq!(error_code(&reply).is_none(), accepted, "after {at} minutes: {reply:?}");
    }
    assert_eq!(dht.stored_peers(&torrent, t0 + minute * 11), [addr("8.8.8.8:80")]);
    // A fresh token works again.
    let now = t0 + minute * 12;
    let fresh = token_for(&mut dht, client, torrent, now);
    assert_ne!(fresh, token);
    let reply = ask(&mut dht, client, announce(fresh, torrent, 80, false), now).unwrap();
    assert_eq!(error_code(&reply), None);
}

#[test]
fn forged_tokens_and_bad_ports_are_refused() {
    let now = Instant::now();
    let mut dht = node(Config::default(), now);
    let torrent = InfoHashV1([2; 20]);
    let honest = addr("8.8.8.8:1000");
    let token = token_for(&mut dht, honest, torrent, now);

    let thief = addr("9.9.9.9:1000");
    for forged in [token.clone(), b"12345678".to_vec(), Vec::new(), token[..4].to_vec()] {
        let reply = ask(&mut dht, thief, announce(forged, torrent, 80, false), now).unwrap();
        assert_eq!(error_code(&reply), Some(ErrorCode::Protocol));
    }
    let reply = ask(&mut dht, honest, announce(token.clone(), torrent, 0, false), now).unwrap();
    assert_eq!(error_code(&reply), Some(ErrorCode::Protocol), "port 0");
    assert!(dht.stored_peers(&torrent, now).is_empty());

    // The same IP on another port may announce; implied_port takes the source port.
    let same_ip = addr("8.8.8.8:2000");
    let reply = ask(&mut dht, same_ip, announce(token, torrent, 80, true), now).unwrap();
    assert_eq!(error_code(&reply), None);
    assert_eq!(dht.stored_peers(&torrent, now), [same_ip]);
}

#[test]
fn get_peers_answers_are_bounded() {
    let now = Instant::now();
    let config = Config { rate_limit: unlimited(), ..Config::default() };
    let mut dht = node(config, now);
    let torrent = InfoHashV1([3; 20]);
    for n in 0..300u32 {
        let from = SocketAddr::from((Ipv4Addr::from(0x0800_0000 + n), 6881));
        let token = token_for(&mut dht, from, torrent, now);
        ask(&mut dht, from, announce(token, torrent, 6881, false), now).unwrap();
    }
    assert_eq!(dht.stored_peers(&torrent, now).len(), 200, "per-hash cap");
    let reply = ask(&mut dht, addr("8.8.4.4:1"), Method::GetPeers { info_hash: torrent }, now);
    let Some(Message { body: Body::Response(r), ip, .. }) = reply else { panic!() };
    assert_eq!(r.values.len(), 50);
    assert_eq!(ip, Some(addr("8.8.4.4:1")), "BEP 42 `ip` tells the querier its address");
}

#[test]
fn find_node_answers_with_the_k_closest() {
    let mut net = Net::new();
    net.add_public(40);
    net.bootstrap_all();
    let target = NodeId([0x99; 20]);
    let now = net.now;
    let from = addr("8.8.8.8:1");
    let dht = net.dht(0);
    let reply = ask(dht, from, Method::FindNode { target }, now).unwrap();
    let Body::Response(r) = reply.body else { panic!() };
    let expected = dht.routing_table().closest(&target, 8, now);
    assert_eq!(r.nodes, expected);
    assert_eq!(r.nodes.len(), 8);
    assert!(r.nodes6.is_empty() && r.values.is_empty() && r.token.is_none());

    // BEP 32: asking only for IPv6 nodes from an IPv4 node gets none.
    dht.handle_datagram(
        from,
        &query_bytes(Method::FindNode { target }, Some(Want { v4: false, v6: true })),
        now,
    );
    let Body::Response(r) = answer(dht, from).unwrap().body else { panic!() };
    assert!(r.nodes.is_empty() && r.nodes6.is_empty());
}

#[test]
fn malformed_and_oversized_datagrams_change_nothing() {
    let mut net = Net::new();
    net.add_public(15);
    net.bootstrap_all();
    let now = net.now;
    let dht = net.dht(0);
    let before = (dht.stats(), dht.routing_table().entries().cloned().collect::<Vec<_>>());
    let attacker = addr("6.6.6.6:666");

    // A ping padded past the size limit: not even an error comes back.
    let mut padded = query_bytes(Method::Ping, None);
    let pad = MAX_PACKET + 1 - padded.len() - 7; // "1:z" + "<n>:" + bytes, spliced in
    let mut huge = b"d1:z".to_vec();
    huge.extend_from_slice(format!("{pad}:").as_bytes());
    huge.extend(std::iter::repeat_n(b'x', pad));
    huge.extend_from_slice(&padded[1..]);
    padded = huge;
    assert!(padded.len() > MAX_PACKET);
    dht.handle_datagram(attacker, &padded, now);
    assert!(dht.poll_transmit().is_none(), "oversized datagrams are dropped unread");

    // Random garbage, truncations and mutations of valid queries and responses.
    let mut rng = SmallRng::seed_from_u64(66);
    let valid = query_bytes(Method::GetPeers { info_hash: InfoHashV1([5; 20]) }, None);
    let mut errors = 0;
    for round in 0..5000 {
        let bytes: Vec<u8> = match round % 3 {
            0 => (0..rng.gen_range(0..200)).map(|_| rng.gen()).collect(),
            1 => valid[..rng.gen_range(0..valid.len())].to_vec(),
            _ => {
                let mut b = valid.clone();
                let at = rng.gen_range(0..b.len());
                b[at] = rng.gen();
                b
            }
        };
        let from = SocketAddr::from((Ipv4Addr::from(rng.gen::<u32>() | 0x0100_0000), 1));
        dht.handle_datagram(from, &bytes, now);
        while let Some((_, reply)) = dht.poll_transmit() {
            let message = Message::decode(&reply, MAX_PACKET).unwrap();
            match message.body {
                // Mutated queries that still parse are answered; that is not a state change
                // as long as the table and store are untouched (checked below).
                Body::Response(_) => {}
                Body::Error(_) => errors += 1,
                Body::Query(q) => assert_eq!(q.method, Method::Ping, "only pings of new nodes"),
            }
        }
    }
    assert!(errors > 0, "malformed queries with a transaction id get KRPC errors");

    // Responses to every transaction id from a host we never asked, while a lookup has
    // queries outstanding: a compliant id and a fake peer must not get in.
    let torrent = InfoHashV1([5; 20]);
    let lookup = dht.get_peers(torrent, now);
    assert!(dht.stats().pending_queries > 0);
    let mut rng_id = SmallRng::seed_from_u64(7);
    let mut response = Response::id_only(generate_id(attacker.ip(), &mut rng_id));
    response.values = vec![attacker];
    response.token = Some(b"tok".to_vec());
    for tid in 0..=u16::MAX {
        let message = Message::new(tid.to_be_bytes().to_vec(), Body::Response(response.clone()));
        dht.handle_datagram(attacker, &message.encode(), now);
    }
    while let Some(event) = dht.poll_event() {
        if let DhtEvent::Peers { lookup: l, peers, .. } = event {
            assert!(l != lookup || !peers.contains(&attacker), "spoofed answer accepted");
        }
    }
    while dht.poll_transmit().is_some() {}
    let after = (dht.stats(), dht.routing_table().entries().cloned().collect::<Vec<_>>());
    let (mut before_stats, before_entries) = before;
    let (mut after_stats, after_entries) = after;
    // The lookup is still running; everything else must be as it was.
    for stats in [&mut before_stats, &mut after_stats] {
        stats.pending_queries = 0;
        stats.lookups = 0;
    }
    assert_eq!(before_stats, after_stats);
    assert_eq!(before_entries, after_entries);
}

#[test]
fn unknown_methods_and_bad_arguments_get_krpc_errors() {
    let now = Instant::now();
    let mut dht = node(Config::default(), now);
    let from = addr("8.8.8.8:1");
    dht.handle_datagram(from, b"d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:ab1:y1:qe", now);
    let reply = answer(&mut dht, from).unwrap();
    assert_eq!(
        (reply.transaction_id.as_slice(), error_code(&reply)),
        (&b"ab"[..], Some(ErrorCode::MethodUnknown))
    );
    dht.handle_datagram(from, b"d1:ad2:id3:abce1:q4:ping1:t2:ac1:y1:qe", now);
    let reply = answer(&mut dht, from).unwrap();
    assert_eq!(error_code(&reply), Some(ErrorCode::Protocol));
    // No transaction id, no answer.
    dht.handle_datagram(from, b"d1:ad2:id3:abce1:q4:ping1:y1:qe", now);
    assert!(answer(&mut dht, from).is_none());
}

#[test]
fn answers_are_rate_limited_per_source_and_globally() {
    let now = Instant::now();
    let mut dht = node(Config::default(), now);
    let defaults = RateLimitConfig::default();
    let one = addr("8.8.8.8:1");
    let answered = (0..200).filter(|_| ask(&mut dht, one, Method::Ping, now).is_some()).count();
    assert_eq!(answered as f64, defaults.per_source_burst);

    // A flood from spoofed sources is capped by the global bucket.
    let answered = (0..20_000u32)
        .filter(|n| {
            let from = SocketAddr::from((Ipv4Addr::from(0x0900_0000 + n), 1));
            ask(&mut dht, from, Method::Ping, now).is_some()
        })
        .count();
    assert_eq!(answered as f64, defaults.global_burst - defaults.per_source_burst);

    // Time refills the buckets.
    let later = now + Duration::from_secs(1);
    assert!(ask(&mut dht, one, Method::Ping, later).is_some());
}

#[test]
fn memory_stays_bounded_under_a_flood_of_info_hashes() {
    let now = Instant::now();
    let store =
        StoreConfig { max_info_hashes: 500, max_peers_per_hash: 20, ..StoreConfig::default() };
    let config = Config { rate_limit: unlimited(), store, ..Config::default() };
    let mut dht = node(config, now);
    let mut rng = SmallRng::seed_from_u64(1);
    // One source per 100 hashes; tokens depend on the IP only.
    for source in 0..200u32 {
        let from = SocketAddr::from((Ipv4Addr::from(0x0800_0000 + source), 7));
        let token = token_for(&mut dht, from, InfoHashV1([0; 20]), now);
        for _ in 0..100 {
            let torrent = InfoHashV1(rng.gen());
            let reply =
                ask(&mut dht, from, announce(token.clone(), torrent, 7, false), now).unwrap();
            assert_eq!(error_code(&reply), None);
        }
        let stats = dht.stats();
        assert!(stats.stored_info_hashes <= 500, "{stats:?}");
        assert!(stats.stored_peers <= 500 * 20, "{stats:?}");
        assert!(stats.pending_queries <= 256 && stats.queued_datagrams == 0, "{stats:?}");
    }
    assert_eq!(dht.stats().stored_info_hashes, 500);
}

#[test]
fn bep42_keeps_forged_ids_out_of_the_table() {
    for enforce in [true, false] {
        let mut net = Net::new();
        net.add_public(3);
        // A public node with a random (non-compliant) id.
        let liar_addr = sim::public_addr(3);
        let liar = net.add(
            liar_addr,
            Config { seed: 77, node_id: Some(NodeId([0xab; 20])), ..Config::default() },
        );
        let first = &mut net.nodes[0].dht;
        let mut config = first.config().clone();
        config.enforce_node_id = enforce;
        net.nodes[0].dht = Dht::new(config, net.now);
        net.bootstrap_all();
        let routed = net.nodes[0].dht.routing_table().entries().any(|e| e.info.addr == liar_addr);
        assert_eq!(routed, !enforce, "enforce_node_id = {enforce}");
        assert!(!net.nodes[liar].dht.routing_table().is_empty(), "the liar still gets answers");
    }
}
