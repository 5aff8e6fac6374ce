use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::SeedableRng;

use super::*;

fn own() -> NodeId {
    NodeId([0u8; 20])
}

/// A node whose id shares exactly `prefix` bits with [`own`], on its own public IP.
fn node(prefix: usize, n: u8, rng: &mut SmallRng) -> NodeInfo {
    let id = own().random_at_prefix(prefix, rng);
    let addr: SocketAddr = format!("1.0.{prefix}.{n}:6881").parse().unwrap();
    NodeInfo { id, addr }
}

fn table(now: Instant) -> RoutingTable {
    RoutingTable::new(own(), TableConfig::default(), now)
}

#[test]
fn splits_only_around_own_id() {
    let now = Instant::now();
    let mut rng = SmallRng::seed_from_u64(1);
    let mut t = table(now);
    // 8 far nodes fill the single bucket; a 9th far node cannot split it away.
    for n in 0..8 {
        assert_eq!(t.on_response(node(0, n, &mut rng), now), Inserted::Added);
    }
    // A near node splits: bucket 0 keeps the far nodes, bucket 1+ takes near ones.
    assert_eq!(t.on_response(node(5, 1, &mut rng), now), Inserted::Added);
    assert_eq!(t.bucket_count(), 2);
    assert!(matches!(t.on_response(node(0, 9, &mut rng), now), Inserted::Cached(None)));
    assert_eq!(t.len(), 9);
    for n in 0..7 {
        assert_eq!(t.on_response(node(5, 10 + n, &mut rng), now), Inserted::Added);
    }
    // The last bucket is full of prefix-5 nodes; one more forces splits down to depth 5.
    assert_eq!(t.on_response(node(5, 30, &mut rng), now), Inserted::Cached(None));
    assert_eq!(t.on_response(node(9, 1, &mut rng), now), Inserted::Added);
    assert!(t.bucket_count() >= 6, "{} buckets", t.bucket_count());
}

#[test]
fn refuses_own_id_duplicates_and_same_ip() {
    let now = Instant::now();
    let mut rng = SmallRng::seed_from_u64(2);
    let mut t = table(now);
    let a = node(3, 1, &mut rng);
    assert_eq!(t.on_response(NodeInfo { id: own(), addr: a.addr }, now), Inserted::Refused);
    assert_eq!(t.on_response(a, now), Inserted::Added);
    assert_eq!(t.on_response(a, now), Inserted::Refreshed);
    let other_id = NodeInfo { id: NodeId([9; 20]), addr: a.addr };
    assert_eq!(t.on_response(other_id, now), Inserted::Refused);
    let same_ip = NodeInfo { id: NodeId([7; 20]), addr: SocketAddr::new(a.addr.ip(), 1) };
    assert_eq!(t.on_response(same_ip, now), Inserted::Refused);
    // Loopback nodes may share an IP.
    let l1 = NodeInfo { id: NodeId([5; 20]), addr: "127.0.0.1:1".parse().unwrap() };
    let l2 = NodeInfo { id: NodeId([6; 20]), addr: "127.0.0.1:2".parse().unwrap() };
    assert_eq!(t.on_response(l1, now), Inserted::Added);
    assert_eq!(t.on_response(l2, now), Inserted::Added);
    assert_eq!(t.len(), 3);
}

#[test]
fn states_follow_the_fifteen_minute_rule() {
    let now = Instant::now();
    let config = TableConfig::default();
    let mut rng = SmallRng::seed_from_u64(3);
    let mut t = table(now);
    let a = node(1, 1, &mut rng);
    t.on_response(a, now);
    let state = |t: &RoutingTable, at| t.get(&a.addr).unwrap().state(at, &config);
    assert_eq!(state(&t, now + Duration::from_secs(14 * 60)), NodeState::Good);
    let later = now + Duration::from_secs(16 * 60);
    assert_eq!(state(&t, later), NodeState::Questionable);
    // A query from it makes it good again (it has answered before).
    assert!(t.on_query(&a.id, &a.addr, later));
    assert_eq!(state(&t, later), NodeState::Good);
    assert!(!t.on_query(&NodeId([1; 20]), &a.addr, later), "id must match");
    t.on_failure(&a.addr, later);
    assert_eq!(state(&t, later), NodeState::Questionable);
    t.on_failure(&a.addr, later);
    assert_eq!(state(&t, later), NodeState::Bad);
    assert!(t.closest(&a.id, 8, later).is_empty(), "bad nodes are not handed out");
    t.on_response(a, later);
    assert_eq!(state(&t, later), NodeState::Good);
}

#[test]
fn questionable_nodes_are_pinged_then_replaced() {
    let now = Instant::now();
    let mut rng = SmallRng::seed_from_u64(4);
    let mut t = table(now);
    let far: Vec<_> = (0..8).map(|n| node(0, n, &mut rng)).collect();
    for n in &far {
        t.on_response(*n, now);
    }
    let near = node(4, 1, &mut rng); // splits: keeps bucket 0 full of far nodes
    t.on_response(near, now);
    let later = now + Duration::from_secs(20 * 60);
    // Everyone in bucket 0 is questionable now; refresh all but far[3].
    for (i, n) in far.iter().enumerate() {
        if i != 3 {
            t.on_response(*n, later);
        }
    }
    let newcomer = node(0, 100, &mut rng);
    assert_eq!(t.on_response(newcomer, later), Inserted::Cached(Some(far[3])));
    // The same node is not pinged twice at once.
    let another = node(0, 101, &mut rng);
    assert_eq!(t.on_response(another, later), Inserted::Cached(None));
    // First failure: ping again; second: replaced by the newest replacement.
    assert_eq!(t.on_failure(&far[3].addr, later), Some(far[3]));
    assert_eq!(t.on_failure(&far[3].addr, later), None);
    assert!(t.get(&far[3].addr).is_none());
    assert!(t.get(&another.addr).is_some());
    assert_eq!(t.len(), 9);
}

#[test]
fn closest_orders_by_xor_distance() {
    let now = Instant::now();
    let mut rng = SmallRng::seed_from_u64(5);
    let mut t = table(now);
    let nodes: Vec<_> = (0..40).map(|i| node(i % 12, i as u8, &mut rng)).collect();
    for n in &nodes {
        t.on_response(*n, now);
    }
    let target = NodeId::random(&mut rng);
    let got = t.closest(&target, 8, now);
    assert_eq!(got.len(), 8);
    let mut all: Vec<_> = t.entries().map(|e| e.info).collect();
    all.sort_by_key(|n| n.id.distance(&target));
    assert_eq!(got, all[..8]);
}

#[test]
fn stale_buckets_are_refreshed_once_per_interval() {
    let now = Instant::now();
    let interval = Duration::from_secs(15 * 60);
    let mut rng = SmallRng::seed_from_u64(6);
    let mut t = table(now);
    for n in 0..9 {
        t.on_response(node(if n < 8 { 0 } else { 2 }, n, &mut rng), now);
    }
    assert_eq!(t.next_refresh(interval), Some(now + interval));
    assert_eq!(t.take_stale_bucket(now, interval, &mut rng), None);
    let later = now + interval;
    let target = t.take_stale_bucket(later, interval, &mut rng).unwrap();
    assert_eq!(own().common_prefix_len(&target), 0, "bucket 0 first");
    let target = t.take_stale_bucket(later, interval, &mut rng).unwrap();
    assert!(own().common_prefix_len(&target) >= 1);
    assert_eq!(t.take_stale_bucket(later, interval, &mut rng), None);
    assert_eq!(t.next_refresh(interval), Some(later + interval));
}

#[test]
fn would_accept_reflects_room() {
    let now = Instant::now();
    let mut rng = SmallRng::seed_from_u64(7);
    let mut t = table(now);
    let first = node(0, 0, &mut rng);
    t.on_response(first, now);
    assert!(!t.would_accept(&first.id, "9.9.9.9".parse().unwrap(), now));
    assert!(!t.would_accept(&NodeId([1; 20]), first.addr.ip(), now));
    assert!(t.would_accept(&NodeId([0x80; 20]), "9.9.9.9".parse().unwrap(), now));
    assert!(!t.would_accept(&own(), "9.9.9.9".parse().unwrap(), now));
}
