//! Tests of the UDP state machine against a scripted tracker, with fake time.

use std::net::{Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use ferrent_core::InfoHashV1;
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::*;
use crate::{AnnounceEvent, AnnounceRequest};

const CONNECTION_ID: u64 = 0x5555_6666_7777_8888;

fn request(event: AnnounceEvent) -> AnnounceRequest {
    AnnounceRequest {
        info_hash: InfoHashV1([7; 20]),
        peer_id: [9; 20],
        port: 6881,
        uploaded: 0,
        downloaded: 0,
        left: 100,
        event,
        numwant: Some(30),
        key: 1,
        tracker_id: None,
    }
}

fn tracker(config: UdpConfig, ipv6: bool) -> UdpTracker {
    UdpTracker::new(config, ipv6, Vec::new(), &mut StdRng::seed_from_u64(3))
}

fn fast() -> UdpConfig {
    UdpConfig { retransmit_base: Duration::from_secs(1), ..UdpConfig::default() }
}

fn u32_at(data: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(data[at..at + 4].try_into().unwrap())
}

fn u64_at(data: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(data[at..at + 8].try_into().unwrap())
}

/// Checks `datagram` is a connect request and returns its transaction id.
fn expect_connect(datagram: &[u8]) -> u32 {
    assert_eq!(datagram.len(), CONNECT_LEN);
    assert_eq!(u64_at(datagram, 0), PROTOCOL_ID);
    assert_eq!(u32_at(datagram, 8), 0);
    u32_at(datagram, 12)
}

/// Checks `datagram` is an announce request on `CONNECTION_ID`; returns its transaction id.
fn expect_announce(datagram: &[u8]) -> u32 {
    assert!(datagram.len() >= ANNOUNCE_LEN);
    assert_eq!(u64_at(datagram, 0), CONNECTION_ID);
    assert_eq!(u32_at(datagram, 8), 1);
    u32_at(datagram, 12)
}

fn connect_reply(tid: u32) -> Vec<u8> {
    let mut out = vec![0, 0, 0, 0];
    out.extend_from_slice(&tid.to_be_bytes());
    out.extend_from_slice(&CONNECTION_ID.to_be_bytes());
    out
}

fn announce_reply(tid: u32, peers: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0, 1];
    out.extend_from_slice(&tid.to_be_bytes());
    out.extend_from_slice(&1800u32.to_be_bytes());
    out.extend_from_slice(&5u32.to_be_bytes());
    out.extend_from_slice(&8u32.to_be_bytes());
    out.extend_from_slice(peers);
    out
}

/// Drives a full connect + announce exchange; returns the decoded response.
fn complete_announce(t: &mut UdpTracker, now: Instant) -> crate::AnnounceResponse {
    let tid = expect_announce(&t.poll_transmit().expect("announce sent"));
    t.handle_datagram(&announce_reply(tid, &[1, 2, 3, 4, 0, 80]), now);
    match t.poll_event() {
        Some(UdpEvent::Announced(response)) => response,
        other => panic!("expected Announced, got {other:?}"),
    }
}

#[test]
fn connect_then_announce() {
    let now = Instant::now();
    let mut t = tracker(UdpConfig::default(), false);
    assert!(!t.is_busy());
    t.announce(request(AnnounceEvent::Started), now);
    assert!(t.is_busy());
    let tid = expect_connect(&t.poll_transmit().unwrap());
    assert_eq!(t.poll_transmit(), None, "one datagram per step");
    assert_eq!(t.poll_timeout(), Some(now + Duration::from_secs(15)));

    t.handle_datagram(&connect_reply(tid), now);
    let announce = t.poll_transmit().unwrap();
    let announce_tid = expect_announce(&announce);
    assert_eq!(u32_at(&announce, 80), 2, "event started");
    assert_eq!(u32_at(&announce, 92), 30, "numwant");

    t.handle_datagram(&announce_reply(announce_tid, &[1, 2, 3, 4, 0, 80, 5, 6, 7, 8, 0, 81]), now);
    let Some(UdpEvent::Announced(response)) = t.poll_event() else { panic!("no event") };
    assert_eq!(response.interval, Duration::from_secs(1800));
    assert_eq!((response.leechers, response.seeders), (Some(5), Some(8)));
    let expected: Vec<SocketAddr> =
        vec!["1.2.3.4:80".parse().unwrap(), "5.6.7.8:81".parse().unwrap()];
    assert_eq!(response.peers, expected);
    assert!(!t.is_busy());
    assert_eq!(t.poll_timeout(), None);
    assert_eq!(t.poll_event(), None);
}

#[test]
fn stray_datagrams_are_ignored() {
    let now = Instant::now();
    let mut t = tracker(UdpConfig::default(), false);
    t.handle_datagram(&connect_reply(1), now);
    assert_eq!((t.poll_transmit(), t.poll_event()), (None, None), "nothing in progress");

    t.announce(request(AnnounceEvent::None), now);
    let tid = expect_connect(&t.poll_transmit().unwrap());
    t.handle_datagram(&connect_reply(tid.wrapping_add(1)), now);
    t.handle_datagram(&connect_reply(tid)[..15], now);
    t.handle_datagram(&announce_reply(tid.wrapping_add(1), &[]), now);
    t.handle_datagram(&[], now);
    assert_eq!((t.poll_transmit(), t.poll_event()), (None, None));

    t.handle_datagram(&connect_reply(tid), now);
    let announce_tid = expect_announce(&t.poll_transmit().unwrap());
    // A repeated connect answer no longer matches anything.
    t.handle_datagram(&connect_reply(tid), now);
    t.handle_datagram(&connect_reply(announce_tid), now);
    assert_eq!((t.poll_transmit(), t.poll_event()), (None, None));
    assert!(t.is_busy());
}

#[test]
fn retransmits_with_doubling_timeouts_then_gives_up() {
    let start = Instant::now();
    let config = UdpConfig { max_retransmits: 3, ..fast() };
    let mut t = tracker(config, false);
    t.announce(request(AnnounceEvent::None), start);
    let tid = expect_connect(&t.poll_transmit().unwrap());

    // Early timeouts change nothing.
    t.handle_timeout(start + Duration::from_millis(999));
    assert_eq!(t.poll_transmit(), None);

    let mut now = start;
    for n in 0..3u32 {
        let deadline = t.poll_timeout().unwrap();
        assert_eq!(deadline - now, Duration::from_secs(1 << n), "wait number {n}");
        now = deadline;
        t.handle_timeout(now);
        assert_eq!(expect_connect(&t.poll_transmit().unwrap()), tid, "same transaction");
    }
    assert_eq!(t.poll_timeout().unwrap() - now, Duration::from_secs(8));
    t.handle_timeout(t.poll_timeout().unwrap());
    assert_eq!(t.poll_transmit(), None);
    assert_eq!(t.poll_event(), Some(UdpEvent::GaveUp { attempts: 4 }));
    assert!(!t.is_busy());
    assert_eq!(t.poll_timeout(), None);
}

#[test]
fn default_timing_is_bep_15() {
    let config = UdpConfig::default();
    assert_eq!(config.retransmit_base, Duration::from_secs(15));
    assert_eq!(config.max_retransmits, 8);
    assert_eq!(config.connection_id_lifetime, Duration::from_secs(60));
    let start = Instant::now();
    let mut t = tracker(config, false);
    t.announce(request(AnnounceEvent::None), start);
    let mut now = start;
    while let Some(deadline) = t.poll_timeout() {
        now = deadline;
        t.handle_timeout(now);
    }
    // 15 * (1 + 2 + ... + 256) seconds: the last wait is 15 * 2^8 = 3840 s.
    assert_eq!(now - start, Duration::from_secs(15 * 511));
    assert_eq!(t.poll_event(), Some(UdpEvent::GaveUp { attempts: 9 }));
}

#[test]
fn connection_id_is_reused_for_one_minute() {
    let start = Instant::now();
    let mut t = tracker(UdpConfig::default(), false);
    t.announce(request(AnnounceEvent::Started), start);
    let tid = expect_connect(&t.poll_transmit().unwrap());
    t.handle_datagram(&connect_reply(tid), start);
    complete_announce(&mut t, start);

    let later = start + Duration::from_secs(59);
    t.announce(request(AnnounceEvent::None), later);
    complete_announce(&mut t, later);

    let expired = start + Duration::from_secs(60);
    t.announce(request(AnnounceEvent::None), expired);
    expect_connect(&t.poll_transmit().unwrap());
}

#[test]
fn expired_connection_during_retransmission_reconnects() {
    let start = Instant::now();
    let config = UdpConfig { retransmit_base: Duration::from_secs(40), ..UdpConfig::default() };
    let mut t = tracker(config, false);
    t.announce(request(AnnounceEvent::None), start);
    let tid = expect_connect(&t.poll_transmit().unwrap());
    t.handle_datagram(&connect_reply(tid), start);
    let announce_tid = expect_announce(&t.poll_transmit().unwrap());

    // The retransmission at 40 s still has a valid connection id.
    let first = t.poll_timeout().unwrap();
    t.handle_timeout(first);
    assert_eq!(expect_announce(&t.poll_transmit().unwrap()), announce_tid);
    // The next one, at 120 s, must reconnect first.
    let second = t.poll_timeout().unwrap();
    assert_eq!(second - start, Duration::from_secs(120));
    t.handle_timeout(second);
    let reconnect_tid = expect_connect(&t.poll_transmit().unwrap());
    // A late answer to the earlier announce is still accepted.
    t.handle_datagram(&announce_reply(announce_tid, &[]), second);
    assert!(matches!(t.poll_event(), Some(UdpEvent::Announced(_))));
    assert!(!t.is_busy());

    // And a connect answer arriving after that is ignored.
    t.handle_datagram(&connect_reply(reconnect_tid), second);
    assert_eq!(t.poll_transmit(), None);
}

#[test]
fn reconnect_answer_resumes_the_announce() {
    let start = Instant::now();
    let config = UdpConfig { retransmit_base: Duration::from_secs(70), ..UdpConfig::default() };
    let mut t = tracker(config, false);
    t.announce(request(AnnounceEvent::None), start);
    let tid = expect_connect(&t.poll_transmit().unwrap());
    t.handle_datagram(&connect_reply(tid), start);
    expect_announce(&t.poll_transmit().unwrap());
    let deadline = t.poll_timeout().unwrap();
    t.handle_timeout(deadline);
    let reconnect = expect_connect(&t.poll_transmit().unwrap());
    t.handle_datagram(&connect_reply(reconnect), deadline);
    let response = complete_announce(&mut t, deadline);
    assert_eq!(response.peers, vec!["1.2.3.4:80".parse::<SocketAddr>().unwrap()]);
}

#[test]
fn error_action_ends_the_announce() {
    let now = Instant::now();
    let mut t = tracker(UdpConfig::default(), false);
    t.announce(request(AnnounceEvent::None), now);
    let tid = expect_connect(&t.poll_transmit().unwrap());
    let mut error = vec![0, 0, 0, 3];
    error.extend_from_slice(&tid.to_be_bytes());
    error.extend_from_slice(b"torrent not\x1b registered");
    t.handle_datagram(&error, now);
    assert_eq!(t.poll_event(), Some(UdpEvent::Error("torrent not\u{FFFD} registered".into())));
    assert!(!t.is_busy());
    t.handle_timeout(now + Duration::from_secs(3600));
    assert_eq!((t.poll_transmit(), t.poll_event()), (None, None));
}

#[test]
fn ipv6_tracker_gives_18_byte_peers() {
    let now = Instant::now();
    let mut t = tracker(UdpConfig::default(), true);
    t.announce(request(AnnounceEvent::None), now);
    let tid = expect_connect(&t.poll_transmit().unwrap());
    t.handle_datagram(&connect_reply(tid), now);
    let tid = expect_announce(&t.poll_transmit().unwrap());
    let mut peer = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).octets().to_vec();
    peer.extend_from_slice(&6881u16.to_be_bytes());
    t.handle_datagram(&announce_reply(tid, &peer), now);
    let Some(UdpEvent::Announced(response)) = t.poll_event() else { panic!("no event") };
    assert_eq!(response.peers, vec!["[2001:db8::1]:6881".parse::<SocketAddr>().unwrap()]);
}

#[test]
fn url_data_rides_on_announces() {
    let now = Instant::now();
    let mut t =
        UdpTracker::new(fast(), false, b"/announce".to_vec(), &mut StdRng::seed_from_u64(1));
    t.announce(request(AnnounceEvent::None), now);
    let tid = expect_connect(&t.poll_transmit().unwrap());
    t.handle_datagram(&connect_reply(tid), now);
    let announce = t.poll_transmit().unwrap();
    assert_eq!(announce[ANNOUNCE_LEN..], *b"\x02\x09/announce\x00");
}

#[test]
fn a_new_announce_replaces_the_pending_one() {
    let now = Instant::now();
    let mut t = tracker(UdpConfig::default(), false);
    t.announce(request(AnnounceEvent::None), now);
    let first = expect_connect(&t.poll_transmit().unwrap());
    t.announce(request(AnnounceEvent::Stopped), now);
    let second = expect_connect(&t.poll_transmit().unwrap());
    assert_ne!(first, second);
    t.handle_datagram(&connect_reply(first), now);
    assert_eq!(t.poll_transmit(), None);
    t.handle_datagram(&connect_reply(second), now);
    let announce = t.poll_transmit().unwrap();
    assert_eq!(u32_at(&announce, 80), 3, "event stopped");
}
