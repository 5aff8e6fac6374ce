//! The node's task: one loop moving datagrams, commands and timeouts into the [`Dht`].

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ferrent_dht::{Dht, DhtEvent, Family, LookupId};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::{persist, Command};

/// Receive buffer: bigger than any acceptable datagram, so oversized ones arrive whole
/// enough to be recognised and dropped.
const RECV_BUFFER: usize = 2048;
/// Pause after a failed receive, so a persistent socket error cannot spin the loop.
const RECV_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// What the task owns.
pub(super) struct Context {
    pub socket: UdpSocket,
    pub dht: Dht,
    pub bootstrap: Vec<String>,
    pub state_file: Option<PathBuf>,
    pub commands: mpsc::UnboundedReceiver<Command>,
}

/// Runs until the handle is dropped, then saves the routing table if configured.
pub(super) async fn run(mut cx: Context) {
    let family = Family::of(&cx.socket.local_addr().unwrap_or(SocketAddr::from(([0; 4], 0))));
    let routers = persist::resolve_routers(&cx.bootstrap, family).await;
    tracing::debug!(routers = routers.len(), "DHT bootstrapping");
    cx.dht.bootstrap(&routers, Instant::now());

    let mut lookups: HashMap<LookupId, mpsc::UnboundedSender<SocketAddr>> = HashMap::new();
    let mut buf = vec![0u8; RECV_BUFFER];
    loop {
        flush(&cx.socket, &mut cx.dht).await;
        dispatch(&mut cx.dht, &mut lookups);
        let deadline = cx.dht.poll_timeout().map(tokio::time::Instant::from_std);
        tokio::select! {
            received = cx.socket.recv_from(&mut buf) => match received {
                Ok((len, from)) => {
                    let datagram = buf.get(..len).unwrap_or_default();
                    cx.dht.handle_datagram(from, datagram, Instant::now());
                }
                Err(error) => {
                    tracing::debug!(%error, "DHT receive failed");
                    tokio::time::sleep(RECV_ERROR_PAUSE).await;
                }
            },
            command = cx.commands.recv() => match command {
                Some(command) => execute(&mut cx, command, &mut lookups).await,
                None => break,
            },
            () = sleep_until(deadline) => cx.dht.handle_timeout(Instant::now()),
        }
    }
    if let Some(path) = cx.state_file.clone() {
        if let Err(error) = persist::save(path.clone(), cx.dht.saved_state()).await {
            tracing::warn!(path = %path.display(), %error, "cannot save the DHT state");
        }
    }
    tracing::debug!("DHT node stopped");
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

async fn execute(
    cx: &mut Context,
    command: Command,
    lookups: &mut HashMap<LookupId, mpsc::UnboundedSender<SocketAddr>>,
) {
    let now = Instant::now();
    match command {
        Command::GetPeers(info_hash, sender) => {
            let lookup = cx.dht.get_peers(info_hash, now);
            lookups.insert(lookup, sender);
        }
        Command::Announce(info_hash, port) => {
            cx.dht.announce(info_hash, port, now);
        }
        Command::AddNode(addr) => cx.dht.add_node(addr, now),
        Command::Save(reply) => {
            let result = match &cx.state_file {
                Some(path) => persist::save(path.clone(), cx.dht.saved_state()).await,
                None => Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "no DHT state file is configured",
                )),
            };
            let _ = reply.send(result);
        }
        Command::Stats(reply) => {
            let _ = reply.send(cx.dht.stats());
        }
    }
}

/// Sends every queued datagram. The queue is bounded by the node, so this loop is too.
async fn flush(socket: &UdpSocket, dht: &mut Dht) {
    let v6_socket = socket.local_addr().is_ok_and(|a| a.is_ipv6());
    while let Some((to, bytes)) = dht.poll_transmit() {
        // The node unwraps IPv4-mapped sources; a dual-stack socket needs them mapped back.
        let to = match to.ip() {
            IpAddr::V4(v4) if v6_socket => {
                SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), to.port())
            }
            _ => to,
        };
        if let Err(error) = socket.send_to(&bytes, to).await {
            tracing::trace!(%to, %error, "DHT datagram not sent");
        }
    }
}

/// Routes events to the lookups' streams; ending a lookup closes its stream.
fn dispatch(dht: &mut Dht, lookups: &mut HashMap<LookupId, mpsc::UnboundedSender<SocketAddr>>) {
    while let Some(event) = dht.poll_event() {
        match event {
            DhtEvent::Peers { lookup, peers, .. } => {
                if let Some(sender) = lookups.get(&lookup) {
                    for peer in peers {
                        let _ = sender.send(peer);
                    }
                }
            }
            DhtEvent::LookupDone { lookup, info_hash, announced } => {
                lookups.remove(&lookup);
                tracing::debug!(%info_hash, announced, "DHT lookup done");
            }
            DhtEvent::Bootstrapped { nodes } => tracing::debug!(nodes, "DHT bootstrapped"),
        }
    }
}
