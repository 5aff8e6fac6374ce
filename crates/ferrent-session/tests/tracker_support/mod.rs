//! Helpers shared by the tracker integration tests: bounded waits on announcer events, a
//! config builder and query-string decoding.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use ferrent_core::InfoHashV1;
use ferrent_session::tracker::{
    http_client, spawn_announcer, AnnounceConfig, AnnouncerHandle, TrackerEvent, TransferStats,
};
use tokio::sync::mpsc::{self, UnboundedReceiver};

/// The longest any test waits for one thing.
pub const WAIT: Duration = Duration::from_secs(20);

/// An announcer config for `tiers`, with a short UDP retransmission base for loopback.
pub fn config(
    info_hash: InfoHashV1,
    peer_id: [u8; 20],
    port: u16,
    tiers: &[&[&str]],
) -> AnnounceConfig {
    AnnounceConfig {
        info_hash,
        peer_id,
        port,
        tiers: tiers.iter().map(|t| t.iter().map(|s| s.to_string()).collect()).collect(),
        numwant: 50,
        udp_retransmit_base: Duration::from_millis(500),
    }
}

/// Starts an announcer that reports `left` bytes missing; returns it with its event stream.
pub fn start(cfg: AnnounceConfig, left: u64) -> (AnnouncerHandle, UnboundedReceiver<TrackerEvent>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let stats = Arc::new(move || TransferStats { uploaded: 0, downloaded: 0, left });
    let events = move |event| {
        let _ = tx.send(event);
    };
    (spawn_announcer(cfg, http_client(), stats, events), rx)
}

/// Waits (at most [`WAIT`]) for an event that `pick` accepts, panicking with every event seen
/// otherwise.
pub async fn wait_for<T>(
    rx: &mut UnboundedReceiver<TrackerEvent>,
    what: &str,
    mut pick: impl FnMut(&TrackerEvent) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(event)) => {
                if let Some(found) = pick(&event) {
                    return found;
                }
                seen.push(event);
            }
            Ok(None) => panic!("event stream ended while waiting for {what}; saw {seen:#?}"),
            Err(_) => panic!("no {what} within {WAIT:?}; saw {seen:#?}"),
        }
    }
}

/// Waits for `Announced` from `url` and returns its interval.
pub async fn announced(rx: &mut UnboundedReceiver<TrackerEvent>, url: &str) -> Duration {
    wait_for(rx, &format!("Announced from {url}"), |e| match e {
        TrackerEvent::Announced { url: u, interval, .. } if u == url => Some(*interval),
        _ => None,
    })
    .await
}

/// The decoded value of `key` in the query of a request target such as `/a?x=%41`.
pub fn query_value(target: &str, key: &str) -> Option<Vec<u8>> {
    let query = target.split_once('?')?.1;
    let raw = query.split('&').find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))?;
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// A port on 127.0.0.1 that is free for both TCP and UDP right now.
pub fn free_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a TCP port");
        let port = tcp.local_addr().expect("local address").port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}
