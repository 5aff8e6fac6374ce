//! The tokio session that drives ferrent's sans-IO protocol crates.
//!
//! A [`Session`] owns one peer listener, global limits and a pool of disk threads, and runs
//! any number of torrents; the one-torrent `ferrent download` is just a session with one
//! torrent. Each torrent's swarm logic lives in [`ferrent_proto::Engine`]; this crate only
//! moves bytes between sockets, the engine and [`ferrent_storage::Storage`].
//!
//! ```no_run
//! # async fn example(metainfo: ferrent_core::Metainfo) -> Result<(), ferrent_session::SessionError> {
//! use ferrent_session::{Session, SessionConfig, TorrentOptions};
//! let session = Session::new(SessionConfig::default()).await?;
//! let options = TorrentOptions { download_dir: "downloads".into(), ..Default::default() };
//! let torrent = session.add_torrent(&metainfo, options).await?;
//! torrent.wait_complete().await;
//! torrent.stop(std::time::Duration::from_secs(5)).await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod book;
mod cache;
mod config;
mod details;
pub mod dht;
mod disk_jobs;
mod error;
mod events;
mod handle;
mod hashes;
mod limit;
mod lsd;
mod metadata;
mod peer;
mod reader;
mod resume;
mod session;
mod torrent;
pub mod tracker;
mod visible;
mod web_seed;

pub use config::{SessionConfig, TorrentOptions};
pub use details::{FileStatus, PeerStatus, TorrentDetails, TorrentState, TrackerStatus};
pub use disk_jobs::DiskQueue;
pub use error::SessionError;
pub use events::{TorrentEvent, TorrentStats};
pub use handle::TorrentHandle;
pub use metadata::FetchedMetadata;
pub use reader::TorrentReader;
pub use resume::{FileStamp, ResumeData};
pub use session::Session;
