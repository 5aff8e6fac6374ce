//! BEP 14 Local Service Discovery: the tokio task around [`ferrent_proto::lsd`].
//!
//! One UDP socket joins the IPv4 LSD group. Every second the task refreshes the list of
//! public torrents and sends whatever [`LsdState`] says is due; every packet received from
//! another client (another cookie) becomes a peer address for each torrent it names.

use crate::session::SessionShared;
use ferrent_core::InfoHashV1;
use ferrent_proto::lsd::{
    LsdState, Received, LSD_GROUP_V4, LSD_HOST_V4, LSD_PORT, MAX_PACKET_LEN, SEND_INTERVAL,
};
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Weak;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::task::AbortHandle;

/// After a failed receive, the task waits this long before the next one, so a socket stuck
/// in an error state cannot spin.
const RECV_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// What the LSD task needs from its session; a trait so tests can stand in for one.
pub(crate) trait LsdPeers: Send + Sync + 'static {
    /// The torrents to announce.
    fn public_torrents(&self) -> Vec<InfoHashV1>;
    /// A peer for `info_hash` was announced at `addr`.
    fn add_peer_for(&self, info_hash: InfoHashV1, addr: SocketAddr);
}

impl LsdPeers for SessionShared {
    fn public_torrents(&self) -> Vec<InfoHashV1> {
        SessionShared::public_torrents(self)
    }

    fn add_peer_for(&self, info_hash: InfoHashV1, addr: SocketAddr) {
        SessionShared::add_peer_for(self, info_hash, addr)
    }
}

/// The running LSD task; dropping the handle stops it and closes its socket.
pub(crate) struct LsdHandle {
    task: AbortHandle,
}

impl LsdHandle {
    /// Joins 239.192.152.143:6771 (IPv4 only: the IPv6 group [ff15::efc0:988f]:6771 is not
    /// joined) on `interface` (an IPv4 address of the local interface to use, e.g. 127.0.0.1
    /// in tests; None = the system's default multicast interface).
    ///
    /// Announces `listen_port` for the session's public torrents. Must be called within a
    /// tokio runtime; fails if there is none, or if the socket cannot be set up. The task
    /// also ends once `shared` is gone.
    pub(crate) fn start(
        shared: Weak<SessionShared>,
        listen_port: u16,
        interface: Option<Ipv4Addr>,
    ) -> io::Result<LsdHandle> {
        Self::start_for(shared, listen_port, interface)
    }

    /// [`LsdHandle::start`] for any [`LsdPeers`].
    fn start_for<P: LsdPeers>(
        peers: Weak<P>,
        listen_port: u16,
        interface: Option<Ipv4Addr>,
    ) -> io::Result<LsdHandle> {
        let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        let socket = UdpSocket::from_std(multicast_socket(interface)?.into())?;
        let state = LsdState::new(listen_port, LsdState::random_cookie(&mut rand::thread_rng()));
        let task = runtime.spawn(run(peers, socket, state)).abort_handle();
        Ok(LsdHandle { task })
    }
}

impl Drop for LsdHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A non-blocking UDP socket bound to the LSD port, member of the IPv4 group, sending
/// through `interface` with TTL 1 (the local network only) and loopback on (so clients on
/// the same host find each other; our own packets are recognised by their cookie).
fn multicast_socket(interface: Option<Ipv4Addr>) -> io::Result<Socket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    // Several clients on one host share the port.
    socket.set_reuse_address(true)?;
    #[cfg(unix)]
    socket.set_reuse_port(true)?;
    socket.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, LSD_PORT).into())?;
    socket.join_multicast_v4(&LSD_GROUP_V4, &interface.unwrap_or(Ipv4Addr::UNSPECIFIED))?;
    if let Some(interface) = interface {
        socket.set_multicast_if_v4(&interface)?;
    }
    socket.set_multicast_loop_v4(true)?;
    socket.set_multicast_ttl_v4(1)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

async fn run<P: LsdPeers>(peers: Weak<P>, socket: UdpSocket, mut state: LsdState) {
    let group = SocketAddr::from((LSD_GROUP_V4, LSD_PORT));
    let mut tick = tokio::time::interval(SEND_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // One byte more than a packet may have: a longer datagram is cut to this and refused.
    let mut buf = vec![0u8; MAX_PACKET_LEN + 1];
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let Some(shared) = peers.upgrade() else { break };
                let torrents = shared.public_torrents();
                drop(shared);
                let now = Instant::now();
                state.set_torrents(torrents, now);
                if let Some(announce) = state.poll_announce(now) {
                    if let Err(error) = socket.send_to(&announce.encode(LSD_HOST_V4), group).await {
                        tracing::debug!(%error, "LSD announce not sent");
                    }
                }
            }
            received = socket.recv_from(&mut buf) => match received {
                Ok((len, from)) => {
                    let packet = buf.get(..len).unwrap_or_default();
                    if !on_packet(&peers, &mut state, packet, from) {
                        break;
                    }
                }
                Err(error) => {
                    tracing::debug!(%error, "LSD receive failed");
                    tokio::time::sleep(RECV_ERROR_PAUSE).await;
                }
            },
        }
    }
}

/// Handles one datagram; false once the session is gone.
fn on_packet<P: LsdPeers>(
    peers: &Weak<P>,
    state: &mut LsdState,
    packet: &[u8],
    from: SocketAddr,
) -> bool {
    let announce = match state.receive(packet, Instant::now()) {
        Ok(Received::Announce(announce)) => announce,
        Ok(Received::Own | Received::Throttled) => return true,
        Err(error) => {
            tracing::trace!(%from, %error, "LSD packet ignored");
            return true;
        }
    };
    if !is_peer_address(from.ip()) {
        tracing::trace!(%from, "LSD packet from an unusable address ignored");
        return true;
    }
    let Some(shared) = peers.upgrade() else { return false };
    for info_hash in announce.info_hashes {
        shared.add_peer_for(info_hash, SocketAddr::new(from.ip(), announce.port));
    }
    true
}

/// Whether a packet's source address could be a peer's (not 0.0.0.0, multicast, broadcast).
fn is_peer_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => !(ip.is_unspecified() || ip.is_multicast() || ip.is_broadcast()),
        IpAddr::V6(ip) => !(ip.is_unspecified() || ip.is_multicast()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrent_proto::lsd::{LsdAnnounce, MAX_RECEIVED_PER_SECOND};
    use parking_lot::Mutex;
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Command, Stdio};
    use std::sync::Arc;
    use tokio::io::AsyncReadExt;

    const PATIENCE: Duration = Duration::from_secs(20);
    const LOOPBACK: Option<Ipv4Addr> = Some(Ipv4Addr::LOCALHOST);
    /// Set in the child process that runs a test inside its own network namespace.
    const NETNS_ENV: &str = "FERRENT_LSD_TEST_NETNS";

    /// Stands in for a session: fixed torrents; records every peer it is told about.
    struct FakeSession {
        torrents: Vec<InfoHashV1>,
        peers: Mutex<Vec<(InfoHashV1, SocketAddr)>>,
    }

    impl FakeSession {
        fn new(torrents: Vec<InfoHashV1>) -> Arc<Self> {
            Arc::new(Self { torrents, peers: Mutex::new(Vec::new()) })
        }

        fn peers(&self) -> Vec<(InfoHashV1, SocketAddr)> {
            self.peers.lock().clone()
        }

        fn knows(&self, info_hash: InfoHashV1, port: u16) -> bool {
            self.peers().contains(&(info_hash, local(port)))
        }
    }

    impl LsdPeers for FakeSession {
        fn public_torrents(&self) -> Vec<InfoHashV1> {
            self.torrents.clone()
        }

        fn add_peer_for(&self, info_hash: InfoHashV1, addr: SocketAddr) {
            self.peers.lock().push((info_hash, addr));
        }
    }

    fn local(port: u16) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, port))
    }

    /// Multicast needs a network the test may reconfigure, so each test runs again as a
    /// child process in a private network namespace (`unshare -n`, which needs root), where
    /// it brings loopback up. Returns true in that child, which then runs the test body; in
    /// the parent, returns false once the child passed, and panics if it failed.
    fn in_private_netns(test: &str) -> bool {
        if std::env::var_os(NETNS_ENV).is_some() {
            let up = Command::new("ip").args(["link", "set", "lo", "up"]).status();
            assert!(matches!(&up, Ok(status) if status.success()), "`ip link set lo up`: {up:?}");
            return true;
        }
        let module = module_path!().split_once("::").map_or(module_path!(), |(_, path)| path);
        let name = format!("{module}::{test}");
        let exe = std::env::current_exe().expect("the test binary's path");
        let output = Command::new("unshare")
            .args(["-n", "--"])
            .arg(exe)
            .args([name.as_str(), "--exact", "--nocapture", "--test-threads=1"])
            .env(NETNS_ENV, "1")
            .output()
            .unwrap_or_else(|e| panic!("cannot run `unshare` (util-linux): {e}"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{name} failed in a private network namespace (`unshare -n` needs root): \
             {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            output.status
        );
        assert!(stdout.contains("1 passed"), "the child process did not run {name}:\n{stdout}");
        false
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
        runtime.expect("a tokio runtime").block_on(future)
    }

    async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[test]
    fn start_outside_a_runtime_is_an_error() {
        let session = FakeSession::new(Vec::new());
        let error = LsdHandle::start_for(Arc::downgrade(&session), 6881, LOOPBACK).err();
        assert!(error.is_some(), "started without a tokio runtime");
    }

    #[test]
    fn two_sessions_on_one_host_find_each_other() {
        if !in_private_netns("two_sessions_on_one_host_find_each_other") {
            return;
        }
        block_on(async {
            let (x, y) = (InfoHashV1([1; 20]), InfoHashV1([2; 20]));
            let a = FakeSession::new(vec![x, y]);
            let b = FakeSession::new(vec![x]);
            let handle_a = LsdHandle::start_for(Arc::downgrade(&a), 40001, LOOPBACK).unwrap();
            let handle_b = LsdHandle::start_for(Arc::downgrade(&b), 40002, LOOPBACK).unwrap();
            wait_for("A to hear B", || a.knows(x, 40002)).await;
            wait_for("B to hear A's two torrents", || b.knows(x, 40001) && b.knows(y, 40001)).await;
            // Multicast loops each packet back to its sender too; the cookie filters it.
            assert!(a.peers().iter().all(|(_, addr)| addr.port() == 40002), "{:?}", a.peers());
            assert!(b.peers().iter().all(|(_, addr)| addr.port() == 40001), "{:?}", b.peers());

            // Dropping the handle ends the task; so does the session going away.
            let task_a = handle_a.task.clone();
            drop(handle_a);
            wait_for("A's task to end on drop", || task_a.is_finished()).await;
            assert!(!handle_b.task.is_finished());
            drop(b);
            wait_for("B's task to end with its session", || handle_b.task.is_finished()).await;
        });
    }

    #[test]
    fn a_flood_is_throttled() {
        if !in_private_netns("a_flood_is_throttled") {
            return;
        }
        block_on(async {
            let session = FakeSession::new(Vec::new());
            let _handle = LsdHandle::start_for(Arc::downgrade(&session), 6881, LOOPBACK).unwrap();
            let flooder = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let send = |ports: std::ops::Range<u16>| {
                for port in ports {
                    let announce = LsdAnnounce {
                        port,
                        info_hashes: vec![InfoHashV1([3; 20])],
                        cookie: Some("flood".into()),
                    };
                    flooder.send_to(&announce.encode(LSD_HOST_V4), local(LSD_PORT)).unwrap();
                }
            };
            let limit = MAX_RECEIVED_PER_SECOND as usize;
            send(10_000..10_200);
            wait_for("the first packets", || session.peers().len() >= limit).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert_eq!(session.peers().len(), limit, "one second's worth is processed");
            // The oldest packets were taken, the rest dropped.
            assert!(session
                .peers()
                .iter()
                .all(|(_, addr)| addr.port() < 10_000 + limit as u16 * 2));
            tokio::time::sleep(Duration::from_secs(1)).await;
            send(20_000..20_010);
            wait_for("packets in the next second", || session.peers().len() == limit + 10).await;
        });
    }

    /// A libtorrent session (Debian's python3-libtorrent) on 127.0.0.1:`port` with LSD on,
    /// announcing every second a torrent it has only the info hash of. Ends when its stdin
    /// closes.
    const LIBTORRENT_PEER: &str = r#"
import sys, tempfile
import libtorrent as lt
info_hash, port = sys.argv[1], int(sys.argv[2])
with tempfile.TemporaryDirectory() as save_path:
    session = lt.session({
        'listen_interfaces': '127.0.0.1:%d' % port, 'enable_lsd': True,
        'local_service_announce_interval': 1, 'enable_dht': False,
        'enable_upnp': False, 'enable_natpmp': False})
    params = lt.add_torrent_params()
    params.info_hashes = lt.info_hash_t(lt.sha1_hash(bytes.fromhex(info_hash)))
    params.save_path = save_path
    session.add_torrent(params)
    print('READY', flush=True)
    sys.stdin.read()
"#;

    /// Ends the python process with the test, however the test ends.
    struct Python(Child);

    impl Drop for Python {
        fn drop(&mut self) {
            drop(self.0.stdin.take());
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(self.0.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn libtorrent_and_we_find_each_other() {
        if !in_private_netns("libtorrent_and_we_find_each_other") {
            return;
        }
        let info_hash = InfoHashV1(*b"ferrent-lsd-interop!");
        let lt_port = 7001;
        let mut child = Command::new("/usr/bin/python3")
            .args(["-c", LIBTORRENT_PEER, &info_hash.to_hex(), &lt_port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("/usr/bin/python3 (with python3-libtorrent) runs");
        let stdout = child.stdout.take().unwrap();
        let _python = Python(child);
        let ready = BufReader::new(stdout).lines().next();
        assert!(matches!(&ready, Some(Ok(line)) if line == "READY"), "libtorrent: {ready:?}");

        block_on(async {
            let listener = tokio::net::TcpListener::bind(local(0)).await.unwrap();
            let our_port = listener.local_addr().unwrap().port();
            let session = FakeSession::new(vec![info_hash]);
            let _handle =
                LsdHandle::start_for(Arc::downgrade(&session), our_port, LOOPBACK).unwrap();

            // libtorrent -> us: its announce names its listen port.
            wait_for("libtorrent's announce", || session.knows(info_hash, lt_port)).await;

            // us -> libtorrent: it connects to the port we announced, for that torrent.
            let accepted = tokio::time::timeout(PATIENCE, listener.accept()).await;
            let (mut stream, from) = accepted.expect("libtorrent connects to us").unwrap();
            assert_eq!(from.ip(), Ipv4Addr::LOCALHOST);
            let mut handshake = [0u8; 68];
            let read = tokio::time::timeout(PATIENCE, stream.read_exact(&mut handshake)).await;
            read.expect("libtorrent sends its handshake").unwrap();
            assert_eq!(&handshake[..20], b"\x13BitTorrent protocol");
            assert_eq!(&handshake[28..48], &info_hash.0);
        });
    }
}
