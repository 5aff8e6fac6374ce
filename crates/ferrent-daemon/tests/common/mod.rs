//! Shared helpers for the daemon's in-process tests: payloads, torrents, configurations on
//! 127.0.0.1 only (no DHT, no LSD), requests through the router, and bounded waits.

#![allow(dead_code)]

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use ferrent_daemon::api::{self, AppState, Security};
use ferrent_daemon::config::{BaseDirs, DaemonConfig};
use ferrent_daemon::model::{State, TorrentSummary};
use ferrent_daemon::Daemon;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// The token the in-process routers use.
pub const TOKEN: &str = "test-token-0123456789";
/// A loopback client.
pub const LOCAL_PEER: &str = "127.0.0.1:40000";
/// A client on another machine.
pub const REMOTE_PEER: &str = "192.0.2.10:40000";

/// Deterministic pseudo-random bytes (xorshift).
pub fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Writes `parent/name` with `len` bytes of content and returns the .torrent for it
/// (pieces of `piece` bytes).
pub fn make_torrent(parent: &Path, name: &str, len: usize, seed: u64, piece: u64) -> Vec<u8> {
    std::fs::create_dir_all(parent).unwrap();
    let path = parent.join(name);
    std::fs::write(&path, content(len, seed)).unwrap();
    ferrent_storage::create::TorrentBuilder::new(&path)
        .piece_length(Some(piece))
        .build(&|_, _| {})
        .expect("build a test torrent")
}

/// The hex info hash of a .torrent.
pub fn info_hash(torrent: &[u8]) -> String {
    ferrent_core::Metainfo::from_bytes(torrent).unwrap().info_hashes.v1.unwrap().to_hex()
}

/// A configuration under `root` that stays on 127.0.0.1.
pub fn config(root: &Path) -> DaemonConfig {
    let dirs = BaseDirs::from_lookup(|name| (name == "HOME").then(|| root.to_path_buf()));
    let mut c = DaemonConfig::with_dirs(&dirs);
    c.download_dir = root.join("downloads");
    c.state_dir = root.join("state");
    c.network.listen_addr = Some([127, 0, 0, 1].into());
    c.network.listen_port = 0;
    c.network.dht = false;
    c.network.lsd = false;
    c.api.bind = "127.0.0.1:0".parse().unwrap();
    c.state.save_interval_ms = 200;
    c.state.metadata_timeout_secs = 20;
    c.watch.interval_ms = 100;
    c
}

/// The router for `daemon` with the test token.
pub fn router(daemon: &Daemon) -> Router {
    let security = Arc::new(Security::new(&daemon.config().api, TOKEN.into()));
    let closing = tokio::sync::watch::channel(false).1;
    api::router(AppState { daemon: daemon.clone(), security, closing })
}

/// An answer: status, headers, body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The `error.code` of an error answer.
    pub fn code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_default().to_string()
    }
}

/// A request builder for the in-process router.
pub struct Req {
    request: Request<Body>,
    streaming: bool,
}

impl Req {
    pub fn new(method: Method, uri: &str) -> Self {
        let mut request = Request::builder().method(method).uri(uri).body(Body::empty()).unwrap();
        request.headers_mut().insert("host", "127.0.0.1:6880".parse().unwrap());
        request.extensions_mut().insert(ConnectInfo(LOCAL_PEER.parse::<SocketAddr>().unwrap()));
        Self { request, streaming: false }
    }

    pub fn get(uri: &str) -> Self {
        Self::new(Method::GET, uri)
    }

    pub fn post(uri: &str) -> Self {
        Self::new(Method::POST, uri)
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.request.headers_mut().insert(name, value.parse().unwrap());
        self
    }

    pub fn without(mut self, name: &'static str) -> Self {
        self.request.headers_mut().remove(name);
        self
    }

    pub fn peer(mut self, peer: &str) -> Self {
        self.request.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        self
    }

    pub fn json(self, value: serde_json::Value) -> Self {
        self.body("application/json", serde_json::to_vec(&value).unwrap())
    }

    pub fn body(mut self, content_type: &str, bytes: Vec<u8>) -> Self {
        self.request.headers_mut().insert("content-type", content_type.parse().unwrap());
        *self.request.body_mut() = Body::from(bytes);
        self
    }

    /// Do not read the body (event streams).
    pub fn streaming(mut self) -> Self {
        self.streaming = true;
        self
    }

    pub async fn send(self, app: &Router) -> Answer {
        let response = app.clone().oneshot(self.request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = if self.streaming {
            Vec::new()
        } else {
            axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec()
        };
        Answer { status, headers, body }
    }
}

/// Polls `probe` every 50 ms for at most `limit`; panics naming `what` on timeout.
pub async fn wait_for<T, F, Fut>(limit: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until torrent `id` of `daemon` is in `state`.
pub async fn wait_state(
    daemon: &Daemon,
    id: &str,
    state: State,
    limit: Duration,
) -> TorrentSummary {
    wait_for(limit, &format!("{id} to be {}", state.as_str()), || async {
        daemon.summary(id).ok().filter(|s| s.state == state)
    })
    .await
}

/// The files in `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `<state>/<hash>.<ext>`.
pub fn state_file(config: &DaemonConfig, hash: &str, ext: &str) -> PathBuf {
    config.state_dir.join(format!("{hash}.{ext}"))
}
