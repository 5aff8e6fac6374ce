//! Third-party and hostile peers, driven through the Python helpers in `tests/peers/`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::payload::Torrent;
use super::process::Proc;
use super::{free_port, local, peers_dir, PYTHON};

/// Which client a [`Peer`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    /// libtorrent 2.0 (`lt_peer.py`).
    Libtorrent,
    /// transmission-daemon 3.00 (`tr_peer.py`).
    Transmission,
}

/// What a [`Peer`] does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Hash-check the data, then serve it.
    Seed,
    /// Download, exit 0 once complete.
    Leech,
}

/// The numbers a helper peer reports in its `STATUS` lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeerStatus {
    /// Verified pieces.
    pub have: u32,
    /// Pieces in the torrent.
    pub total: u32,
    /// Payload bytes uploaded.
    pub uploaded: u64,
    /// Payload bytes downloaded.
    pub downloaded: u64,
    /// Connected peers.
    pub peers: u32,
    /// Successful tracker announces (libtorrent: so far; Transmission: trackers whose last
    /// announce succeeded).
    pub announced: u32,
}

/// What a seeder reported once its hash check finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ready {
    /// Verified pieces.
    pub have: u32,
    /// Pieces in the torrent.
    pub total: u32,
    /// Which pieces (libtorrent only; empty for Transmission).
    pub bits: Vec<bool>,
}

/// What a [`Peer`] is told to fetch or serve.
#[derive(Clone, Debug)]
enum Source {
    /// A `.torrent` file.
    Torrent(PathBuf),
    /// A magnet link (libtorrent leechers only).
    Magnet(String),
}

/// How to start a [`Peer`].
pub struct PeerBuilder {
    client: Client,
    role: Role,
    source: Source,
    data: PathBuf,
    connect: Vec<SocketAddr>,
    upload_limit: u64,
    partial: bool,
    timeout: Option<Duration>,
    /// libtorrent-only switches for `lt_peer.py` (discovery options).
    extra: Vec<String>,
}

impl PeerBuilder {
    /// The DHT on, bootstrapped from these loopback nodes only (libtorrent only). The peer
    /// announces its torrent every few seconds.
    pub fn dht(mut self, nodes: &[SocketAddr]) -> Self {
        self.libtorrent_only("the DHT");
        assert!(!nodes.is_empty(), "the DHT needs a loopback bootstrap node");
        for node in nodes {
            self.extra.extend(["--dht-bootstrap".to_owned(), node.to_string()]);
        }
        self
    }

    /// Local Service Discovery on, announcing every `interval` (libtorrent only; `None`:
    /// libtorrent's default of 5 minutes).
    pub fn lsd(mut self, interval: Option<Duration>) -> Self {
        self.libtorrent_only("LSD");
        self.extra.push("--lsd".to_owned());
        if let Some(interval) = interval {
            let secs = interval.as_secs().max(1);
            self.extra.extend(["--lsd-interval".to_owned(), secs.to_string()]);
        }
        self
    }

    /// No peer exchange for the torrent (libtorrent only).
    pub fn no_pex(mut self) -> Self {
        self.libtorrent_only("--no-pex");
        self.extra.push("--no-pex".to_owned());
        self
    }

    /// Keep connections to other seeds, which libtorrent otherwise closes as redundant
    /// (libtorrent only).
    pub fn keep_seed_connections(mut self) -> Self {
        self.libtorrent_only("keeping seed connections");
        self.extra.push("--keep-seed-connections".to_owned());
        self
    }

    fn libtorrent_only(&self, what: &str) {
        assert_eq!(self.client, Client::Libtorrent, "only the libtorrent helper does {what}");
    }

    /// Dial this peer once the data is checked (and again every 2 s while not connected).
    /// libtorrent only: Transmission cannot be told to dial.
    pub fn connect_to(mut self, addr: SocketAddr) -> Self {
        assert_eq!(self.client, Client::Libtorrent, "only the libtorrent helper dials peers");
        self.connect.push(addr);
        self
    }

    /// Caps the upload rate, in bytes per second (Transmission rounds to kB/s).
    pub fn upload_limit(mut self, bytes_per_sec: u64) -> Self {
        self.upload_limit = bytes_per_sec;
        self
    }

    /// Seed only the pieces present in the data and never download the rest (libtorrent only).
    pub fn partial(mut self) -> Self {
        assert_eq!(self.client, Client::Libtorrent, "only the libtorrent helper seeds partially");
        self.partial = true;
        self
    }

    /// Leechers give up (exit 4) after this long.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        assert_eq!(self.role, Role::Leech, "only leechers take a timeout");
        self.timeout = Some(timeout);
        self
    }

    /// Starts the peer on a fresh port.
    pub fn spawn(self) -> Peer {
        self.spawn_on(free_port())
    }

    /// Starts the peer listening on `port` (one the test chose before the peer existed).
    pub fn spawn_on(self, port: u16) -> Peer {
        let (script, name) = match self.client {
            Client::Libtorrent => ("lt_peer.py", "libtorrent"),
            Client::Transmission => ("tr_peer.py", "transmission"),
        };
        let role = match self.role {
            Role::Seed => "seed",
            Role::Leech => "leech",
        };
        let mut cmd = Command::new(PYTHON);
        cmd.arg(peers_dir().join(script)).arg(role);
        match &self.source {
            Source::Torrent(path) => cmd.arg("--torrent").arg(path),
            Source::Magnet(uri) => cmd.arg("--magnet").arg(uri),
        };
        cmd.arg("--data").arg(&self.data).arg("--port").arg(port.to_string());
        for addr in &self.connect {
            cmd.arg("--peer").arg(addr.to_string());
        }
        if let Some(timeout) = self.timeout {
            cmd.arg("--timeout").arg(timeout.as_secs_f64().to_string());
        }
        if self.partial {
            cmd.arg("--partial");
        }
        let mut config = None;
        match self.client {
            Client::Libtorrent => {
                cmd.arg("--upload-limit").arg(self.upload_limit.to_string());
                cmd.args(&self.extra);
            }
            Client::Transmission => {
                let dir = tempfile::tempdir().expect("create a Transmission config dir");
                cmd.arg("--rpc-port").arg(free_port().to_string()).arg("--config").arg(dir.path());
                cmd.arg("--upload-limit-kbps").arg(self.upload_limit.div_ceil(1000).to_string());
                config = Some(dir);
            }
        }
        let proc = Proc::spawn(&format!("{name}-{role}-{port}"), cmd);
        Peer { client: self.client, port, proc, _config: config }
    }
}

/// A libtorrent or Transmission peer on 127.0.0.1; killed (with its daemon) on drop.
pub struct Peer {
    /// Which client.
    pub client: Client,
    /// Its peer port.
    pub port: u16,
    /// The helper process.
    pub proc: Proc,
    _config: Option<tempfile::TempDir>,
}

impl Peer {
    /// A libtorrent peer for `torrent` with its save path at `data`.
    pub fn libtorrent(role: Role, torrent: &Torrent, data: &Path) -> PeerBuilder {
        Peer::builder(Client::Libtorrent, role, Source::Torrent(torrent.path.clone()), data)
    }

    /// A Transmission peer for `torrent` with its download dir at `data`.
    pub fn transmission(role: Role, torrent: &Torrent, data: &Path) -> PeerBuilder {
        Peer::builder(Client::Transmission, role, Source::Torrent(torrent.path.clone()), data)
    }

    /// A libtorrent leecher that starts from a magnet link, saving under `data`.
    pub fn libtorrent_magnet(uri: &str, data: &Path) -> PeerBuilder {
        Peer::builder(Client::Libtorrent, Role::Leech, Source::Magnet(uri.to_owned()), data)
    }

    fn builder(client: Client, role: Role, source: Source, data: &Path) -> PeerBuilder {
        PeerBuilder {
            client,
            role,
            source,
            data: data.to_owned(),
            connect: Vec::new(),
            upload_limit: 0,
            partial: false,
            timeout: None,
            extra: Vec::new(),
        }
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> SocketAddr {
        local(self.port)
    }

    /// Waits for a seeder's `READY` line (hash check done, serving).
    pub fn wait_ready(&mut self, timeout: Duration) -> Ready {
        self.proc.wait_for_line(timeout, "READY", parse_ready)
    }

    /// The latest `STATUS` line, if any.
    pub fn status(&self) -> Option<PeerStatus> {
        self.proc.stdout().iter().rev().find_map(|l| parse_status(l))
    }

    /// Every `STATUS` line so far, with when the harness read it.
    pub fn statuses(&self) -> Vec<(std::time::Instant, PeerStatus)> {
        let lines = self.proc.lines(super::process::Stream::Stdout);
        lines.iter().filter_map(|l| Some((l.at, parse_status(&l.text)?))).collect()
    }

    /// Waits for a `STATUS` line accepted by `pred` (status lines come every half second, so
    /// a fresh one reflects what just happened).
    pub fn wait_status(
        &mut self,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&PeerStatus) -> bool,
    ) -> PeerStatus {
        self.proc.wait_for_line(timeout, what, |l| parse_status(l).filter(|s| pred(s)))
    }

    /// Waits for a leecher to finish: exit status 0 and a `DONE` line.
    pub fn wait_done(&mut self, timeout: Duration) {
        let status = self.proc.wait_exit(timeout);
        assert!(status.success(), "{} exited with {status}", self.proc.name());
        assert!(
            self.proc.stdout().iter().any(|l| l.starts_with("DONE")),
            "{} exited without a DONE line",
            self.proc.name()
        );
    }
}

fn fields(line: &str, tag: &str) -> Option<Vec<(String, String)>> {
    let rest = line.strip_prefix(tag)?.strip_prefix(' ')?;
    Some(
        rest.split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    )
}

fn field<T: std::str::FromStr>(fields: &[(String, String)], key: &str) -> Option<T> {
    fields.iter().find(|(k, _)| k == key)?.1.parse().ok()
}

fn parse_ready(line: &str) -> Option<Ready> {
    let f = fields(line, "READY")?;
    let bits = field::<String>(&f, "bits").unwrap_or_default().chars().map(|c| c == '1').collect();
    Some(Ready { have: field(&f, "have")?, total: field(&f, "total")?, bits })
}

fn parse_status(line: &str) -> Option<PeerStatus> {
    let f = fields(line, "STATUS")?;
    Some(PeerStatus {
        have: field(&f, "have")?,
        total: field(&f, "total")?,
        uploaded: field(&f, "uploaded")?,
        downloaded: field(&f, "downloaded")?,
        peers: field(&f, "peers")?,
        announced: field(&f, "announced")?,
    })
}

/// How [`HostilePeer`] misbehaves (see `tests/peers/hostile_peer.py`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hostility {
    /// Serves random bytes for every request.
    Corrupt,
    /// Sends a 100 MiB length prefix.
    Oversize,
    /// Sends a bitfield one byte too long.
    BadBitfield,
    /// Sends a bitfield with the spare bits set.
    SpareBits,
    /// Floods blocks that were never requested.
    Unrequested,
}

impl Hostility {
    fn arg(self) -> &'static str {
        match self {
            Hostility::Corrupt => "corrupt",
            Hostility::Oversize => "oversize",
            Hostility::BadBitfield => "bad-bitfield",
            Hostility::SpareBits => "spare-bits",
            Hostility::Unrequested => "unrequested",
        }
    }
}

/// Our own misbehaving peer, listening on loopback (127.0.0.1 unless asked otherwise);
/// killed on drop.
pub struct HostilePeer {
    /// Its address.
    pub ip: std::net::IpAddr,
    /// Its port.
    pub port: u16,
    /// The helper process.
    pub proc: Proc,
}

impl HostilePeer {
    /// Starts it for `torrent` on 127.0.0.1 and waits until it listens.
    pub fn start(torrent: &Torrent, mode: Hostility) -> HostilePeer {
        Self::start_on(torrent, mode, std::net::Ipv4Addr::LOCALHOST.into())
    }

    /// Starts it for `torrent` on the loopback address `ip` (another 127.x address keeps a
    /// client's ban of it from hitting peers on 127.0.0.1) and waits until it listens.
    pub fn start_on(torrent: &Torrent, mode: Hostility, ip: std::net::IpAddr) -> HostilePeer {
        let port = free_port();
        let mut cmd = Command::new(PYTHON);
        cmd.arg(peers_dir().join("hostile_peer.py"))
            .arg("--torrent")
            .arg(&torrent.path)
            .arg("--host")
            .arg(ip.to_string())
            .arg("--port")
            .arg(port.to_string())
            .arg("--mode")
            .arg(mode.arg());
        let proc = spawn_until_ready(&format!("hostile-{}-{port}", mode.arg()), cmd);
        HostilePeer { ip, port, proc }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }

    /// How many of its output lines start with `tag` (e.g. `CONNECTED`, `SENT`).
    pub fn count(&self, tag: &str) -> usize {
        self.proc.stdout().iter().filter(|l| l.split_whitespace().next() == Some(tag)).count()
    }

    /// The distinct pieces it sent (corrupt) blocks of.
    pub fn pieces_served(&self) -> std::collections::BTreeSet<u32> {
        self.proc.stdout().iter().filter_map(|l| field(&fields(l, "SERVED")?, "index")).collect()
    }

    /// When each `CONNECTED` line was read.
    pub fn connection_times(&self) -> Vec<std::time::Instant> {
        let lines = self.proc.lines(super::process::Stream::Stdout);
        lines.iter().filter(|l| l.text.starts_with("CONNECTED")).map(|l| l.at).collect()
    }
}

/// Starts one of our own helpers and waits for its `READY` line (it listens then).
fn spawn_until_ready(name: &str, cmd: Command) -> Proc {
    let mut proc = Proc::spawn(name, cmd);
    proc.wait_for_line(Duration::from_secs(10), "READY", |l| l.starts_with("READY").then_some(()));
    proc
}

/// A BEP 19 web seed: `tests/peers/web_seed.py` serving a directory over HTTP with byte
/// ranges on 127.0.0.1; killed on drop.
pub struct WebSeedServer {
    /// Its port.
    pub port: u16,
    /// The helper process.
    pub proc: Proc,
}

impl WebSeedServer {
    /// Serves `root` on `port` (flipping every byte when `corrupt`) and waits until it
    /// listens.
    pub fn start(root: &Path, port: u16, corrupt: bool) -> WebSeedServer {
        let mut cmd = Command::new(PYTHON);
        cmd.arg(peers_dir().join("web_seed.py"))
            .arg("--root")
            .arg(root)
            .arg("--port")
            .arg(port.to_string());
        if corrupt {
            cmd.arg("--corrupt");
        }
        WebSeedServer { port, proc: spawn_until_ready(&format!("web-seed-{port}"), cmd) }
    }

    /// The byte ranges it served, as (URL path, first byte, last byte).
    pub fn served(&self) -> Vec<(String, u64, u64)> {
        self.proc
            .stdout()
            .iter()
            .filter_map(|l| {
                let f = fields(l, "SERVED")?;
                Some((field(&f, "path")?, field(&f, "start")?, field(&f, "end")?))
            })
            .collect()
    }
}

/// How [`MetadataPeer`] spoils the BEP 9 metadata it serves (see
/// `tests/peers/metadata_peer.py`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadMetadata {
    /// Right sizes, one byte of every piece flipped.
    Corrupt,
    /// Every piece one byte short.
    Short,
    /// Every piece 100 bytes too long.
    Long,
    /// `metadata_size` 1000 bytes too large, pieces padded to match.
    BadTotal,
}

impl BadMetadata {
    /// The `--mode` value.
    pub fn arg(self) -> &'static str {
        match self {
            BadMetadata::Corrupt => "corrupt",
            BadMetadata::Short => "short",
            BadMetadata::Long => "long",
            BadMetadata::BadTotal => "bad-total",
        }
    }
}

/// Our own peers that offer a torrent's metadata (ut_metadata) but serve it spoilt, and
/// never serve payload: one process listening on one or more ports; killed on drop.
pub struct MetadataPeer {
    /// Its ports, one per simulated peer.
    pub ports: Vec<u16>,
    /// How many metadata pieces it claims.
    pub pieces: u32,
    /// The helper process.
    pub proc: Proc,
}

impl MetadataPeer {
    /// Starts one such peer for `torrent` and waits until it listens.
    pub fn start(torrent: &Torrent, mode: BadMetadata) -> MetadataPeer {
        MetadataPeer::start_many(torrent, mode, 1)
    }

    /// Starts `count` such peers (one process, `count` ports) and waits until they listen.
    pub fn start_many(torrent: &Torrent, mode: BadMetadata, count: usize) -> MetadataPeer {
        let ports: Vec<u16> = (0..count).map(|_| free_port()).collect();
        let mut cmd = Command::new(PYTHON);
        cmd.arg(peers_dir().join("metadata_peer.py"))
            .arg("--torrent")
            .arg(&torrent.path)
            .arg("--mode")
            .arg(mode.arg());
        for port in &ports {
            cmd.arg("--port").arg(port.to_string());
        }
        let mut proc = Proc::spawn(&format!("metadata-{}-{}", mode.arg(), ports[0]), cmd);
        let pieces = proc.wait_for_line(Duration::from_secs(10), "READY", |l| {
            field::<u32>(&fields(l, "READY")?, "pieces")
        });
        MetadataPeer { ports, pieces, proc }
    }

    /// `127.0.0.1:port` of its first (or only) port.
    pub fn addr(&self) -> SocketAddr {
        local(self.ports[0])
    }

    /// `127.0.0.1:port` of every port.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.ports.iter().map(|&p| local(p)).collect()
    }

    /// The metadata pieces it sent (spoilt), in order, repeats included.
    pub fn pieces_sent(&self) -> Vec<u32> {
        self.proc.stdout().iter().filter_map(|l| field(&fields(l, "SENT")?, "piece")).collect()
    }
}
