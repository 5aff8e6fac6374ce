//! The DHT driver: runs a sans-IO [`ferrent_dht::Dht`] node on one UDP socket.
//!
//! [`DhtHandle::start`] binds the socket, restores the routing table from the state file
//! (if any), resolves the bootstrap routers and spawns one task. The handle asks it for
//! peers ([`get_peers`](DhtHandle::get_peers) returns a stream that ends with the lookup),
//! announces torrents, feeds it nodes learned from peers' `port` messages, and saves the
//! routing table. Dropping the handle ends the task (saving the table first when a state
//! file is configured); [`shutdown`](DhtHandle::shutdown) also waits for it.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use ferrent_core::InfoHashV1;
//! use ferrent_session::dht::{DhtConfig, DhtHandle};
//!
//! let dht = DhtHandle::start(DhtConfig::default()).await?;
//! let info_hash = InfoHashV1([0xab; 20]);
//! dht.announce(info_hash, 51413);
//! let mut peers = dht.get_peers(info_hash);
//! while let Some(peer) = peers.recv().await {
//!     println!("peer {peer}");
//! }
//! dht.shutdown().await;
//! # Ok(()) }
//! ```

mod persist;
mod task;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Instant;

use ferrent_core::InfoHashV1;
use ferrent_dht::{AddressPolicy, Config, Dht, Family};

pub use ferrent_dht::DhtStats;
use rand::RngCore;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// The public routers used when no bootstrap list is given.
pub const DEFAULT_BOOTSTRAP: [&str; 3] =
    ["router.bittorrent.com:6881", "dht.transmissionbt.com:6881", "router.utorrent.com:6881"];

/// How the DHT node runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhtConfig {
    /// The UDP address to bind (its family is the family the node routes in).
    pub bind: SocketAddr,
    /// Bootstrap routers as `host:port` (names are resolved at start).
    pub bootstrap: Vec<String>,
    /// Where the routing table is loaded from at start and saved to; `None` keeps nothing.
    pub state_file: Option<PathBuf>,
    /// BEP 43: query only, answer nothing, stay out of other nodes' tables.
    pub read_only: bool,
    /// Route nodes on loopback addresses (local test swarms).
    pub allow_loopback: bool,
    /// BEP 42: keep nodes whose id does not match their IP out of the routing table.
    pub enforce_node_id: bool,
}

impl Default for DhtConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 6881)),
            bootstrap: DEFAULT_BOOTSTRAP.iter().map(|s| (*s).to_owned()).collect(),
            state_file: None,
            read_only: false,
            allow_loopback: false,
            enforce_node_id: true,
        }
    }
}

/// What the handle asks of the task.
enum Command {
    GetPeers(InfoHashV1, mpsc::UnboundedSender<SocketAddr>),
    Announce(InfoHashV1, u16),
    AddNode(SocketAddr),
    Save(oneshot::Sender<io::Result<()>>),
    Stats(oneshot::Sender<DhtStats>),
}

/// A running DHT node. Dropping it stops the node.
#[derive(Debug)]
pub struct DhtHandle {
    commands: mpsc::UnboundedSender<Command>,
    local_addr: SocketAddr,
    task: JoinHandle<()>,
}

impl DhtHandle {
    /// Binds the socket, loads the saved routing table and starts the node, which
    /// bootstraps from the saved nodes and the routers in the background.
    pub async fn start(config: DhtConfig) -> io::Result<DhtHandle> {
        let socket = UdpSocket::bind(config.bind).await?;
        let local_addr = socket.local_addr()?;
        let saved = match &config.state_file {
            Some(path) => persist::load(path).await,
            None => None,
        };
        let mut os_rng = rand::rngs::OsRng;
        let family = Family::of(&local_addr);
        let node_id = persist::choose_id(saved.as_ref(), &mut os_rng);
        let dht_config = Config {
            node_id: Some(node_id),
            seed: os_rng.next_u64(),
            family,
            read_only: config.read_only,
            enforce_node_id: config.enforce_node_id,
            addresses: AddressPolicy {
                allow_loopback: config.allow_loopback,
                allow_private: false,
            },
            ..Config::default()
        };
        let mut dht = Dht::new(dht_config, Instant::now());
        if let Some(saved) = &saved {
            dht.add_bootstrap_nodes(&saved.nodes);
        }
        tracing::debug!(%local_addr, id = %dht.id(), saved_nodes = saved.map_or(0, |s| s.nodes.len()), "DHT node starting");
        let (commands, receiver) = mpsc::unbounded_channel();
        let task = tokio::spawn(task::run(task::Context {
            socket,
            dht,
            bootstrap: config.bootstrap,
            state_file: config.state_file,
            commands: receiver,
        }));
        Ok(DhtHandle { commands, local_addr, task })
    }

    /// The bound UDP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Peers for the info hash as they are found (stream ends when the lookup ends).
    pub fn get_peers(&self, info_hash: InfoHashV1) -> mpsc::UnboundedReceiver<SocketAddr> {
        let (sender, receiver) = mpsc::unbounded_channel();
        // If the task is gone the sender is dropped with the command and the stream ends.
        let _ = self.commands.send(Command::GetPeers(info_hash, sender));
        receiver
    }

    /// Announces that we are a peer of `info_hash` on TCP/uTP `port`. Announces expire after
    /// about 30 minutes on other nodes; call again to stay listed.
    pub fn announce(&self, info_hash: InfoHashV1, port: u16) {
        let _ = self.commands.send(Command::Announce(info_hash, port));
    }

    /// Offers a node learned from a peer's BEP 5 `port` message; it is pinged and joins the
    /// routing table if it answers.
    pub fn add_node(&self, addr: SocketAddr) {
        let _ = self.commands.send(Command::AddNode(addr));
    }

    /// Writes the routing table to the state file, atomically (temporary file, then rename).
    pub async fn save(&self) -> io::Result<()> {
        let (reply, result) = oneshot::channel();
        self.commands.send(Command::Save(reply)).map_err(|_| stopped())?;
        result.await.map_err(|_| stopped())?
    }

    /// Sizes of the node's state (routing table, lookups, peer store).
    pub async fn stats(&self) -> io::Result<DhtStats> {
        let (reply, result) = oneshot::channel();
        self.commands.send(Command::Stats(reply)).map_err(|_| stopped())?;
        result.await.map_err(|_| stopped())
    }

    /// Stops the node and waits until its task has saved the routing table (when a state
    /// file is configured) and released the socket.
    pub async fn shutdown(self) {
        let DhtHandle { commands, task, .. } = self;
        drop(commands);
        if let Err(error) = task.await {
            tracing::warn!(%error, "DHT task ended abnormally");
        }
    }
}

fn stopped() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the DHT task has stopped")
}
