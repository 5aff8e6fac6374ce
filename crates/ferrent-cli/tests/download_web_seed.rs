//! `ferrent download` from BEP 19 web seeds: HTTP servers holding a torrent's files
//! (`tests/peers/web_seed.py`, byte ranges, on 127.0.0.1). A single-file and a multi-file
//! torrent come from a web seed alone; a web seed whose bytes are all wrong is found out by
//! the hash checks and the download completes from a libtorrent seeder instead.
//!
//! The torrents are public and name no tracker; ferrent runs without DHT or LSD.

mod swarm;

use std::time::Duration;

use swarm::ferrent::{Event, Ferrent};
use swarm::fixture::{PIECE_LOG2, SEED_READY};
use swarm::payload::{uri_escape, Payload, Torrent};
use swarm::peers::{Peer, Role, WebSeedServer};
use swarm::{free_port, Scratch};

/// Upper bound for a few MiB over loopback HTTP.
const DOWNLOAD: Duration = Duration::from_secs(90);

/// 3 MiB and change: 97 pieces of 32 KiB, the last one short.
const LEN: u64 = (3 << 20) + 12_345;

/// Pieces in [`LEN`] bytes.
const PIECES: u64 = LEN.div_ceil(1 << PIECE_LOG2);

/// A torrent of `payload` with one web seed, at `url`.
fn web_seeded(scratch: &Scratch, payload: &Payload, url: String) -> Torrent {
    Torrent::make_web_seeded(payload, &scratch.path().join("test.torrent"), PIECE_LOG2, &[url])
}

/// Downloads a torrent of `payload` whose only source is an honest web seed serving the
/// payload's directory at the URL `url` makes of its port, checks the data, and returns
/// the seed.
fn download_from_web_seed(
    scratch: &Scratch,
    payload: &Payload,
    url: impl FnOnce(u16) -> String,
) -> WebSeedServer {
    let port = free_port();
    let torrent = web_seeded(scratch, payload, url(port));
    let server = WebSeedServer::start(&payload.parent, port, false);
    let out = scratch.subdir("out");
    let mut ferrent = Ferrent::download(&torrent.path, &out).no_trackers().spawn("ferrent");
    ferrent.wait_success(DOWNLOAD);
    payload.assert_complete_in(&out);
    server
}

#[test]
fn single_file_from_a_web_seed_alone() {
    let scratch = Scratch::new("webseed-single");
    let payload = Payload::single(&scratch.subdir("source"), "single.bin", LEN, 0x5eed);
    let server = download_from_web_seed(&scratch, &payload, |port| {
        format!("http://127.0.0.1:{port}/single.bin")
    });

    let served = server.served();
    assert!(served.iter().all(|(path, _, _)| path == "/single.bin"), "asked for {served:?}");
    let bytes: u64 = served.iter().map(|(_, start, end)| end - start + 1).sum();
    assert!(bytes >= LEN, "the seed served {bytes} of {LEN} bytes: the data came from elsewhere");
    // A piece's blocks (two here) are asked for in one range.
    assert!(
        served.len() as u64 <= PIECES,
        "{} range requests for {PIECES} pieces: a piece's blocks were not asked for together",
        served.len()
    );
}

#[test]
fn multi_file_torrent_from_a_web_seed_directory() {
    let scratch = Scratch::new("webseed-multi");
    let payload = Payload::spanning(&scratch.subdir("source"), "multi", 0x5eed);
    // A multi-file torrent's URL is a directory: the name and each file's path are added.
    let server =
        download_from_web_seed(&scratch, &payload, |port| format!("http://127.0.0.1:{port}/"));

    let served = server.served();
    for file in payload.files.iter().filter(|f| f.len > 0) {
        let rel = file.rel.to_string_lossy();
        let path = format!("/{}", rel.split('/').map(uri_escape).collect::<Vec<_>>().join("/"));
        assert!(served.iter().any(|(p, _, _)| *p == path), "{path} was never asked for");
    }
}

#[test]
fn corrupt_web_seed_is_found_out_and_a_peer_completes() {
    let scratch = Scratch::new("webseed-corrupt");
    let payload = Payload::single(&scratch.subdir("source"), "single.bin", LEN, 0x5eed);
    let port = free_port();
    let torrent = web_seeded(&scratch, &payload, format!("http://127.0.0.1:{port}/single.bin"));
    let server = WebSeedServer::start(&payload.parent, port, true);
    // Slow enough that the web seed is asked for several pieces before the end.
    let mut seeder =
        Peer::libtorrent(Role::Seed, &torrent, &payload.parent).upload_limit(1 << 20).spawn();
    seeder.wait_ready(SEED_READY);

    let out = scratch.subdir("out");
    let mut ferrent = Ferrent::download(&torrent.path, &out)
        .no_trackers()
        .peer(seeder.addr())
        .ban_after(2)
        .spawn("ferrent");
    let events = ferrent.wait_success(DOWNLOAD);
    payload.assert_complete_in(&out);
    assert!(
        !server.served().is_empty(),
        "the corrupt web seed was never asked: this proved nothing"
    );
    let seed = format!("127.0.0.1:{port}");
    assert!(
        events.iter().any(|e| matches!(e, Event::PeerBanned { peer, .. } if *peer == seed)),
        "the corrupt web seed {seed} was not banned"
    );
}
