//! The DHT driver on real UDP sockets, 127.0.0.1 only: nodes bootstrap from each other,
//! find an announced peer, save their routing table and restart from it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ferrent_core::InfoHashV1;
use ferrent_dht::SavedState;
use ferrent_session::dht::{DhtConfig, DhtHandle};

const WAIT: Duration = Duration::from_secs(30);

fn config(bootstrap: &[SocketAddr], state_file: Option<PathBuf>) -> DhtConfig {
    DhtConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        bootstrap: bootstrap.iter().map(|a| a.to_string()).collect(),
        state_file,
        read_only: false,
        allow_loopback: true,
        enforce_node_id: true,
    }
}

/// Polls `check` every 100 ms until it holds; panics after [`WAIT`].
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs get_peers lookups until one finds `wanted`.
async fn find_peer(dht: &DhtHandle, info_hash: InfoHashV1, wanted: SocketAddr) {
    eventually("the announced peer", || async {
        let mut peers = dht.get_peers(info_hash);
        let lookup = async {
            let mut found = false;
            while let Some(peer) = peers.recv().await {
                found |= peer == wanted;
            }
            found
        };
        tokio::time::timeout(WAIT, lookup).await.expect("the lookup stream ends")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_nodes_find_an_announced_peer() {
    let router = DhtHandle::start(config(&[], None)).await.unwrap();
    let mut nodes = Vec::new();
    for _ in 0..4 {
        nodes.push(DhtHandle::start(config(&[router.local_addr()], None)).await.unwrap());
    }
    for node in &nodes {
        eventually("bootstrap", || async { node.stats().await.unwrap().nodes >= 1 }).await;
    }

    let torrent = InfoHashV1([0x3c; 20]);
    nodes[0].announce(torrent, 40_000);
    let announcer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    find_peer(&nodes[3], torrent, announcer).await;
    find_peer(&router, torrent, announcer).await;

    for node in nodes {
        node.shutdown().await;
    }
    router.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_nodes_route_with_nodes6() {
    let v6 = |bootstrap: &[SocketAddr]| DhtConfig {
        bind: "[::1]:0".parse().unwrap(),
        ..config(bootstrap, None)
    };
    let router = DhtHandle::start(v6(&[])).await.unwrap();
    let a = DhtHandle::start(v6(&[router.local_addr()])).await.unwrap();
    let b = DhtHandle::start(v6(&[router.local_addr()])).await.unwrap();
    for node in [&a, &b] {
        eventually("IPv6 bootstrap", || async { node.stats().await.unwrap().nodes >= 1 }).await;
    }
    // b learns a only from answers given after the router has a in its table; tell the
    // router of both at once (as a BEP 5 `port` message would) so that b's lookup cannot
    // run before a got in, which happened on a loaded machine.
    router.add_node(a.local_addr());
    router.add_node(b.local_addr());
    eventually("the router to know both nodes", || async {
        router.stats().await.unwrap().nodes >= 2
    })
    .await;
    let torrent = InfoHashV1([0x66; 20]);
    a.announce(torrent, 6006);
    find_peer(&b, torrent, "[::1]:6006".parse().unwrap()).await;
    // b learns a from the router's `nodes6` answers (or from a's own queries).
    eventually("b knows a", || async { b.stats().await.unwrap().nodes >= 2 }).await;
    for node in [a, b, router] {
        node.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_table_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("ferrent-dht-restart-{}", std::process::id()));
    let state_file = dir.join("dht.state");
    let router = DhtHandle::start(config(&[], None)).await.unwrap();
    let others = [
        DhtHandle::start(config(&[router.local_addr()], None)).await.unwrap(),
        DhtHandle::start(config(&[router.local_addr()], None)).await.unwrap(),
    ];
    // The router must know the others before our node bootstraps from it, or the node's
    // one bootstrap lookup can miss them (tables refresh only every 15 minutes). Telling it
    // of them directly (as a peer's BEP 5 `port` message would) makes that prompt even on
    // a loaded machine.
    for other in &others {
        router.add_node(other.local_addr());
    }
    eventually("the router to know both nodes", || async {
        router.stats().await.unwrap().nodes >= 2
    })
    .await;
    let node =
        DhtHandle::start(config(&[router.local_addr()], Some(state_file.clone()))).await.unwrap();
    eventually("a full table", || async { node.stats().await.unwrap().nodes >= 3 }).await;
    node.save().await.unwrap();
    let saved = SavedState::decode(&std::fs::read(&state_file).unwrap()).unwrap();
    assert!(saved.nodes.len() >= 3, "{saved:?}");
    let bind = node.local_addr();
    node.shutdown().await;

    // Restart on the same port with no router at all: the saved nodes are enough.
    let mut restarted = config(&[], Some(state_file.clone()));
    restarted.bind = bind;
    let node = DhtHandle::start(restarted).await.expect("the port was released");
    eventually("rejoining from the saved table", || async {
        node.stats().await.unwrap().nodes >= 3
    })
    .await;
    node.shutdown().await;
    let again = SavedState::decode(&std::fs::read(&state_file).unwrap()).unwrap();
    assert_eq!(again.id, saved.id, "the node id is kept");
    assert!(node_is_gone(bind).await);

    for other in others {
        other.shutdown().await;
    }
    router.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn save_without_a_state_file_is_an_error_and_drop_stops_the_node() {
    let node = DhtHandle::start(config(&[], None)).await.unwrap();
    let error = node.save().await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    let bind = node.local_addr();
    drop(node);
    let mut rebound = false;
    for _ in 0..50 {
        if node_is_gone(bind).await {
            rebound = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(rebound, "the task released its socket after the handle was dropped");
}

/// True when nothing is bound to `addr` any more.
async fn node_is_gone(addr: SocketAddr) -> bool {
    tokio::net::UdpSocket::bind(addr).await.is_ok()
}
