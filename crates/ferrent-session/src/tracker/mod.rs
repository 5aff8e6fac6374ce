//! The tracker driver: runs a torrent's [`ferrent_tracker::Announcer`] over real HTTP(S) and
//! UDP, and reports peers and tracker messages to a callback.
//!
//! [`spawn_announcer`] starts one task per torrent; the returned [`AnnouncerHandle`] tells it
//! that the download completed, asks for an early announce, or stops it (sending `stopped`
//! to the trackers that were sent `started`). Dropping the handle ends the task at once.

mod task;
mod transport;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ferrent_core::InfoHashV1;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use transport::announce;

/// What a torrent's announcer needs to know.
#[derive(Debug, Clone)]
pub struct AnnounceConfig {
    /// The torrent.
    pub info_hash: InfoHashV1,
    /// Our peer id.
    pub peer_id: [u8; 20],
    /// The port peers can reach us on.
    pub port: u16,
    /// Tracker URLs in tiers (BEP 12), as in the torrent's `announce-list`.
    pub tiers: Vec<Vec<String>>,
    /// How many peers to ask for per announce.
    pub numwant: u32,
    /// Base of the UDP retransmission timeout (BEP 15: 15 s). The n-th wait is
    /// `base * 2^n`; a tracker silent through three sends (7 bases) counts as failed.
    pub udp_retransmit_base: Duration,
}

/// Transfer totals reported in each announce.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct TransferStats {
    /// Bytes uploaded.
    pub uploaded: u64,
    /// Bytes downloaded.
    pub downloaded: u64,
    /// Bytes still missing.
    pub left: u64,
}

/// What the announcer reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackerEvent {
    /// Peers a tracker gave (without duplicates within one answer).
    Peers(Vec<SocketAddr>),
    /// A tracker answered an announce.
    Announced {
        /// The tracker.
        url: String,
        /// The interval it asked for.
        interval: Duration,
        /// Its count of seeders, if it gave one.
        seeders: Option<u32>,
        /// Its count of leechers, if it gave one.
        leechers: Option<u32>,
    },
    /// A tracker answered with a `warning message`.
    Warning {
        /// The tracker.
        url: String,
        /// The warning, safe to print.
        message: String,
    },
    /// An announce failed: the tracker refused it, could not be reached, or answered garbage.
    Error {
        /// The tracker.
        url: String,
        /// Why, safe to print.
        message: String,
    },
}

/// Orders for the announcer task.
#[derive(Debug)]
enum Command {
    Completed,
    Reannounce,
    Stop { timeout: Duration },
}

/// Controls a task started by [`spawn_announcer`]. Dropping it ends the task.
#[derive(Debug)]
pub struct AnnouncerHandle {
    commands: mpsc::UnboundedSender<Command>,
    task: JoinHandle<()>,
}

impl AnnouncerHandle {
    /// The download has finished: send `completed` (once) at the next opportunity, which is
    /// right away unless an announce is in flight.
    pub fn completed(&self) {
        let _ = self.commands.send(Command::Completed);
    }

    /// Announce as soon as the tracker's `min interval` allows.
    pub fn reannounce(&self) {
        let _ = self.commands.send(Command::Reannounce);
    }

    /// Sends `stopped` to every tracker that was sent `started`, in parallel, waits at most
    /// `timeout` for them, then ends the task.
    pub async fn stop(self, timeout: Duration) {
        let Self { commands, mut task } = self;
        let _ = commands.send(Command::Stop { timeout });
        drop(commands);
        // The task bounds itself by `timeout`; the margin covers its last bookkeeping.
        let margin = Duration::from_secs(1);
        if tokio::time::timeout(timeout.saturating_add(margin), &mut task).await.is_err() {
            task.abort();
        }
    }
}

/// Starts announcing a torrent to its trackers; `events` is called with what they say.
///
/// `stats` is called for the numbers of each announce. Must be called within a tokio
/// runtime. The task keeps going until its handle is stopped or dropped.
pub fn spawn_announcer(
    cfg: AnnounceConfig,
    http: reqwest::Client,
    stats: Arc<dyn Fn() -> TransferStats + Send + Sync>,
    events: impl Fn(TrackerEvent) + Send + Sync + 'static,
) -> AnnouncerHandle {
    let (commands, receiver) = mpsc::unbounded_channel();
    let task = tokio::spawn(task::run(cfg, http, stats, Box::new(events), receiver));
    AnnouncerHandle { commands, task }
}

/// An HTTP client for trackers: `ferrent/<version>` user agent, 10 s connect and 30 s total
/// timeouts, at most 5 redirects, reqwest's default proxy handling. See [`build_http_client`]
/// for which certificates HTTPS trusts.
pub fn http_client() -> reqwest::Client {
    build_http_client(|builder| {
        builder
            .user_agent(concat!("ferrent/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::limited(5))
    })
}

/// Builds an HTTP client with the settings `configure` applies.
///
/// HTTPS trusts the bundled webpki roots and the system's certificate store (which
/// `SSL_CERT_FILE` / `SSL_CERT_DIR` replace). A system store holding no usable certificate is
/// ignored with a warning rather than failing the client.
pub fn build_http_client(
    configure: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
) -> reqwest::Client {
    configure(reqwest::Client::builder())
        .build()
        .or_else(|error| {
            tracing::warn!(%error, "ignoring the system certificate store");
            configure(reqwest::Client::builder()).tls_built_in_native_certs(false).build()
        })
        // With the bundled roots only, building fails just if the TLS backend cannot start;
        // the default client would hit the same problem, so fall back to it rather than
        // invent another error path.
        .unwrap_or_default()
}
