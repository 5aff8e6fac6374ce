//! The watch folder: `*.torrent` files and `*.magnet` files (a magnet link as text) dropped
//! in are added to the daemon, then renamed `*.added`; a file that cannot be added is
//! renamed `*.invalid` and the reason logged.
//!
//! The folder is scanned every interval. A file is taken only once its size and
//! modification time were the same at two scans in a row, so a file still being written
//! is left alone. Hidden files (leading `.`) are ignored.

use crate::daemon::{AddOptions, AddSource, Daemon};
use crate::error::DaemonError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Suffix given to files that were added.
pub const ADDED_SUFFIX: &str = ".added";
/// Suffix given to files that could not be added.
pub const INVALID_SUFFIX: &str = ".invalid";
/// Largest file taken from the folder.
const MAX_FILE: u64 = 64 << 20;

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Added (or already present); renamed `.added`.
    Added(PathBuf),
    /// Refused; renamed `.invalid`, with the reason.
    Invalid(PathBuf, String),
    /// Not taken this time (e.g. the daemon is shutting down); tried again later.
    Retry(PathBuf, String),
}

/// Scans a folder and adds what appears there.
pub struct WatchFolder {
    dir: PathBuf,
    /// Candidates seen at the last scan: size and modification time.
    seen: HashMap<PathBuf, (u64, Option<SystemTime>)>,
}

impl WatchFolder {
    /// Watches `dir` (created if missing).
    pub fn new(dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir, seen: HashMap::new() })
    }

    /// Scans every `interval` until the task is dropped.
    pub async fn run(mut self, daemon: Daemon, interval: Duration) {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.scan(&daemon).await;
        }
    }

    /// One scan: adds the files that stayed unchanged since the previous scan.
    pub async fn scan(&mut self, daemon: &Daemon) -> Vec<Outcome> {
        let dir = self.dir.clone();
        let now = tokio::task::spawn_blocking(move || candidates(&dir)).await.unwrap_or_default();
        let stable: Vec<PathBuf> = now
            .iter()
            .filter(|(path, stamp)| self.seen.get(*path) == Some(stamp))
            .map(|(p, _)| p.clone())
            .collect();
        self.seen = now;
        let mut outcomes = Vec::new();
        for path in stable {
            self.seen.remove(&path);
            let outcome = take(daemon, &path).await;
            match &outcome {
                Outcome::Added(_) => rename(&path, ADDED_SUFFIX),
                Outcome::Invalid(_, reason) => {
                    tracing::warn!(file = %path.display(), %reason, "watch folder: cannot add");
                    rename(&path, INVALID_SUFFIX);
                }
                Outcome::Retry(_, reason) => {
                    tracing::info!(file = %path.display(), %reason, "watch folder: will try again");
                }
            }
            outcomes.push(outcome);
        }
        outcomes
    }
}

/// The `.torrent` and `.magnet` files in `dir` with their size and mtime.
fn candidates(dir: &Path) -> HashMap<PathBuf, (u64, Option<SystemTime>)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return HashMap::new() };
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            !name.starts_with('.') && (name.ends_with(".torrent") || name.ends_with(".magnet"))
        })
        .filter_map(|e| {
            let meta = e.metadata().ok().filter(|m| m.is_file())?;
            Some((e.path(), (meta.len(), meta.modified().ok())))
        })
        .collect()
}

async fn take(daemon: &Daemon, path: &Path) -> Outcome {
    let owned = path.to_path_buf();
    let read = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        let len = std::fs::metadata(&owned)?.len();
        if len > MAX_FILE {
            return Err(std::io::Error::other(format!("larger than {MAX_FILE} bytes")));
        }
        std::fs::read(&owned)
    })
    .await;
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => return Outcome::Invalid(path.to_path_buf(), format!("cannot read: {e}")),
        Err(e) => return Outcome::Retry(path.to_path_buf(), e.to_string()),
    };
    let source = if path.extension().is_some_and(|e| e == "magnet") {
        let text = String::from_utf8_lossy(&bytes);
        let Some(link) = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#'))
        else {
            return Outcome::Invalid(path.to_path_buf(), "the file holds no magnet link".into());
        };
        AddSource::Magnet(link.to_string())
    } else {
        AddSource::Torrent(bytes)
    };
    match daemon.add(source, AddOptions::default()).await {
        Ok(summary) => {
            tracing::info!(file = %path.display(), torrent = %summary.id, "watch folder: added");
            Outcome::Added(path.to_path_buf())
        }
        Err(DaemonError::Duplicate(id)) => {
            tracing::info!(file = %path.display(), torrent = %id, "watch folder: already added");
            Outcome::Added(path.to_path_buf())
        }
        Err(
            e @ (DaemonError::ShuttingDown
            | DaemonError::Store(_)
            | DaemonError::Session(_)
            | DaemonError::Internal(_)),
        ) => Outcome::Retry(path.to_path_buf(), e.to_string()),
        Err(e) => Outcome::Invalid(path.to_path_buf(), e.to_string()),
    }
}

fn rename(path: &Path, suffix: &str) {
    let mut target = path.as_os_str().to_owned();
    target.push(suffix);
    if let Err(e) = std::fs::rename(path, &target) {
        tracing::error!(file = %path.display(), error = %e, "watch folder: cannot rename");
    }
}
