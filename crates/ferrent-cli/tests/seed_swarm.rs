//! `ferrent download --seed` with the data already on disk, serving third-party leechers that
//! find it through opentracker.

mod swarm;

use std::time::Duration;

use swarm::ferrent::{Event, Ferrent, FerrentRun};
use swarm::fixture::{Fixture, Shape, SEED_READY, SINGLE, STATUS_WAIT};
use swarm::peers::{Peer, Role};

/// Upper bound for a leecher's download (Transmission waits up to 10 s to unchoke).
const LEECH: Duration = Duration::from_secs(90);

/// How long ferrent may take to exit after SIGTERM.
const SHUTDOWN: Duration = Duration::from_secs(10);

/// Starts `ferrent download --seed` on the fixture's own source directory and waits until it
/// has verified every piece.
fn start_seeder(fx: &Fixture) -> FerrentRun {
    let mut ferrent =
        Ferrent::download(&fx.torrent.path, &fx.payload.parent).seed().spawn("ferrent-seed");
    let total = fx.torrent.info.num_pieces;
    ferrent.wait_checked_complete(total);
    ferrent
}

/// Waits for a progress event showing at least `expected` bytes uploaded, then SIGTERMs the
/// seeder and checks it exits 0.
fn stop_seeder(mut ferrent: FerrentRun, expected: u64) {
    ferrent.wait_event(STATUS_WAIT, "a progress event counting the whole upload", |e| match e {
        Event::Progress { uploaded, .. } if *uploaded >= expected => Some(()),
        _ => None,
    });
    ferrent.proc.signal(libc::SIGTERM);
    let status = ferrent.wait_exit(SHUTDOWN);
    assert!(status.success(), "ferrent --seed exited with {status} after SIGTERM");
}

#[test]
fn seeds_to_libtorrent_leecher() {
    let fx = Fixture::new("seed-lt", Shape::Spanning, |t| vec![t.http()]);
    let ferrent = start_seeder(&fx);

    let out = fx.out_dir("out");
    let mut leecher = Peer::libtorrent(Role::Leech, &fx.torrent, &out).timeout(LEECH).spawn();
    leecher.wait_done(LEECH + STATUS_WAIT);
    fx.payload.assert_complete_in(&out);

    stop_seeder(ferrent, fx.payload.total_len());
    fx.payload.assert_complete_in(&fx.payload.parent);
}

#[test]
fn seeds_to_transmission_leecher() {
    let fx = Fixture::new("seed-tr", SINGLE, |t| vec![t.http()]);
    // Transmission 3.00 does not dial loopback peers from a tracker: it announces first, and
    // ferrent must dial it once its own announce returns Transmission's address.
    let out = fx.out_dir("out");
    let mut leecher = Peer::transmission(Role::Leech, &fx.torrent, &out).timeout(LEECH).spawn();
    leecher.wait_status(SEED_READY, "Transmission to announce", |s| s.announced > 0);
    let ferrent = start_seeder(&fx);

    leecher.wait_done(LEECH + STATUS_WAIT);
    fx.payload.assert_complete_in(&out);

    stop_seeder(ferrent, fx.payload.total_len());
    fx.payload.assert_complete_in(&fx.payload.parent);
}
