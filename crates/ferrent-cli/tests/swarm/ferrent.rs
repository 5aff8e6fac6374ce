//! Driving the `ferrent download` binary and reading its `--json` events.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;

use super::fixture::SEED_READY;
use super::payload::Torrent;
use super::process::{Proc, Stream};
use super::wait_until;

/// One `--json` line of `ferrent download` (extra fields are ignored).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Existing data was verified.
    Checked {
        /// Pieces found valid.
        have: u32,
        /// Pieces in the torrent.
        total: u32,
    },
    /// Periodic progress.
    Progress {
        /// Verified pieces.
        have: u32,
        /// Pieces in the torrent.
        total: u32,
        /// Payload bytes fetched from peers in this run.
        downloaded: u64,
        /// Payload bytes sent to peers in this run.
        uploaded: u64,
        /// Connected peers.
        peers: u32,
        /// Download rate, bytes per second.
        down_rate: f64,
        /// Upload rate, bytes per second.
        up_rate: f64,
    },
    /// A peer was banned.
    PeerBanned {
        /// `ip:port`.
        peer: String,
        /// Why.
        reason: String,
    },
    /// A peer connection was dropped.
    PeerDropped {
        /// `ip:port`.
        peer: String,
        /// Why.
        reason: String,
    },
    /// A magnet link's metadata arrived and was saved as a `.torrent`.
    Metadata {
        /// The info hash, hex.
        torrent: String,
        /// Where the `.torrent` was written.
        saved: String,
    },
    /// Everything selected is complete.
    Done {
        /// Payload bytes fetched from peers in this run.
        downloaded: u64,
        /// Payload bytes sent to peers in this run.
        uploaded: u64,
    },
    /// A torrent stopped on an error (disk full, read-only directory, ...).
    Error {
        /// What went wrong.
        message: String,
    },
    /// An event this harness does not interpret (its `event` name).
    #[serde(skip)]
    Other(String),
}

/// The event names [`Event`] parses; others become [`Event::Other`].
const KNOWN: [&str; 7] =
    ["checked", "progress", "peer_banned", "peer_dropped", "metadata", "done", "error"];

impl Event {
    /// Parses one stdout line; panics if it is not a JSON object with a string `event`, or if
    /// a known event lacks a documented field.
    pub fn parse(line: &str) -> Event {
        let value: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("ferrent --json printed a non-JSON line ({e}): {line:?}"));
        let name = value
            .get("event")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("ferrent --json line without a string \"event\": {line}"))
            .to_owned();
        if !KNOWN.contains(&name.as_str()) {
            return Event::Other(name);
        }
        serde_json::from_value(value).unwrap_or_else(|e| {
            panic!("ferrent's {name:?} event breaks the contract ({e}): {line}")
        })
    }

    /// The peer address of a `peer_banned` / `peer_dropped` event.
    pub fn peer(&self) -> Option<&str> {
        match self {
            Event::PeerBanned { peer, .. } | Event::PeerDropped { peer, .. } => Some(peer),
            _ => None,
        }
    }
}

/// A `progress` event's byte counters and when the harness read the event.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// When the line was read.
    pub at: Instant,
    /// Payload bytes fetched from peers in this run.
    pub downloaded: u64,
    /// Payload bytes sent to peers in this run.
    pub uploaded: u64,
}

/// How to run `ferrent download`: always with `--json` and `FERRENT_LOG=debug`.
pub struct Ferrent {
    args: Vec<String>,
    torrent: OsString,
    out: PathBuf,
    /// Environment changes: set to `Some`, removed on `None`.
    env: Vec<(String, Option<OsString>)>,
}

impl Ferrent {
    /// `ferrent download TORRENT -o OUT --json --no-dht --no-lsd`: no discovery beyond
    /// what the test arranges, and never a public DHT router.
    pub fn download(torrent: &Path, out: &Path) -> Ferrent {
        Ferrent::start_from(torrent.as_os_str().to_owned(), out)
    }

    /// Like [`Ferrent::download`], for a magnet link instead of a `.torrent` file.
    pub fn magnet(uri: &str, out: &Path) -> Ferrent {
        Ferrent::start_from(uri.into(), out)
    }

    fn start_from(torrent: OsString, out: &Path) -> Ferrent {
        let args = ["--no-dht", "--no-lsd"].map(str::to_owned).to_vec();
        Ferrent { args, torrent, out: out.to_owned(), env: Vec::new() }
    }

    /// The DHT on, bootstrapped from `nodes` only (`--dht-bootstrap` each, `--dht-allow-local`
    /// so loopback nodes count, and `--bind 127.0.0.1` so the node stays on loopback).
    pub fn dht(mut self, nodes: &[SocketAddr]) -> Self {
        assert!(!nodes.is_empty(), "the DHT needs a loopback bootstrap node (never a public one)");
        assert!(nodes.iter().all(|n| n.ip().is_loopback()), "DHT nodes must be on loopback");
        self.args.retain(|a| a != "--no-dht");
        for node in nodes {
            self.args.extend(["--dht-bootstrap".to_owned(), node.to_string()]);
        }
        self.args.push("--dht-allow-local".to_owned());
        self.bind_localhost()
    }

    /// Local Service Discovery on (and `--bind 127.0.0.1`, so it multicasts on loopback).
    pub fn lsd(mut self) -> Self {
        self.args.retain(|a| a != "--no-lsd");
        self.bind_localhost()
    }

    /// `--bind 127.0.0.1` (once).
    pub fn bind_localhost(mut self) -> Self {
        if !self.args.iter().any(|a| a == "--bind") {
            self.args.extend(["--bind".to_owned(), "127.0.0.1".to_owned()]);
        }
        self
    }

    /// `--no-trackers`.
    pub fn no_trackers(mut self) -> Self {
        self.args.push("--no-trackers".to_owned());
        self
    }

    /// `--no-pex`.
    pub fn no_pex(mut self) -> Self {
        self.args.push("--no-pex".to_owned());
        self
    }

    /// `--metadata-timeout Ns` (whole seconds).
    pub fn metadata_timeout(mut self, timeout: Duration) -> Self {
        self.args.extend(["--metadata-timeout".to_owned(), format!("{}s", timeout.as_secs())]);
        self
    }

    /// `--peer ADDR`.
    pub fn peer(mut self, addr: SocketAddr) -> Self {
        self.args.extend(["--peer".to_owned(), addr.to_string()]);
        self
    }

    /// `--listen-port PORT`.
    pub fn listen_port(mut self, port: u16) -> Self {
        self.args.extend(["--listen-port".to_owned(), port.to_string()]);
        self
    }

    /// `--seed`.
    pub fn seed(mut self) -> Self {
        self.args.push("--seed".to_owned());
        self
    }

    /// `--only I,J,...`.
    pub fn only(mut self, files: &[usize]) -> Self {
        let list: Vec<String> = files.iter().map(usize::to_string).collect();
        self.args.extend(["--only".to_owned(), list.join(",")]);
        self
    }

    /// `--ban-after N`.
    pub fn ban_after(mut self, failures: u32) -> Self {
        self.args.extend(["--ban-after".to_owned(), failures.to_string()]);
        self
    }

    /// Any other argument, verbatim.
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    /// `--upload-limit B` (bytes per second).
    pub fn upload_limit(self, bytes_per_sec: u64) -> Self {
        self.arg("--upload-limit").arg(&bytes_per_sec.to_string())
    }

    /// `--download-limit B` (bytes per second).
    pub fn download_limit(self, bytes_per_sec: u64) -> Self {
        self.arg("--download-limit").arg(&bytes_per_sec.to_string())
    }

    /// `--seed-ratio R` (needs [`Ferrent::seed`]).
    pub fn seed_ratio(self, ratio: f64) -> Self {
        self.arg("--seed-ratio").arg(&ratio.to_string())
    }

    /// `--seed-time Ns` (whole seconds; needs [`Ferrent::seed`]).
    pub fn seed_time(self, time: Duration) -> Self {
        self.arg("--seed-time").arg(&format!("{}s", time.as_secs()))
    }

    /// Sets environment variable `key` to `value` (`None` removes it) for the child.
    pub fn env(mut self, key: &str, value: Option<&std::ffi::OsStr>) -> Self {
        self.env.push((key.to_owned(), value.map(OsString::from)));
        self
    }

    /// Starts it.
    pub fn spawn(self, name: &str) -> FerrentRun {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrent"));
        cmd.arg("download").arg(&self.torrent).arg("-o").arg(&self.out).arg("--json");
        cmd.args(&self.args).env("FERRENT_LOG", "debug").env("RUST_BACKTRACE", "1");
        for (key, value) in &self.env {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        FerrentRun { proc: Proc::spawn(name, cmd) }
    }
}

/// A running `ferrent download`.
pub struct FerrentRun {
    /// The process.
    pub proc: Proc,
}

impl FerrentRun {
    /// Every event printed so far.
    pub fn events(&self) -> Vec<Event> {
        self.proc.stdout().iter().map(|l| Event::parse(l)).collect()
    }

    /// Every event printed so far, with when the harness read it.
    pub fn events_timed(&self) -> Vec<(Instant, Event)> {
        self.proc.lines(Stream::Stdout).iter().map(|l| (l.at, Event::parse(&l.text))).collect()
    }

    /// Waits for an event accepted by `pick`; panics on timeout or if ferrent exits first.
    pub fn wait_event<T>(
        &mut self,
        timeout: Duration,
        what: &str,
        mut pick: impl FnMut(&Event) -> Option<T>,
    ) -> T {
        self.proc.wait_for_line(timeout, what, |l| pick(&Event::parse(l)))
    }

    /// Waits for the `checked` event of a seeder started on complete data and asserts that it
    /// found all `total` pieces.
    pub fn wait_checked_complete(&mut self, total: u32) {
        let have = self.wait_event(SEED_READY, "the checked event", |e| match e {
            Event::Checked { have, .. } => Some(*have),
            _ => None,
        });
        assert_eq!(have, total, "ferrent found {have} of {total} pieces in the complete source");
    }

    /// Every `progress` event so far, with when the harness read it.
    pub fn progress(&self) -> Vec<Sample> {
        self.events_timed()
            .into_iter()
            .filter_map(|(at, e)| match e {
                Event::Progress { downloaded, uploaded, .. } => {
                    Some(Sample { at, downloaded, uploaded })
                }
                _ => None,
            })
            .collect()
    }

    /// The latest `progress` event's `have`, if any.
    pub fn progress_have(&self) -> Option<u32> {
        self.events().iter().rev().find_map(|e| match e {
            Event::Progress { have, .. } => Some(*have),
            _ => None,
        })
    }

    /// Waits for the download to finish: exit status 0 and a `done` event. Returns the events.
    pub fn wait_success(&mut self, timeout: Duration) -> Vec<Event> {
        let status = self.wait_exit(timeout);
        assert!(status.success(), "ferrent exited with {status}");
        let events = self.events();
        assert!(
            events.iter().any(|e| matches!(e, Event::Done { .. })),
            "ferrent exited 0 without a done event"
        );
        events
    }

    /// Waits for exit, panicking (and so dumping logs) if ferrent is still running at `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        self.proc.wait_exit(timeout)
    }

    /// Waits until ferrent's latest progress reports at least `have` pieces.
    pub fn wait_have(&mut self, timeout: Duration, have: u32) -> u32 {
        let name = self.proc.name().to_owned();
        wait_until(timeout, &format!("{name} to report {have} pieces"), || {
            if let Some(status) = self.proc.try_status() {
                panic!("{name} exited ({status}) before reporting {have} pieces");
            }
            self.progress_have().filter(|&h| h >= have)
        })
    }
}

/// The `metadata` event (info hash, saved path), if one was printed.
pub fn metadata_event(events: &[Event]) -> Option<(String, PathBuf)> {
    events.iter().find_map(|e| match e {
        Event::Metadata { torrent, saved } => Some((torrent.clone(), PathBuf::from(saved))),
        _ => None,
    })
}

/// Panics unless `events` hold a `metadata` event for `torrent` whose saved `.torrent` (in
/// `out`, named after the torrent) describes exactly `torrent` (same info hash, name, pieces,
/// size and files, as `ferrent info --json` reads it).
pub fn assert_metadata_saved(torrent: &Torrent, events: &[Event], out: &Path) {
    let original = &torrent.info;
    let (hash, saved) = metadata_event(events).expect("a metadata event before the download");
    assert_eq!(hash, original.info_hash, "the metadata event names another info hash");
    assert_eq!(saved, out.join(format!("{}.torrent", original.name)), "where the .torrent went");
    let info = info_json(&saved);
    assert_eq!(info["info_hash_v1"], original.info_hash.as_str(), "saved torrent's info hash");
    assert_eq!(info["name"], original.name.as_str(), "saved torrent's name");
    assert_eq!(info["piece_count"], original.num_pieces, "saved torrent's piece count");
    assert_eq!(info["total_size"], original.total_size, "saved torrent's size");
    assert_eq!(info["private"], original.private, "saved torrent's private flag");
    let files = info["files"].as_array().expect("files in ferrent info --json").len();
    assert_eq!(files, original.files.len(), "saved torrent's file count");
    let first = |pick: fn(&Event) -> bool| events.iter().position(pick);
    assert!(
        first(|e| matches!(e, Event::Metadata { .. }))
            < first(|e| matches!(e, Event::Checked { .. })),
        "the metadata event must come before the download starts: {events:?}"
    );
}

/// `ferrent info --json PATH`, parsed; panics unless it succeeds.
pub fn info_json(path: &Path) -> Value {
    let out = super::payload::run_ok(
        "ferrent info --json",
        Command::new(env!("CARGO_BIN_EXE_ferrent")).arg("info").arg("--json").arg(path),
    );
    serde_json::from_slice(&out).unwrap_or_else(|e| panic!("ferrent info --json output: {e}"))
}

/// The `downloaded` byte count of the `done` event.
pub fn done_downloaded(events: &[Event]) -> u64 {
    events
        .iter()
        .find_map(|e| match e {
            Event::Done { downloaded, .. } => Some(*downloaded),
            _ => None,
        })
        .expect("a done event")
}
