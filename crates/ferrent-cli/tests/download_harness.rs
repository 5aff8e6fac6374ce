//! Checks of the swarm harness itself, with third-party clients on both ends.
//!
//! These run the scenarios of `download_swarm.rs`, `download_hostile.rs` and `seed_swarm.rs`
//! with libtorrent or Transmission in ferrent's place. When a ferrent test fails and the
//! matching test here passes, the fault is ferrent's, not the environment's.

mod swarm;

use std::time::Duration;

use swarm::fixture::{Fixture, Shape, SEED_READY, SINGLE, STATUS_WAIT};
use swarm::payload::Privacy;
use swarm::peers::{HostilePeer, Hostility, Peer, Role};
use swarm::process::Stream;

/// Upper bound for one reference download of a few MiB.
const DOWNLOAD: Duration = Duration::from_secs(60);

#[test]
fn libtorrent_to_libtorrent_via_http_tracker() {
    let fx = Fixture::new("ref-http", SINGLE, |t| vec![t.http()]);
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).spawn();
    let ready = seeder.wait_ready(SEED_READY);
    assert_eq!(ready.have, fx.torrent.info.num_pieces);

    let out = fx.out_dir("out");
    let mut leecher = Peer::libtorrent(Role::Leech, &fx.torrent, &out).timeout(DOWNLOAD).spawn();
    leecher.wait_done(DOWNLOAD + Duration::from_secs(5));
    fx.payload.assert_complete_in(&out);
}

#[test]
fn libtorrent_to_libtorrent_multi_file_via_udp_tracker() {
    let fx = Fixture::new("ref-udp", Shape::Spanning, |t| vec![t.udp()]);
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).spawn();
    seeder.wait_ready(SEED_READY);
    // Piece 1 (32..64 KiB) spans the first four files.
    let starts: Vec<u64> = fx.torrent.info.files.iter().map(|f| f.offset).take(4).collect();
    assert_eq!(starts, vec![0, 40 << 10, 45 << 10, 48 << 10]);

    let out = fx.out_dir("out");
    let mut leecher = Peer::libtorrent(Role::Leech, &fx.torrent, &out).timeout(DOWNLOAD).spawn();
    leecher.wait_done(DOWNLOAD + Duration::from_secs(5));
    fx.payload.assert_complete_in(&out);
}

#[test]
fn transmission_seeds_and_leeches_with_libtorrent() {
    let fx = Fixture::new("ref-transmission", SINGLE, |t| vec![t.http()]);
    let mut seeder = Peer::transmission(Role::Seed, &fx.torrent, &fx.payload.parent).spawn();
    seeder.wait_ready(SEED_READY);
    let out = fx.out_dir("out");
    let mut leecher = Peer::libtorrent(Role::Leech, &fx.torrent, &out)
        .connect_to(seeder.addr())
        .timeout(DOWNLOAD)
        .spawn();
    leecher.wait_done(DOWNLOAD + Duration::from_secs(5));
    fx.payload.assert_complete_in(&out);
    drop(seeder);

    // Transmission as the leecher: it learns nothing it would dial, the seeder dials it.
    let out = fx.out_dir("out-transmission");
    let mut leecher = Peer::transmission(Role::Leech, &fx.torrent, &out).timeout(DOWNLOAD).spawn();
    let name = leecher.proc.name().to_owned();
    swarm::wait_until(SEED_READY, &format!("{name} to announce"), || {
        leecher.status().filter(|s| s.announced > 0)
    });
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).spawn();
    seeder.wait_ready(SEED_READY);
    leecher.wait_done(DOWNLOAD + Duration::from_secs(5));
    fx.payload.assert_complete_in(&out);
}

#[test]
fn three_partial_libtorrent_seeders_complete_a_libtorrent_leecher() {
    let fx = Fixture::new("ref-partial", SINGLE, |t| vec![t.http()]);
    let pieces = fx.torrent.info.num_pieces;
    let mut seeders = Vec::new();
    for part in 0..3u32 {
        let data = fx.out_dir(&format!("seeder{part}"));
        fx.torrent.partial_copy(&fx.payload, &data, |i| i % 3 == part);
        let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &data).partial().spawn();
        let ready = seeder.wait_ready(SEED_READY);
        let expected: Vec<bool> = (0..pieces).map(|i| i % 3 == part).collect();
        assert_eq!(ready.bits, expected, "seeder {part} does not hold exactly every third piece");
        seeders.push(seeder);
    }
    let out = fx.out_dir("out");
    let mut leecher = Peer::libtorrent(Role::Leech, &fx.torrent, &out).timeout(DOWNLOAD).spawn();
    leecher.wait_done(DOWNLOAD + Duration::from_secs(5));
    fx.payload.assert_complete_in(&out);
    for (part, seeder) in seeders.iter_mut().enumerate() {
        seeder.wait_status(STATUS_WAIT, &format!("seeder {part} to report an upload"), |s| {
            s.uploaded > 0
        });
        let have = seeder.status().map_or(0, |s| s.have);
        assert!(have < pieces, "partial seeder {part} completed itself");
    }
}

#[test]
fn corrupt_peer_is_survived_by_libtorrent() {
    // No tracker: the leecher meets the corrupt peer alone first and the honest seeder only
    // after banning it. libtorrent lowers the trust of every peer that sent part of a failed
    // piece and bans at the fourth; an honest seeder sharing pieces with the corrupt peer was
    // banned that way on a loaded machine, and the leecher starved.
    let fx = Fixture::with_privacy("ref-hostile", SINGLE, Privacy::Private, |_| Vec::new());
    // A ban is by IP: the corrupt peer gets an address of its own.
    let mut hostile = HostilePeer::start_on(&fx.torrent, Hostility::Corrupt, [127, 0, 0, 2].into());
    let out = fx.out_dir("out");
    let mut leecher = Peer::libtorrent(Role::Leech, &fx.torrent, &out)
        .connect_to(hostile.addr())
        .timeout(DOWNLOAD)
        .spawn();
    let banned = format!("{} client: HP", hostile.addr());
    leecher.proc.wait_for_line_in(Stream::Stderr, DOWNLOAD, "a ban of the corrupt peer", |l| {
        (l.contains("peer_ban_alert") && l.contains(&banned)).then_some(())
    });
    hostile.proc.wait_for_line(STATUS_WAIT, "the banned connection closed", |l| {
        l.starts_with("CLOSED").then_some(())
    });
    assert!(!hostile.pieces_served().is_empty(), "the hostile peer was never asked for data");
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent)
        .connect_to(leecher.addr())
        .spawn();
    seeder.wait_ready(SEED_READY);
    leecher.wait_done(DOWNLOAD + Duration::from_secs(5));
    fx.payload.assert_complete_in(&out);
}
