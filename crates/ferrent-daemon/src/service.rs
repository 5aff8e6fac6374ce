//! [`Service`]: the daemon with its HTTP server and watch folder, started and stopped as
//! one, which is all `ferrent daemon` needs.

use crate::api::{self, AppState, Security};
use crate::config::DaemonConfig;
use crate::daemon::Daemon;
use crate::error::DaemonError;
use crate::store::{StateStore, StoreError};
use crate::watch::WatchFolder;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Time torrents get to stop and save at shutdown; the server gets the rest of 5 s.
const TORRENTS_BUDGET: Duration = Duration::from_secs(4);
const SERVER_BUDGET: Duration = Duration::from_millis(500);

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The daemon could not start.
    #[error(transparent)]
    Daemon(#[from] DaemonError),
    /// The API address could not be bound.
    #[error("cannot listen for the API on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The token file could not be read or created.
    #[error("API token: {0}")]
    Token(StoreError),
    /// The watch folder could not be created.
    #[error("cannot use watch folder {path}: {source}")]
    Watch {
        /// The folder.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// A running daemon, API server and watch folder.
pub struct Service {
    daemon: Daemon,
    api_addr: SocketAddr,
    token: String,
    closing: watch::Sender<bool>,
    server: JoinHandle<()>,
    watcher: Option<JoinHandle<()>>,
}

impl Service {
    /// Binds the API, reads (or creates) the token, starts the daemon and the watch folder.
    pub async fn start(config: DaemonConfig) -> Result<Service, ServiceError> {
        raise_open_file_limit();
        let bind = config.api.bind;
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|source| ServiceError::Bind { addr: bind, source })?;
        let api_addr =
            listener.local_addr().map_err(|source| ServiceError::Bind { addr: bind, source })?;
        let token =
            StateStore::secret(&config.token_file(), new_token).map_err(ServiceError::Token)?;
        let watch_dir = config.watch.dir.clone();
        let watch_interval = Duration::from_millis(config.watch.interval_ms);
        let security = Arc::new(Security::new(&config.api, token.clone()));
        let daemon = Daemon::start(config).await?;
        let (closing, closing_rx) = watch::channel(false);
        let app =
            api::router(AppState { daemon: daemon.clone(), security, closing: closing_rx.clone() });
        let mut stop = closing_rx;
        let server = tokio::spawn(async move {
            let serve =
                axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                    .with_graceful_shutdown(async move {
                        let _ = stop.wait_for(|closing| *closing).await;
                    });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "API server failed");
            }
        });
        let watcher = match watch_dir {
            Some(dir) => {
                let folder = WatchFolder::new(dir.clone())
                    .map_err(|source| ServiceError::Watch { path: dir, source })?;
                Some(tokio::spawn(folder.run(daemon.clone(), watch_interval)))
            }
            None => None,
        };
        tracing::info!(api = %format!("http://{api_addr}"), peer_port = daemon.listen_port(), "ferrent daemon running");
        Ok(Service { daemon, api_addr, token, closing, server, watcher })
    }

    /// The daemon.
    pub fn daemon(&self) -> &Daemon {
        &self.daemon
    }

    /// Where the API listens.
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// The API token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Stops taking requests, stops every torrent (announcing `stopped`) and saves their
    /// state; returns within about five seconds.
    pub async fn shutdown(self) {
        let _ = self.closing.send(true);
        if let Some(watcher) = &self.watcher {
            watcher.abort();
        }
        self.daemon.shutdown(TORRENTS_BUDGET).await;
        let mut server = self.server;
        if tokio::time::timeout(SERVER_BUDGET, &mut server).await.is_err() {
            server.abort();
        }
        tracing::info!("ferrent daemon stopped");
    }
}

/// 32 random bytes in hex.
fn new_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Thousands of torrents need more descriptors than the usual soft limit of 1024: raise
/// it to the hard limit.
fn raise_open_file_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                tracing::debug!("cannot raise the open-file limit");
            }
        }
    }
}
