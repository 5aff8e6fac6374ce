//! `ferrent daemon`: a long-running BitTorrent service for thousands of torrents.
//!
//! * [`config`]: the TOML configuration, environment overrides and the commented default.
//! * [`store`]: the state directory, where each torrent's metainfo, settings and resume
//!   data are written atomically and checked on load (corrupt files are set aside).
//! * [`Daemon`]: the torrents of one [`ferrent_session::Session`], brought back at
//!   start-up without rehashing unchanged data, saved as they progress and at shutdown.
//! * [`api`]: the HTTP JSON API under `/api/v1` (axum), its OpenAPI document, server-sent
//!   events, Prometheus `/metrics`, and the access checks (token, Host, Origin).
//! * [`watch`]: the watch folder; [`client`]: the API client the CLI uses;
//!   [`Service`]: all of it started and stopped together.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use ferrent_daemon::{config::DaemonConfig, Service};
//! let mut config = DaemonConfig::default();
//! config.api.bind = "127.0.0.1:0".parse()?;
//! let service = Service::start(config).await?;
//! println!("API at http://{} (token {})", service.api_addr(), service.token());
//! let client = ferrent_daemon::client::ApiClient::new(&format!("http://{}", service.api_addr()), None)?;
//! println!("{} torrents", client.list().await?.len());
//! service.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The configuration and state formats can be tried without a network:
//!
//! ```
//! use ferrent_daemon::config::{BaseDirs, DaemonConfig};
//! let dirs = BaseDirs::from_lookup(|name| (name == "HOME").then(|| "/home/ann".into()));
//! let text = DaemonConfig::default_toml(&dirs);
//! let config = DaemonConfig::from_toml(&text, &dirs, "default".as_ref()).unwrap();
//! assert_eq!(config.state_dir, std::path::Path::new("/home/ann/.local/state/ferrent"));
//! assert_eq!(config.api_url(), "http://127.0.0.1:6880");
//! ```
#![deny(missing_docs)]

pub mod api;
pub mod client;
pub mod config;
mod daemon;
mod error;
pub mod metrics;
pub mod model;
pub mod paths;
mod service;
pub mod store;
pub mod ui;
pub mod watch;

pub use daemon::{AddOptions, AddSource, Daemon};
pub use error::DaemonError;
pub use service::{Service, ServiceError};
