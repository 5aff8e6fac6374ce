//! `ferrent download` against real third-party seeders on 127.0.0.1.
//!
//! Each test builds a small deterministic payload and a private `.torrent` (mktorrent),
//! whitelists it in a local opentracker, starts libtorrent / Transmission seeders and checks
//! that ferrent fetches exactly the source bytes.

mod swarm;

use std::time::Duration;

use swarm::ferrent::{done_downloaded, Event, Ferrent};
use swarm::fixture::{Fixture, Shape, SEED_READY, SINGLE, STATUS_WAIT};
use swarm::peers::{Peer, Role};

/// Upper bound for one download of a few MiB on loopback.
const DOWNLOAD: Duration = Duration::from_secs(90);

/// Panics unless the first event is `checked` with nothing on disk yet.
fn assert_fresh_check(events: &[Event], total: u32) {
    match events.first() {
        Some(Event::Checked { have: 0, total: t }) if *t == total => {}
        other => panic!("expected a first event checked{{have:0,total:{total}}}, got {other:?}"),
    }
}

#[test]
fn single_file_from_libtorrent_seeder_via_http_tracker() {
    let fx = Fixture::new("http", SINGLE, |t| vec![t.http()]);
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).spawn();
    seeder.wait_ready(SEED_READY);

    let out = fx.out_dir("out");
    let mut ferrent = Ferrent::download(&fx.torrent.path, &out).spawn("ferrent");
    let events = ferrent.wait_success(DOWNLOAD);

    fx.payload.assert_complete_in(&out);
    assert_fresh_check(&events, fx.torrent.info.num_pieces);
    assert!(
        done_downloaded(&events) >= fx.payload.total_len(),
        "done.downloaded is below the payload size"
    );
    let total = fx.payload.total_len();
    seeder
        .wait_status(STATUS_WAIT, "the seeder to report the whole upload", |s| s.uploaded >= total);
}

#[test]
fn multi_file_with_spanning_piece_via_udp_tracker() {
    let fx = Fixture::new("udp", Shape::Spanning, |t| vec![t.udp()]);
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).spawn();
    seeder.wait_ready(SEED_READY);

    let out = fx.out_dir("out");
    let mut ferrent = Ferrent::download(&fx.torrent.path, &out).spawn("ferrent");
    let events = ferrent.wait_success(DOWNLOAD);

    fx.payload.assert_complete_in(&out);
    assert_fresh_check(&events, fx.torrent.info.num_pieces);
}

#[test]
fn single_file_from_transmission_seeder() {
    let fx = Fixture::new("transmission", SINGLE, |t| vec![t.http()]);
    let mut seeder = Peer::transmission(Role::Seed, &fx.torrent, &fx.payload.parent).spawn();
    seeder.wait_ready(SEED_READY);

    // Transmission never dials loopback peers it hears of from a tracker: ferrent must dial.
    let out = fx.out_dir("out");
    let mut ferrent =
        Ferrent::download(&fx.torrent.path, &out).peer(seeder.addr()).spawn("ferrent");
    ferrent.wait_success(DOWNLOAD);

    fx.payload.assert_complete_in(&out);
}

#[test]
fn combines_three_partial_seeders() {
    let fx = Fixture::new("partial", SINGLE, |t| vec![t.http()]);
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
    let mut ferrent = Ferrent::download(&fx.torrent.path, &out).spawn("ferrent");
    ferrent.wait_success(DOWNLOAD);

    fx.payload.assert_complete_in(&out);
    for (part, seeder) in seeders.iter_mut().enumerate() {
        seeder.wait_status(STATUS_WAIT, &format!("seeder {part} to report an upload"), |s| {
            s.uploaded > 0
        });
        let own = (0..pieces).filter(|i| i % 3 == part as u32).count() as u32;
        let have = seeder.status().map_or(0, |s| s.have);
        assert_eq!(have, own, "seeder {part} gained pieces: the swarm was not partial");
    }
}

#[test]
fn survives_a_seeder_vanishing_half_way() {
    let fx = Fixture::new("vanish", Shape::Single((4 << 20) + 999), |t| vec![t.http()]);
    let pieces = fx.torrent.info.num_pieces;
    // Both throttled so the download takes several seconds and uses both.
    let rate = 256 << 10;
    let mut first =
        Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).upload_limit(rate).spawn();
    let mut second =
        Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).upload_limit(rate).spawn();
    first.wait_ready(SEED_READY);
    second.wait_ready(SEED_READY);

    let out = fx.out_dir("out");
    let mut ferrent = Ferrent::download(&fx.torrent.path, &out).spawn("ferrent");
    ferrent.wait_have(DOWNLOAD, pieces / 4);
    first.wait_status(STATUS_WAIT, "the first seeder to report an upload", |s| s.uploaded > 0);
    let have_at_kill = ferrent.progress_have().unwrap_or(0);
    assert!(have_at_kill < pieces, "ferrent finished before the seeder could vanish");
    first.proc.kill();
    let second_before = second.status().map_or(0, |s| s.uploaded);

    ferrent.wait_success(DOWNLOAD);
    fx.payload.assert_complete_in(&out);
    second.wait_status(
        STATUS_WAIT,
        "the second seeder to carry on after the first vanished",
        |s| s.uploaded > second_before,
    );
}

#[test]
fn falls_back_to_second_tracker_tier() {
    // Port 1 on loopback: nothing listens there, connections are refused.
    let dead = "http://127.0.0.1:1/announce".to_owned();
    let fx = Fixture::new("tiers", SINGLE, |t| vec![dead.clone(), t.http()]);
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).spawn();
    seeder.wait_ready(SEED_READY);
    assert_eq!(fx.torrent.info.trackers, vec![dead, fx.tracker.addr.http()]);

    let out = fx.out_dir("out");
    let mut ferrent = Ferrent::download(&fx.torrent.path, &out).spawn("ferrent");
    ferrent.wait_success(DOWNLOAD);

    fx.payload.assert_complete_in(&out);
}

#[test]
fn only_fetches_the_selected_file() {
    let fx = Fixture::new("only", Shape::Spanning, |t| vec![t.http()]);
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).spawn();
    seeder.wait_ready(SEED_READY);
    let info = &fx.torrent.info;
    let chosen =
        info.files.iter().position(|f| f.path.ends_with("07-small.bin")).expect("small file");
    let file = &info.files[chosen];

    let out = fx.out_dir("out");
    let mut ferrent = Ferrent::download(&fx.torrent.path, &out).only(&[chosen]).spawn("ferrent");
    let events = ferrent.wait_success(DOWNLOAD);

    fx.payload.file_matches(&out, chosen).unwrap_or_else(|e| panic!("selected file: {e}"));
    // The pieces overlapping the file, plus one piece of slack for duplicate blocks.
    let first = file.offset / info.piece_length;
    let last = (file.offset + file.size - 1) / info.piece_length;
    let needed: u64 =
        (first..=last).map(|i| fx.torrent.piece_range(i as u32)).map(|(s, e)| e - s).sum();
    let downloaded = done_downloaded(&events);
    assert!(downloaded >= file.size, "downloaded {downloaded} bytes, less than the selected file");
    assert!(
        downloaded <= needed + info.piece_length,
        "downloaded {downloaded} bytes for a {} byte selection (pieces covering it: {needed} bytes, \
         torrent: {} bytes)",
        file.size,
        info.total_size
    );
}
