//! Loopback swarm harness for ferrent's end-to-end tests.
//!
//! Each test builds a small deterministic payload ([`payload`]), makes a `.torrent` with
//! `mktorrent`, starts Debian's `opentracker` ([`tracker`]), third-party peers (libtorrent and
//! Transmission through the Python helpers in `tests/peers/`, plus our own misbehaving peers:
//! [`peers`]) and the `ferrent` binary ([`ferrent`]), all on 127.0.0.1.
//!
//! Every child process lives in its own process group and is SIGKILLed with that group when its
//! guard drops ([`process::Proc`]); a failing test dumps the captured output of every process it
//! started. Every wait is bounded ([`wait_until`]).
//!
//! Environment knobs: `FERRENT_TEST_LOGS=DIR` writes every process's full output to `DIR`;
//! `FERRENT_TEST_KEEP=1` keeps a failed test's scratch directory.

// Each test binary uses a different subset of the harness.
#![allow(dead_code)]

pub mod announce;
pub mod dht;
pub mod ferrent;
pub mod fixture;
pub mod https;
pub mod payload;
pub mod peers;
pub mod process;
pub mod tracker;

use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The only address the swarm uses.
pub const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// Debian's interpreter, which has the `libtorrent` module.
pub const PYTHON: &str = "/usr/bin/python3";

/// Interval between polls in [`wait_until`].
const POLL: Duration = Duration::from_millis(50);

/// The directory holding the Python helper peers (`<repo>/tests/peers`).
pub fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/peers")
}

/// A `127.0.0.1` address with the given port.
pub fn local(port: u16) -> SocketAddr {
    SocketAddr::from((LOCALHOST, port))
}

/// A port that is currently free on 127.0.0.1 for both TCP and UDP.
///
/// The OS picks it (bind to port 0); the sockets are closed again before returning, so the
/// caller should use it right away.
pub fn free_port() -> u16 {
    for _ in 0..64 {
        let tcp = TcpListener::bind(local(0)).expect("bind a TCP socket on 127.0.0.1:0");
        let port = tcp.local_addr().expect("local address of a bound socket").port();
        if UdpSocket::bind(local(port)).is_ok() {
            return port;
        }
    }
    panic!("found no port free for both TCP and UDP on 127.0.0.1");
}

/// Polls `probe` every 50 ms until it returns `Some`, for at most `timeout`.
///
/// Panics naming `what` when the time runs out.
pub fn wait_until<T>(timeout: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(POLL);
    }
}

/// A scratch directory for one test, removed at the end unless the test failed and
/// `FERRENT_TEST_KEEP` is set.
pub struct Scratch {
    dir: Option<tempfile::TempDir>,
}

impl Scratch {
    /// Creates a fresh scratch directory named after the test.
    pub fn new(test: &str) -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix(&format!("ferrent-{test}-"))
            .tempdir()
            .expect("create a scratch directory");
        Scratch { dir: Some(dir) }
    }

    /// The scratch directory.
    pub fn path(&self) -> &Path {
        self.dir.as_ref().expect("scratch directory is live").path()
    }

    /// A subdirectory of the scratch directory, created if missing.
    pub fn subdir(&self, name: &str) -> PathBuf {
        let dir = self.path().join(name);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        dir
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() && std::env::var_os("FERRENT_TEST_KEEP").is_some() {
            if let Some(dir) = self.dir.take() {
                eprintln!("keeping scratch directory {}", dir.keep().display());
            }
        }
    }
}
