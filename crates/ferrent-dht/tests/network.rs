//! Whole-network behaviour on a virtual network: bootstrap, convergence, announce and
//! get_peers, churn, persistence.

mod sim;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use ferrent_core::InfoHashV1;
use ferrent_dht::{AddressPolicy, Config, Dht, DhtEvent, LookupId, NodeId};
use sim::{config_for, Net};

fn loopback_config(seed: u64) -> Config {
    Config {
        seed,
        addresses: AddressPolicy { allow_loopback: true, allow_private: false },
        ..Config::default()
    }
}

fn hash(n: u8) -> InfoHashV1 {
    InfoHashV1([n; 20])
}

/// Peers reported by `lookup` in `events`, and whether it ended.
fn lookup_result(events: &[DhtEvent], lookup: LookupId) -> (HashSet<SocketAddr>, bool) {
    let mut peers = HashSet::new();
    let mut done = false;
    for event in events {
        match event {
            DhtEvent::Peers { lookup: l, peers: p, .. } if *l == lookup => peers.extend(p),
            DhtEvent::LookupDone { lookup: l, .. } if *l == lookup => done = true,
            _ => {}
        }
    }
    (peers, done)
}

fn announced_count(events: &[DhtEvent], lookup: LookupId) -> Option<usize> {
    events.iter().find_map(|e| match e {
        DhtEvent::LookupDone { lookup: l, announced, .. } if *l == lookup => Some(*announced),
        _ => None,
    })
}

#[test]
fn two_loopback_nodes_bootstrap_into_each_others_tables() {
    let mut net = Net::new();
    let a = net.add("127.0.0.1:7001".parse().unwrap(), loopback_config(1));
    let b = net.add("127.0.0.1:7002".parse().unwrap(), loopback_config(2));
    let router = net.addr(a);
    let now = net.now;
    net.dht(b).bootstrap(&[router], now);
    net.run_for(Duration::from_secs(5));

    let events = net.take_events(b);
    assert_eq!(events, [DhtEvent::Bootstrapped { nodes: 1 }]);
    let a_id = net.dht(a).id();
    let b_id = net.dht(b).id();
    let in_table = |dht: &Dht, id: NodeId| dht.routing_table().entries().any(|e| e.info.id == id);
    assert!(in_table(&net.nodes[b].dht, a_id), "b learned a from its answer");
    assert!(in_table(&net.nodes[a].dht, b_id), "a pinged b after its query and kept it");
}

#[test]
fn loopback_nodes_stay_out_of_a_strict_table() {
    let mut net = Net::new();
    let strict = Config { seed: 1, ..Config::default() };
    let a = net.add("127.0.0.1:7001".parse().unwrap(), strict);
    let b = net.add("127.0.0.1:7002".parse().unwrap(), loopback_config(2));
    let router = net.addr(a);
    let now = net.now;
    net.dht(b).bootstrap(&[router], now);
    net.run_for(Duration::from_secs(5));
    assert_eq!(net.nodes[a].dht.routing_table().len(), 0, "strict node routes no loopback");
    assert_eq!(net.nodes[b].dht.routing_table().len(), 1, "but it still answers queries");
}

#[test]
fn twenty_nodes_converge_and_find_announced_peers() {
    let mut net = Net::new();
    net.add_public(20);
    net.bootstrap_all();
    for i in 0..20 {
        let len = net.nodes[i].dht.routing_table().len();
        assert!(len >= 8, "node {i} knows only {len} nodes");
    }

    // Node 5 announces; the announce must land on the 8 nodes closest to the torrent.
    let torrent = hash(0x5a);
    let now = net.now;
    let lookup = net.dht(5).announce(torrent, 6000, now);
    net.run_for(Duration::from_secs(10));
    let events = net.take_events(5);
    assert_eq!(announced_count(&events, lookup), Some(8), "{events:?}");
    let mut by_distance: Vec<usize> = (0..20).filter(|i| *i != 5).collect();
    by_distance.sort_by_key(|i| net.nodes[*i].dht.id().distance(&torrent.into()));
    let now = net.now;
    let holders: Vec<usize> =
        (0..20).filter(|i| !net.nodes[*i].dht.stored_peers(&torrent, now).is_empty()).collect();
    let closest: HashSet<usize> = by_distance[..8].iter().copied().collect();
    assert_eq!(holders.iter().copied().collect::<HashSet<_>>(), closest, "lookup converged");

    // Every other node finds node 5's announce through the DHT.
    let announcer = SocketAddr::new(net.addr(5).ip(), 6000);
    for seeker in [0, 11, 19] {
        let now = net.now;
        let lookup = net.dht(seeker).get_peers(torrent, now);
        net.run_for(Duration::from_secs(10));
        let (peers, done) = lookup_result(&net.take_events(seeker), lookup);
        assert!(done, "lookup from {seeker} ended");
        assert_eq!(peers, HashSet::from([announcer]), "seeker {seeker}");
    }
}

#[test]
fn lookups_survive_churn_and_dead_nodes_are_replaced() {
    let mut net = Net::new();
    net.add_public(30);
    net.bootstrap_all();
    let torrent = hash(0x77);
    let now = net.now;
    net.dht(3).announce(torrent, 7000, now);
    net.run_for(Duration::from_secs(10));

    // A third of the network disappears (not the announcer or the seeker).
    let dead: Vec<usize> = (10..20).collect();
    for i in &dead {
        net.nodes[*i].online = false;
    }
    let dead_addrs: HashSet<SocketAddr> = dead.iter().map(|i| net.addr(*i)).collect();
    let before = dead_entries(&net, &dead_addrs);
    // Half an hour of virtual time: refreshes and re-announces meet the dead nodes.
    for _ in 0..6 {
        let now = net.now;
        net.dht(3).announce(torrent, 7000, now);
        net.run_for(Duration::from_secs(5 * 60));
    }
    let now = net.now;
    let lookup = net.dht(25).get_peers(torrent, now);
    net.run_for(Duration::from_secs(20));
    let (peers, done) = lookup_result(&net.take_events(25), lookup);
    assert!(done);
    assert!(peers.contains(&SocketAddr::new(net.addr(3).ip(), 7000)));
    // Dead nodes were found out and replaced: fewer remain in the live nodes' tables.
    let after = dead_entries(&net, &dead_addrs);
    assert!(after < before, "dead entries: {before} before, {after} after");
}

/// How many routing table entries of live nodes point at dead nodes.
fn dead_entries(net: &Net, dead: &HashSet<SocketAddr>) -> usize {
    net.nodes
        .iter()
        .filter(|n| n.online)
        .map(|n| n.dht.routing_table().entries().filter(|e| dead.contains(&e.info.addr)).count())
        .sum()
}

#[test]
fn saved_state_bootstraps_without_routers() {
    let mut net = Net::new();
    net.add_public(12);
    net.bootstrap_all();
    let saved = net.nodes[4].dht.saved_state();
    assert!(saved.nodes.len() >= 8);
    let bytes = saved.encode();

    // Node 4 restarts from its saved state, knowing no router.
    let restored = ferrent_dht::SavedState::decode(&bytes).unwrap();
    let addr = net.addr(4);
    let mut config = config_for(addr, 99);
    config.node_id = Some(restored.id);
    let now = net.now;
    let mut dht = Dht::new(config, now);
    dht.add_bootstrap_nodes(&restored.nodes);
    dht.bootstrap(&[], now);
    net.take_events(4);
    net.nodes[4].dht = dht;
    net.run_for(Duration::from_secs(10));
    let events = net.take_events(4);
    assert!(matches!(events[..], [DhtEvent::Bootstrapped { nodes }] if nodes >= 8), "{events:?}");
    assert_eq!(net.nodes[4].dht.id(), saved.id);
}

#[test]
fn bootstrap_is_retried_while_the_table_stays_empty() {
    let mut net = Net::new();
    let a = net.add("127.0.0.1:7001".parse().unwrap(), loopback_config(1));
    let b = net.add("127.0.0.1:7002".parse().unwrap(), loopback_config(2));
    net.nodes[a].online = false;
    let router = net.addr(a);
    let now = net.now;
    net.dht(b).bootstrap(&[router], now);
    let lookup = net.dht(b).get_peers(hash(1), now);
    net.run_for(Duration::from_secs(10));
    assert_eq!(
        net.take_events(b),
        [
            DhtEvent::Bootstrapped { nodes: 0 },
            DhtEvent::LookupDone { lookup, info_hash: hash(1), announced: 0 },
        ]
    );
    net.nodes[a].online = true;
    net.run_for(Duration::from_secs(60));
    assert_eq!(net.take_events(b), [DhtEvent::Bootstrapped { nodes: 1 }]);
}

#[test]
fn read_only_nodes_query_but_are_not_routed_or_answered() {
    let mut net = Net::new();
    net.add_public(10);
    let ro_addr = sim::public_addr(10);
    let mut config = config_for(ro_addr, 11);
    config.read_only = true;
    let ro = net.add(ro_addr, config);
    net.bootstrap_all();
    let ro_id = net.nodes[ro].dht.id();
    for i in 0..10 {
        let routed = net.nodes[i].dht.routing_table().entries().any(|e| e.info.id == ro_id);
        assert!(!routed, "node {i} routes the read-only node");
    }
    assert!(net.nodes[ro].dht.routing_table().len() >= 8, "it still learns the network");

    let torrent = hash(3);
    let now = net.now;
    net.dht(2).announce(torrent, 4000, now);
    net.run_for(Duration::from_secs(10));
    let now = net.now;
    let lookup = net.dht(ro).get_peers(torrent, now);
    net.run_for(Duration::from_secs(10));
    let (peers, _) = lookup_result(&net.take_events(ro), lookup);
    assert!(peers.contains(&SocketAddr::new(net.addr(2).ip(), 4000)));

    // A query sent straight to the read-only node goes unanswered.
    let ping = ferrent_dht::krpc::Message::new(
        b"pp".to_vec(),
        ferrent_dht::krpc::Body::Query(ferrent_dht::krpc::Query {
            id: NodeId([1; 20]),
            method: ferrent_dht::krpc::Method::Ping,
            want: None,
        }),
    );
    net.inject("9.9.9.9:1".parse().unwrap(), ro, &ping.encode());
    assert!(net.dht(ro).poll_transmit().is_none());
}
