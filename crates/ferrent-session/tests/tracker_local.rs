//! The tracker driver against a scripted HTTP tracker on 127.0.0.1: failure reasons,
//! warnings, dictionary peers (IPv6 and host names), size limits, tier fallback, the
//! `completed`/`stopped` events, task shutdown, and one hub announcing for many torrents.

mod tracker_support;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ferrent_bencode::OwnedValue;
use ferrent_core::InfoHashV1;
use ferrent_session::tracker::{announce, http_client, TrackerEvent, TrackerHub, TransferStats};
use ferrent_tracker::{AnnounceEvent, AnnounceRequest, TrackerError, UdpConfig, MAX_RESPONSE_LEN};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tracker_support::{announced, config, free_port, query_value, start, wait_for, WAIT};

const HASH: InfoHashV1 = InfoHashV1(*b"\x00\x01 &?%#=+\xff tracker-t");
const PEER_ID: [u8; 20] = *b"-FE0001-local/test!!";

/// One scripted HTTP answer.
#[derive(Clone)]
struct Reply {
    status: u16,
    body: Vec<u8>,
    /// Send a `Content-Length` header (otherwise the body ends when the connection closes).
    with_length: bool,
}

fn ok(body: OwnedValue) -> Reply {
    Reply { status: 200, body: body.encode(), with_length: true }
}

/// Serves `replies` in turn (the last one forever), one request per connection; returns the
/// URL and the request targets received.
async fn serve(replies: Vec<Reply>) -> (String, UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/announce", listener.local_addr().expect("address"));
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        for n in 0.. {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                match tokio::time::timeout(WAIT, stream.read(&mut buf)).await {
                    Ok(Ok(len)) if len > 0 => head.extend_from_slice(&buf[..len]),
                    _ => break,
                }
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
            let _ = tx.send(target);
            let reply = &replies[n.min(replies.len() - 1)];
            let mut out = format!("HTTP/1.1 {} Scripted\r\nConnection: close\r\n", reply.status);
            if reply.with_length {
                out.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
            }
            out.push_str("\r\n");
            let mut bytes = out.into_bytes();
            bytes.extend_from_slice(&reply.body);
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
    });
    (url, rx)
}

/// The next request target the scripted tracker received.
async fn next_target(targets: &mut UnboundedReceiver<String>) -> String {
    tokio::time::timeout(WAIT, targets.recv())
        .await
        .expect("no request reached the tracker in time")
        .expect("tracker task ended")
}

fn event_of(target: &str) -> Option<String> {
    query_value(target, "event").map(|v| String::from_utf8(v).expect("ASCII event"))
}

fn request() -> AnnounceRequest {
    AnnounceRequest {
        info_hash: HASH,
        peer_id: PEER_ID,
        port: 6881,
        uploaded: 0,
        downloaded: 0,
        left: 1,
        event: AnnounceEvent::None,
        numwant: None,
        key: 5,
        tracker_id: None,
    }
}

async fn announce_once(url: &str) -> Result<ferrent_tracker::AnnounceResponse, TrackerError> {
    let (client, request) = (http_client(), request());
    let work = announce(&client, url, &request, UdpConfig::default());
    tokio::time::timeout(WAIT, work).await.expect("announce timed out")
}

#[tokio::test]
async fn failure_reason_is_reported_and_the_query_is_complete() {
    let reply = ok(OwnedValue::dict([("failure reason", OwnedValue::from("torrent banned"))]));
    let (url, mut targets) = serve(vec![reply]).await;
    let (handle, mut events) = start(config(HASH, PEER_ID, 6881, &[&[&url]]), 12_345);

    let target = next_target(&mut targets).await;
    assert!(target.starts_with("/announce?"), "{target}");
    assert_eq!(query_value(&target, "info_hash").as_deref(), Some(&HASH.0[..]));
    assert_eq!(query_value(&target, "peer_id").as_deref(), Some(&PEER_ID[..]));
    for (key, value) in [
        ("port", "6881"),
        ("left", "12345"),
        ("compact", "1"),
        ("numwant", "50"),
        ("event", "started"),
    ] {
        assert_eq!(
            query_value(&target, key).as_deref(),
            Some(value.as_bytes()),
            "{key} in {target}"
        );
    }
    assert!(query_value(&target, "key").is_some());

    let message = wait_for(&mut events, "an Error", |e| match e {
        TrackerEvent::Error { url: u, message } if *u == url => Some(message.clone()),
        _ => None,
    })
    .await;
    assert!(message.contains("torrent banned"), "{message}");
    // Never acknowledged `started`, so nothing to stop.
    handle.stop(Duration::from_secs(5)).await;
    assert!(targets.try_recv().is_err(), "no `stopped` for a tracker that refused `started`");
}

#[tokio::test]
async fn warning_and_dictionary_peers_including_ipv6_and_host_names() {
    let peer = |ip: &str, port: i64| {
        OwnedValue::dict([("ip", OwnedValue::from(ip)), ("port", OwnedValue::from(port))])
    };
    let body = OwnedValue::dict([
        ("interval", OwnedValue::from(1800)),
        ("complete", OwnedValue::from(3)),
        ("incomplete", OwnedValue::from(4)),
        ("warning message", OwnedValue::from("tracker will move")),
        (
            "peers",
            OwnedValue::list([
                peer("192.0.2.1", 6881),
                peer("2001:db8::1", 51413),
                peer("localhost", 7000),
                peer("192.0.2.2", 99_999),
                OwnedValue::from("junk"),
            ]),
        ),
    ]);
    let (url, _targets) = serve(vec![ok(body)]).await;
    let (handle, mut events) = start(config(HASH, PEER_ID, 6881, &[&[&url]]), 1);

    let peers = wait_for(&mut events, "Peers", |e| match e {
        TrackerEvent::Peers(p) => Some(p.clone()),
        _ => None,
    })
    .await;
    let v4: SocketAddr = "192.0.2.1:6881".parse().unwrap();
    let v6: SocketAddr = "[2001:db8::1]:51413".parse().unwrap();
    assert_eq!(peers[..2], [v4, v6], "{peers:?}");
    assert_eq!(peers.len(), 3, "the host name is resolved, the bad entries dropped: {peers:?}");
    assert!(peers[2].ip().is_loopback() && peers[2].port() == 7000, "{peers:?}");

    let warning = wait_for(&mut events, "a Warning", |e| match e {
        TrackerEvent::Warning { message, .. } => Some(message.clone()),
        _ => None,
    })
    .await;
    assert_eq!(warning, "tracker will move");
    let counts = wait_for(&mut events, "Announced", |e| match e {
        TrackerEvent::Announced { seeders, leechers, interval, .. } => {
            Some((*seeders, *leechers, *interval))
        }
        _ => None,
    })
    .await;
    assert_eq!(counts, (Some(3), Some(4), Duration::from_secs(1800)));
    handle.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn dead_first_tier_falls_back_to_the_second() {
    let body = OwnedValue::dict([
        ("interval", OwnedValue::from(1800)),
        ("peers", OwnedValue::bytes(vec![127, 0, 0, 1, 0x1a, 0xe1])),
    ]);
    let (live, mut targets) = serve(vec![ok(body)]).await;
    let dead_http = format!("http://127.0.0.1:{}/announce", free_port());
    let dead_udp = format!("udp://127.0.0.1:{}/announce", free_port());
    let cfg = config(HASH, PEER_ID, 6881, &[&[&dead_http, &dead_udp], &[&live]]);
    let (handle, mut events) = start(cfg, 1);

    let mut failed = Vec::new();
    wait_for(&mut events, "Announced from the second tier", |e| match e {
        TrackerEvent::Error { url, .. } => {
            failed.push(url.clone());
            None
        }
        TrackerEvent::Announced { url, .. } if *url == live => Some(()),
        _ => None,
    })
    .await;
    failed.sort();
    let mut expected = vec![dead_http, dead_udp];
    expected.sort();
    assert_eq!(failed, expected, "both dead trackers were tried first");
    assert_eq!(event_of(&next_target(&mut targets).await).as_deref(), Some("started"));

    // `stopped` goes to the tracker that acknowledged `started`, asking for no peers.
    handle.stop(Duration::from_secs(5)).await;
    let target = next_target(&mut targets).await;
    assert_eq!(event_of(&target).as_deref(), Some("stopped"));
    assert_eq!(query_value(&target, "numwant").as_deref(), Some(&b"0"[..]));
}

#[tokio::test]
async fn silent_udp_tracker_gives_way_to_the_next_tier() {
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let silent_url = format!("udp://{}", silent.local_addr().expect("address"));
    let (live, _targets) =
        serve(vec![ok(OwnedValue::dict([("interval", OwnedValue::from(60))]))]).await;
    // `config` sets a 500 ms retransmission base: sends at 0, 0.5 and 1.5 s, give up at 3.5 s.
    let started = tokio::time::Instant::now();
    let (handle, mut events) = start(config(HASH, PEER_ID, 6881, &[&[&silent_url], &[&live]]), 1);
    let message = wait_for(&mut events, "an Error from the silent tracker", |e| match e {
        TrackerEvent::Error { url, message } if *url == silent_url => Some(message.clone()),
        _ => None,
    })
    .await;
    let waited = started.elapsed();
    assert!(message.contains("3 attempts"), "{message}");
    assert!(
        waited >= Duration::from_millis(3400) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    announced(&mut events, &live).await;

    let mut buf = [0u8; 64];
    for _ in 0..3 {
        let len = silent.try_recv(&mut buf).expect("a connect request was queued");
        assert_eq!(len, 16, "connect requests only");
    }
    assert!(silent.try_recv(&mut buf).is_err(), "exactly three sends");
    handle.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn completed_and_reannounce_reach_the_tracker() {
    let body = OwnedValue::dict([
        ("interval", OwnedValue::from(1800)),
        ("tracker id", OwnedValue::from("session-7")),
    ]);
    let (url, mut targets) = serve(vec![ok(body)]).await;
    let (handle, mut events) = start(config(HASH, PEER_ID, 6881, &[&[&url]]), 1);
    announced(&mut events, &url).await;
    let first = next_target(&mut targets).await;
    assert_eq!(event_of(&first).as_deref(), Some("started"));
    assert_eq!(query_value(&first, "trackerid"), None);

    handle.completed();
    let target = next_target(&mut targets).await;
    assert_eq!(event_of(&target).as_deref(), Some("completed"));
    assert_eq!(query_value(&target, "trackerid").as_deref(), Some(&b"session-7"[..]));
    announced(&mut events, &url).await;

    // No `min interval` was given, so an early announce may go at once; it has no event.
    handle.reannounce();
    let target = next_target(&mut targets).await;
    assert_eq!(event_of(&target), None, "{target}");
    announced(&mut events, &url).await;

    handle.stop(Duration::from_secs(5)).await;
    assert_eq!(event_of(&next_target(&mut targets).await).as_deref(), Some("stopped"));
}

#[tokio::test]
async fn dropping_the_handle_ends_the_task() {
    let (url, mut targets) =
        serve(vec![ok(OwnedValue::dict([("interval", OwnedValue::from(1800))]))]).await;
    let (handle, mut events) = start(config(HASH, PEER_ID, 6881, &[&[&url]]), 1);
    announced(&mut events, &url).await;
    next_target(&mut targets).await;
    drop(handle);
    // The task owns the only sender: the stream ends once the task is gone.
    let end = tokio::time::timeout(WAIT, async { while events.recv().await.is_some() {} }).await;
    assert!(end.is_ok(), "announcer task still running after its handle was dropped");
    assert!(targets.try_recv().is_err(), "dropping is not stopping: no `stopped` is sent");
}

#[tokio::test]
async fn oversized_and_non_bencode_answers_are_refused() {
    let too_large = TrackerError::TooLarge { limit: MAX_RESPONSE_LEN };
    let big = vec![b'x'; MAX_RESPONSE_LEN + 1];

    let (url, _t) = serve(vec![Reply { status: 200, body: big.clone(), with_length: true }]).await;
    assert_eq!(announce_once(&url).await, Err(too_large.clone()), "declared length");

    let (url, _t) = serve(vec![Reply { status: 200, body: big, with_length: false }]).await;
    assert_eq!(announce_once(&url).await, Err(too_large), "streamed body");

    let html = Reply { status: 404, body: b"<html>not found</html>".to_vec(), with_length: true };
    let (url, _t) = serve(vec![html]).await;
    assert_eq!(announce_once(&url).await, Err(TrackerError::HttpStatus(404)));

    let failure = OwnedValue::dict([("failure reason", OwnedValue::from("passkey invalid"))]);
    let (url, _t) = serve(vec![Reply { status: 403, ..ok(failure) }]).await;
    assert_eq!(announce_once(&url).await, Err(TrackerError::Failure("passkey invalid".into())));

    let (url, _t) =
        serve(vec![Reply { status: 200, body: b"d5:peersi3ee".to_vec(), with_length: true }]).await;
    assert!(matches!(
        announce_once(&url).await,
        Err(TrackerError::BadField { field: "peers", .. })
    ));

    let refused = announce_once(&format!("http://127.0.0.1:{}/announce", free_port())).await;
    let Err(TrackerError::Transport(message)) = refused else { panic!("{refused:?}") };
    assert!(!message.contains("info_hash"), "the URL (with our ids) stays out: {message}");
}

#[tokio::test]
async fn one_hub_announces_for_many_torrents_and_stops_each_alone() {
    // More than the hub runs at once (64): the rest wait for a slot.
    const TORRENTS: u8 = 100;
    let (url, mut targets) =
        serve(vec![ok(OwnedValue::dict([("interval", OwnedValue::from(1800))]))]).await;
    let hub = TrackerHub::start(http_client());
    let mut torrents = Vec::new();
    for n in 0..TORRENTS {
        let (tx, rx) = mpsc::unbounded_channel();
        let stats = Arc::new(|| TransferStats { uploaded: 0, downloaded: 0, left: 0 });
        let cfg = config(InfoHashV1([n; 20]), PEER_ID, 6881, &[&[&url]]);
        let handle = hub.add(cfg, stats, move |event| {
            let _ = tx.send(event);
        });
        torrents.push((n, handle, rx));
    }
    drop(hub);
    let info_hash = |target: &str| query_value(target, "info_hash").expect("info_hash");
    let mut started = HashSet::new();
    for _ in 0..TORRENTS {
        let target = next_target(&mut targets).await;
        assert_eq!(event_of(&target).as_deref(), Some("started"), "{target}");
        started.insert(info_hash(&target));
    }
    assert_eq!(started.len(), usize::from(TORRENTS), "each torrent announced once");
    for (_, _, events) in &mut torrents {
        announced(events, &url).await;
    }

    // Even torrents stop (each sends `stopped`); odd ones are dropped (nothing is sent, and
    // their reports end).
    let mut dropped = Vec::new();
    for (n, handle, events) in torrents {
        if n % 2 == 0 {
            handle.stop(Duration::from_secs(5)).await;
        } else {
            drop(handle);
            dropped.push(events);
        }
    }
    let mut stopped = HashSet::new();
    for _ in 0..TORRENTS / 2 {
        let target = next_target(&mut targets).await;
        assert_eq!(event_of(&target).as_deref(), Some("stopped"), "{target}");
        stopped.insert(info_hash(&target));
    }
    let even: HashSet<_> = (0..TORRENTS).step_by(2).map(|n| vec![n; 20]).collect();
    assert_eq!(stopped, even);
    for mut events in dropped {
        let end = tokio::time::timeout(WAIT, async { while events.recv().await.is_some() {} });
        assert!(end.await.is_ok(), "a dropped torrent's reports did not end");
    }
    assert!(targets.try_recv().is_err(), "a dropped torrent sent something");
}
