//! Debian's `opentracker` on 127.0.0.1, serving HTTP and UDP on one port.
//!
//! Debian builds opentracker whitelist-only: it answers only for info hashes listed (hex, one per
//! line) in the file given with `-w`. Running as root it chroots to `-d DIR` and drops to
//! `nobody`, so the whitelist path is relative to `DIR` and both must be world-readable.

use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::process::Proc;
use super::{free_port, local, wait_until};

/// How long opentracker may take to start listening.
const STARTUP: Duration = Duration::from_secs(10);

/// A tracker port chosen before the tracker runs, so torrents can name it.
#[derive(Clone, Copy, Debug)]
pub struct TrackerAddr {
    /// The TCP and UDP port.
    pub port: u16,
}

impl TrackerAddr {
    /// Picks a port free for both TCP and UDP.
    pub fn pick() -> TrackerAddr {
        TrackerAddr { port: free_port() }
    }

    /// The HTTP announce URL.
    pub fn http(&self) -> String {
        format!("http://127.0.0.1:{}/announce", self.port)
    }

    /// The UDP announce URL.
    pub fn udp(&self) -> String {
        format!("udp://127.0.0.1:{}/announce", self.port)
    }

    /// Starts opentracker on this port, whitelisting `info_hashes` (40-digit hex).
    pub fn start(self, dir: &Path, info_hashes: &[&str]) -> Tracker {
        std::fs::create_dir_all(dir).expect("create the tracker directory");
        let whitelist: String = info_hashes.iter().map(|h| format!("{h}\n")).collect();
        std::fs::write(dir.join("whitelist"), whitelist).expect("write the tracker whitelist");
        for (path, mode) in [(dir.to_owned(), 0o755), (dir.join("whitelist"), 0o644)] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                .expect("make the tracker files readable to `nobody`");
        }
        let port = self.port.to_string();
        let mut cmd = Command::new("opentracker");
        cmd.current_dir(dir)
            .args(["-i", "127.0.0.1", "-p", &port, "-P", &port, "-d"])
            .arg(dir)
            .args(["-w", "whitelist"]);
        let mut proc = Proc::spawn(&format!("opentracker-{port}"), cmd);
        wait_until(STARTUP, "opentracker to listen", || {
            if let Some(status) = proc.try_status() {
                panic!("opentracker exited at startup ({status})");
            }
            TcpStream::connect(local(self.port)).ok()
        });
        Tracker { addr: self, proc }
    }
}

/// A running opentracker; killed on drop.
pub struct Tracker {
    /// Where it listens.
    pub addr: TrackerAddr,
    /// The process.
    pub proc: Proc,
}
