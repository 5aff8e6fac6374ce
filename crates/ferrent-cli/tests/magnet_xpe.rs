//! `ferrent download MAGNET` where the magnet link names its peers (`x.pe`): BEP 9 metadata
//! from a real libtorrent seeder, and spoilt metadata from our own peer
//! (`tests/peers/metadata_peer.py`).
//!
//! The torrents are public and name no tracker; ferrent runs with `--no-trackers` and without
//! DHT or LSD, so the magnet's `x.pe` (and `--peer`) are its only sources.

mod swarm;

use std::net::TcpListener;
use std::time::Duration;

use swarm::ferrent::{assert_metadata_saved, metadata_event, Ferrent};
use swarm::fixture::{Fixture, Shape, SEED_READY, SINGLE};
use swarm::payload::files_with_suffix;
use swarm::peers::{BadMetadata, MetadataPeer, Peer, Role};
use swarm::{free_port, local, wait_until};

/// Upper bound for fetching the metadata and a few MiB on loopback.
const DOWNLOAD: Duration = Duration::from_secs(90);

/// ferrent's own bound on the metadata fetch: it fails with its own message before
/// [`DOWNLOAD`] runs out.
const METADATA_TIMEOUT: Duration = Duration::from_secs(60);

/// Files in the [`Shape::Many`] payload: an info dictionary of three 16 KiB metadata pieces.
const MANY_FILES: usize = 600;

/// ferrent asks this many peers for metadata at once; a crowd this large of spoiling peers
/// listed first keeps the honest one waiting until some of them were found out.
const CROWD: usize = 8;

/// BEP 9 metadata travels in pieces of this many bytes.
const METADATA_PIECE: u64 = 16 << 10;

/// How long ferrent may look for metadata when only a spoiling peer has it.
const SHORT_METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// Starts a libtorrent seeder of the fixture's torrent and waits until it serves.
fn seeder(fx: &Fixture) -> Peer {
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).spawn();
    seeder.wait_ready(SEED_READY);
    seeder
}

/// Downloads the fixture's torrent from a magnet link naming only a libtorrent seeder.
fn magnet_from_x_pe_alone(test: &str, shape: Shape) {
    let fx = Fixture::public(test, shape);
    let seeder = seeder(&fx);
    let magnet = fx.torrent.magnet(&[seeder.addr()]);

    let out = fx.out_dir("out");
    let mut ferrent = Ferrent::magnet(&magnet, &out)
        .no_trackers()
        .metadata_timeout(METADATA_TIMEOUT)
        .spawn("ferrent");
    let events = ferrent.wait_success(DOWNLOAD);

    fx.payload.assert_complete_in(&out);
    assert_metadata_saved(&fx.torrent, &events, &out);
}

/// The magnet's only peer is not serving yet when ferrent first dials it: the first
/// connection is closed at once, and ferrent must try the address again later.
#[test]
fn x_pe_peer_that_comes_up_late_is_tried_again() {
    let fx = Fixture::public("xpe-late", SINGLE);
    let port = free_port();
    let magnet = fx.torrent.magnet(&[local(port)]);
    let early = TcpListener::bind(local(port)).expect("bind the peer's port before it runs");

    let out = fx.out_dir("out");
    let mut ferrent = Ferrent::magnet(&magnet, &out)
        .no_trackers()
        .metadata_timeout(METADATA_TIMEOUT)
        .spawn("ferrent");
    early.set_nonblocking(true).expect("non-blocking listener");
    wait_until(SEED_READY, "ferrent's first dial", || match early.accept() {
        // Dropped at once: the connection closes before a handshake.
        Ok(_) => Some(()),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => None,
        Err(e) => panic!("accept: {e}"),
    });
    drop(early);

    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).spawn_on(port);
    seeder.wait_ready(SEED_READY);
    let events = ferrent.wait_success(DOWNLOAD);
    fx.payload.assert_complete_in(&out);
    assert_metadata_saved(&fx.torrent, &events, &out);
}

#[test]
fn single_metadata_piece_from_x_pe_peer() {
    magnet_from_x_pe_alone("xpe-single", SINGLE);
}

#[test]
fn several_metadata_pieces_from_x_pe_peer() {
    magnet_from_x_pe_alone("xpe-many", Shape::Many(MANY_FILES));
}

#[test]
fn the_many_files_payload_has_several_metadata_pieces() {
    let fx = Fixture::public("xpe-size", Shape::Many(MANY_FILES));
    let len = std::fs::metadata(&fx.torrent.path).expect("the .torrent exists").len();
    // The .torrent is its info dictionary plus under 100 bytes (no announce, no comment).
    assert!(len > 2 * METADATA_PIECE + 100, "the info dictionary fits two metadata pieces");
}

/// ferrent is given `count` `mode` peers (`--peer`, contacted first) and an honest
/// libtorrent seeder (`x.pe`): it must refuse the spoilt pieces and still get the right
/// metadata and content.
fn spoilt_metadata_next_to_honest_seeder(test: &str, mode: BadMetadata, count: usize) {
    let fx = Fixture::public(test, Shape::Many(MANY_FILES));
    let hostile = MetadataPeer::start_many(&fx.torrent, mode, count);
    assert!(hostile.pieces > 2, "the payload's metadata must span several pieces");
    let seeder = seeder(&fx);
    let magnet = fx.torrent.magnet(&[seeder.addr()]);

    let out = fx.out_dir("out");
    let mut ferrent =
        Ferrent::magnet(&magnet, &out).no_trackers().metadata_timeout(METADATA_TIMEOUT);
    for addr in hostile.addrs() {
        ferrent = ferrent.peer(addr);
    }
    let mut ferrent = ferrent.spawn("ferrent");
    let events = ferrent.wait_success(DOWNLOAD);

    fx.payload.assert_complete_in(&out);
    assert_metadata_saved(&fx.torrent, &events, &out);
    assert!(
        !hostile.pieces_sent().is_empty(),
        "ferrent never asked the {} peer for metadata: the test proved nothing",
        mode.arg()
    );
}

#[test]
fn corrupt_metadata_pieces_are_refused() {
    spoilt_metadata_next_to_honest_seeder("xpe-corrupt", BadMetadata::Corrupt, 1);
}

#[test]
fn short_metadata_pieces_are_refused() {
    spoilt_metadata_next_to_honest_seeder("xpe-short", BadMetadata::Short, 1);
}

#[test]
fn long_metadata_pieces_are_refused() {
    spoilt_metadata_next_to_honest_seeder("xpe-long", BadMetadata::Long, 1);
}

#[test]
fn wrong_metadata_size_is_refused() {
    spoilt_metadata_next_to_honest_seeder("xpe-bad-total", BadMetadata::BadTotal, 1);
}

#[test]
fn a_crowd_of_corrupt_metadata_peers_listed_first() {
    spoilt_metadata_next_to_honest_seeder("xpe-corrupt-crowd", BadMetadata::Corrupt, CROWD);
}

#[test]
fn a_crowd_of_wrong_size_metadata_peers_listed_first() {
    spoilt_metadata_next_to_honest_seeder("xpe-bad-total-crowd", BadMetadata::BadTotal, CROWD);
}

/// With only a `mode` peer, ferrent must give up at `--metadata-timeout` with an error,
/// having saved no `.torrent` and written no payload.
fn spoilt_metadata_alone(test: &str, mode: BadMetadata) {
    let fx = Fixture::public(test, Shape::Many(MANY_FILES));
    let hostile = MetadataPeer::start(&fx.torrent, mode);
    let magnet = fx.torrent.magnet(&[hostile.addr()]);

    let out = fx.out_dir("out");
    let mut ferrent = Ferrent::magnet(&magnet, &out)
        .no_trackers()
        .metadata_timeout(SHORT_METADATA_TIMEOUT)
        .spawn("ferrent");
    let status = ferrent.wait_exit(SHORT_METADATA_TIMEOUT + Duration::from_secs(20));

    assert!(!status.success(), "ferrent accepted {} metadata and exited 0", mode.arg());
    let events = ferrent.events();
    assert_eq!(metadata_event(&events), None, "ferrent accepted {} metadata", mode.arg());
    let saved = files_with_suffix(&out, ".torrent");
    assert!(saved.is_empty(), "a .torrent was saved from {} metadata: {saved:?}", mode.arg());
    assert!(
        !hostile.pieces_sent().is_empty(),
        "ferrent never asked the {} peer for metadata: the test proved nothing",
        mode.arg()
    );
}

#[test]
fn corrupt_metadata_alone_never_completes() {
    spoilt_metadata_alone("xpe-corrupt-alone", BadMetadata::Corrupt);
}

#[test]
fn wrong_metadata_size_alone_never_completes() {
    spoilt_metadata_alone("xpe-bad-total-alone", BadMetadata::BadTotal);
}
