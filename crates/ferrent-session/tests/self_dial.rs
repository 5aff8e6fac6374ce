//! A torrent told of the session's own address (as a tracker lists us to ourselves) dials
//! it, meets its own peer id, and the session remembers the address as its own.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use ferrent_core::Metainfo;
use ferrent_session::{Session, SessionConfig, TorrentOptions};
use ferrent_storage::create::TorrentBuilder;

#[tokio::test]
async fn a_dial_that_meets_ourselves_marks_the_address_as_our_own() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.bin");
    std::fs::write(&path, vec![7u8; 40_000]).unwrap();
    let torrent = TorrentBuilder::new(&path).piece_length(Some(16384)).build(&|_, _| {}).unwrap();
    let config = SessionConfig {
        listen_addr: Some(Ipv4Addr::LOCALHOST.into()),
        listen_port: 0,
        lsd: false,
        dht: None,
        ..SessionConfig::default()
    };
    let session = Session::new(config).await.unwrap();
    let own = SocketAddr::from((Ipv4Addr::LOCALHOST, session.listen_port()));
    assert!(session.own_addresses().is_empty());
    let options = TorrentOptions {
        download_dir: dir.path().into(),
        peers: vec![own],
        ..TorrentOptions::default()
    };
    let handle = session.add_torrent(&Metainfo::from_bytes(&torrent).unwrap(), options).await;
    let handle = handle.unwrap();
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while session.own_addresses().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    found.await.expect("the dial to our own address was not recognised");
    assert_eq!(session.own_addresses(), [own]);
    assert_eq!(handle.stats().peers, 0, "no connection to ourselves stays open");
}
