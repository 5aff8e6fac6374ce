//! The tracker driver: runs torrents' [`ferrent_tracker::Announcer`]s over real HTTP(S) and
//! UDP, and reports peers and tracker messages to a callback per torrent.
//!
//! A [`TrackerHub`] is one task for any number of torrents (see `hub.rs`);
//! [`TrackerHub::add`] registers a torrent and returns its [`AnnouncerHandle`], which tells
//! the hub that the download completed, asks for an early announce, or stops (sending
//! `stopped` to the trackers that were sent `started`). Dropping the handle forgets the
//! torrent at once.

mod hub;
mod transport;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ferrent_core::InfoHashV1;
use hub::Command;
use tokio::sync::{mpsc, oneshot};

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

/// Announces for many torrents from one task. Cloning gives another grip on the same hub;
/// the task ends when the hub and every handle it gave out are dropped.
#[derive(Clone, Debug)]
pub struct TrackerHub {
    commands: mpsc::UnboundedSender<Command>,
    next_id: Arc<AtomicU64>,
}

impl TrackerHub {
    /// Starts the hub's task, which announces with `http`. Must be called within a tokio
    /// runtime.
    pub fn start(http: reqwest::Client) -> Self {
        let (commands, receiver) = mpsc::unbounded_channel();
        tokio::spawn(hub::run(http, receiver));
        Self { commands, next_id: Arc::new(AtomicU64::new(1)) }
    }

    /// Starts announcing a torrent to its trackers; `events` is called with what they say
    /// and `stats` for the numbers of each announce.
    pub fn add(
        &self,
        cfg: AnnounceConfig,
        stats: Arc<dyn Fn() -> TransferStats + Send + Sync>,
        events: impl Fn(TrackerEvent) + Send + Sync + 'static,
    ) -> AnnouncerHandle {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let events = Box::new(events);
        let _ = self.commands.send(Command::Add { id, cfg, stats, events });
        AnnouncerHandle { id, commands: Some(self.commands.clone()) }
    }
}

/// One torrent's registration with a [`TrackerHub`]. Dropping it forgets the torrent
/// without telling its trackers.
#[derive(Debug)]
pub struct AnnouncerHandle {
    id: u64,
    /// `None` once stopped.
    commands: Option<mpsc::UnboundedSender<Command>>,
}

impl AnnouncerHandle {
    fn send(&self, command: Command) {
        if let Some(commands) = &self.commands {
            let _ = commands.send(command);
        }
    }

    /// The download has finished: send `completed` (once) at the next opportunity, which is
    /// right away unless an announce is in flight.
    pub fn completed(&self) {
        self.send(Command::Completed(self.id));
    }

    /// Announce as soon as the tracker's `min interval` allows.
    pub fn reannounce(&self) {
        self.send(Command::Reannounce(self.id));
    }

    /// Lets an announce under way finish within half of `timeout`, then sends `stopped` to
    /// every tracker that was sent `started`, in parallel, within the rest.
    pub async fn stop(mut self, timeout: Duration) {
        let Some(commands) = self.commands.take() else { return };
        let (done, finished) = oneshot::channel();
        if commands.send(Command::Stop { id: self.id, timeout, done }).is_err() {
            return;
        }
        // The hub bounds the stop by `timeout`; the margin covers its last bookkeeping.
        let margin = Duration::from_secs(1);
        let _ = tokio::time::timeout(timeout.saturating_add(margin), finished).await;
    }
}

impl Drop for AnnouncerHandle {
    fn drop(&mut self) {
        self.send(Command::Remove(self.id));
    }
}

/// Starts announcing one torrent on a hub of its own; see [`TrackerHub::add`]. The hub's
/// task ends with the handle.
pub fn spawn_announcer(
    cfg: AnnounceConfig,
    http: reqwest::Client,
    stats: Arc<dyn Fn() -> TransferStats + Send + Sync>,
    events: impl Fn(TrackerEvent) + Send + Sync + 'static,
) -> AnnouncerHandle {
    TrackerHub::start(http).add(cfg, stats, events)
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
