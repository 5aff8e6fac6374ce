//! Driving `ferrent daemon` and its client commands from end-to-end tests.
//!
//! [`DaemonProc`] writes a config that keeps everything on 127.0.0.1 (fixed free ports, no
//! DHT, no LSD), starts the binary under the swarm harness's [`Proc`] guard (killed on
//! drop) and waits until the API answers. [`cli`] runs a client command against it.

#![allow(dead_code)]

use crate::swarm::payload::{run_ok, Payload, Torrent, TorrentInfo};
use crate::swarm::process::Proc;
use crate::swarm::{free_port, peers_dir, wait_until, PYTHON};
use ferrent_daemon::client::ApiClient;
use ferrent_daemon::model::{State, TorrentDetails, TorrentSummary};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long the daemon may take to answer after starting.
pub const STARTUP: Duration = Duration::from_secs(20);

/// A `ferrent daemon` process and its directories.
pub struct DaemonProc {
    /// The process.
    pub proc: Proc,
    /// Its config file.
    pub config: PathBuf,
    /// Download root.
    pub downloads: PathBuf,
    /// State directory.
    pub state: PathBuf,
    /// API base URL.
    pub url: String,
    /// Peer port.
    pub peer_port: u16,
    runtime: tokio::runtime::Runtime,
    starts: u32,
}

impl DaemonProc {
    /// Writes a config under `root` (with `extra` TOML appended to the `[state]` table) and
    /// starts the daemon.
    pub fn start(root: &Path, extra: &str) -> DaemonProc {
        let downloads = root.join("downloads");
        let state = root.join("state");
        let config = root.join("daemon.toml");
        let api_port = free_port();
        let peer_port = free_port();
        let text = format!(
            "download_dir = {downloads:?}\nstate_dir = {state:?}\n\
             [network]\nlisten_addr = \"127.0.0.1\"\nlisten_port = {peer_port}\ndht = false\nlsd = false\n\
             [api]\nbind = \"127.0.0.1:{api_port}\"\n\
             [state]\n{extra}\n"
        );
        std::fs::write(&config, text).expect("write the daemon config");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let proc = spawn(&config, "ferrent-daemon");
        let mut daemon = DaemonProc {
            proc,
            config,
            downloads,
            state,
            url: format!("http://127.0.0.1:{api_port}"),
            peer_port,
            runtime,
            starts: 1,
        };
        daemon.wait_api();
        daemon
    }

    /// Starts the daemon again with the same config (after it exited or was killed).
    pub fn restart(&mut self) {
        self.proc.kill();
        self.starts += 1;
        self.proc = spawn(&self.config, &format!("ferrent-daemon-{}", self.starts));
        self.wait_api();
    }

    fn wait_api(&mut self) {
        let client = self.client();
        let name = self.proc.name().to_owned();
        let proc = &mut self.proc;
        let runtime = &self.runtime;
        wait_until(STARTUP, &format!("{name}'s API"), || {
            if let Some(status) = proc.try_status() {
                panic!("{name} exited at start ({status})");
            }
            runtime.block_on(client.session()).ok()
        });
    }

    /// An API client, with the token once the daemon has made one.
    pub fn client(&self) -> ApiClient {
        let token =
            std::fs::read_to_string(self.state.join("api-token")).ok().map(|t| t.trim().to_owned());
        ApiClient::new(&self.url, token).unwrap()
    }

    /// Runs an async client call.
    pub fn call<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(f)
    }

    /// Every torrent.
    pub fn list(&self) -> Vec<TorrentSummary> {
        self.call(self.client().list()).expect("list torrents")
    }

    /// One torrent.
    pub fn details(&self, id: &str) -> TorrentDetails {
        self.call(self.client().details(id)).expect("torrent details")
    }

    /// The value of the metric `name` (a family without labels).
    pub fn metric(&self, name: &str) -> u64 {
        let text = self.call(self.client().metrics()).expect("metrics");
        let line = text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' '));
        line.and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no metric {name} in {text}"))
    }

    /// Waits until the metric `name` is `value`.
    pub fn wait_metric(&self, name: &str, value: u64, timeout: Duration) {
        wait_until(timeout, &format!("{name} to be {value}"), || {
            (self.metric(name) == value).then_some(())
        });
    }

    /// Waits until torrent `id` is in `state`.
    pub fn wait_state(&mut self, id: &str, state: State, timeout: Duration) -> TorrentSummary {
        let client = self.client();
        let name = self.proc.name().to_owned();
        let runtime = &self.runtime;
        let proc = &mut self.proc;
        wait_until(timeout, &format!("{id} to be {} in {name}", state.as_str()), || {
            if let Some(status) = proc.try_status() {
                panic!("{name} exited ({status})");
            }
            runtime
                .block_on(client.list())
                .ok()?
                .into_iter()
                .find(|t| t.id == id && t.state == state)
        })
    }

    /// Bytes the process has read through read(2) and friends (`rchar` of /proc/PID/io).
    pub fn read_chars(&self) -> u64 {
        let io = std::fs::read_to_string(format!("/proc/{}/io", self.proc.pid()))
            .expect("read /proc/PID/io");
        io.lines()
            .find_map(|l| l.strip_prefix("rchar: "))
            .and_then(|v| v.trim().parse().ok())
            .expect("rchar in /proc/PID/io")
    }

    /// Sends SIGTERM and waits for a clean exit; returns how long it took.
    pub fn terminate(&mut self) -> Duration {
        let began = Instant::now();
        self.proc.signal(libc::SIGTERM);
        let status = self.proc.wait_exit(Duration::from_secs(10));
        assert!(status.success(), "{} exited with {status} after SIGTERM", self.proc.name());
        began.elapsed()
    }

    /// Runs a client command (`ferrent <args> --config <this daemon's config>`).
    pub fn cli(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrent"));
        cmd.args(args).arg("--config").arg(&self.config).env_remove("FERRENT_API_URL");
        cmd.output().expect("run the ferrent client")
    }

    /// Runs a client command with `--json`, expecting success, and parses its output.
    pub fn cli_json(&self, args: &[&str]) -> Value {
        let mut all: Vec<&str> = args.to_vec();
        all.push("--json");
        let out = self.cli(&all);
        assert!(
            out.status.success(),
            "ferrent {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("ferrent {args:?} --json printed non-JSON ({e})"))
    }
}

fn spawn(config: &Path, name: &str) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrent"));
    cmd.arg("daemon")
        .arg("--config")
        .arg(config)
        .env("FERRENT_LOG", "info,ferrent_daemon=debug,ferrent_session=debug");
    for (var, _) in ferrent_daemon::config::ENV_VARS {
        cmd.env_remove(var);
    }
    Proc::spawn(name, cmd)
}

/// A public (not private) torrent for `payload` made by mktorrent, so that its metadata
/// may be exchanged (magnet links).
pub fn public_torrent(payload: &Payload, out: &Path, tracker: &str) -> Torrent {
    let mut cmd = Command::new("mktorrent");
    cmd.arg("-d").arg("-l15").arg("-a").arg(tracker).arg("-o").arg(out).arg(payload.target());
    run_ok("mktorrent", &mut cmd);
    let info = run_ok(
        "lt_peer.py info",
        Command::new(PYTHON).arg(peers_dir().join("lt_peer.py")).arg("info").arg(out),
    );
    let info: TorrentInfo = serde_json::from_slice(&info).expect("lt_peer.py info output");
    Torrent { path: out.to_owned(), info }
}

/// The pieces whose data under `parent` (final or `.part` files) matches `torrent`'s hashes.
pub fn valid_pieces(torrent: &Path, parent: &Path) -> Vec<bool> {
    use sha1::{Digest, Sha1};
    let metainfo = ferrent_core::Metainfo::from_bytes(&std::fs::read(torrent).unwrap()).unwrap();
    let info = &metainfo.info;
    let mut stream = Vec::new();
    for file in &info.files {
        let mut path = parent.to_path_buf();
        if !info.single_file {
            path.push(&info.name);
        }
        path.extend(&file.path);
        let mut part = path.clone().into_os_string();
        part.push(".part");
        let mut bytes = std::fs::read(&path).or_else(|_| std::fs::read(&part)).unwrap_or_default();
        bytes.resize(file.length as usize, 0);
        stream.extend_from_slice(&bytes);
    }
    stream
        .chunks(info.piece_length as usize)
        .zip(&info.pieces)
        .map(|(chunk, hash)| <[u8; 20]>::from(Sha1::digest(chunk)) == *hash)
        .collect()
}

/// A BEP 3 bitfield (first piece = high bit) as booleans, `count` long.
pub fn bits(bytes: &[u8], count: usize) -> Vec<bool> {
    (0..count).map(|i| bytes.get(i / 8).is_some_and(|b| b & (0x80 >> (i % 8)) != 0)).collect()
}

/// The seeders opentracker on 127.0.0.1:`port` lists for `info_hash` (hex), by scrape.
pub fn tracker_seeders(port: u16, info_hash: &str) -> u32 {
    use std::io::{Read, Write};
    let bytes = hex::decode(info_hash).expect("hex info hash");
    let escaped: String = bytes.iter().map(|b| format!("%{b:02x}")).collect();
    let mut stream =
        std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to the tracker");
    let request = format!("GET /scrape?info_hash={escaped} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    let text = String::from_utf8_lossy(&reply);
    let at = text.find("8:completei").expect("a scrape answer") + "8:completei".len();
    text[at..].split('e').next().and_then(|n| n.parse().ok()).expect("a seeder count")
}
