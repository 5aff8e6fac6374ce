//! Local Service Discovery (BEP 14) on loopback: a seeder and a leecher that know nothing of
//! each other (no tracker, no DHT, no `--peer`) must meet through 239.192.152.143:6771.
//!
//! Every process binds 127.0.0.1, so the multicast stays on `lo`; inside `unshare -n` with
//! `lo` up that is the only interface there is.
//!
//! Timing: clients announce a torrent when it starts and then every 5 minutes (BEP 14 and
//! both implementations' defaults). The seeder starts first, so its first announce reaches
//! nobody; it is the leecher's start-up announce, heard by the seeder, that makes the seeder
//! dial the leecher. The seeder's next announce would come 5 minutes later, far past any
//! test bound, so these tests pass only if that first path works.
//!
//! Tests run in parallel and all hear the same group: each uses a payload of its own length,
//! so each has its own info hash and no test can be served by another's seeder.

mod swarm;

use std::time::Duration;

use swarm::ferrent::{Event, Ferrent, FerrentRun};
use swarm::fixture::{Fixture, Shape, SEED_READY};
use swarm::free_port;
use swarm::peers::{Peer, Role};
use swarm::process::Stream;

/// Upper bound for finding each other and a few MiB on loopback.
const DOWNLOAD: Duration = Duration::from_secs(60);

/// Long enough for a start-up announce to have been sent (one packet per second at most).
const ANNOUNCE_SENT: Duration = Duration::from_secs(2);

/// A single-file payload of 3 MiB plus `extra` bytes: `extra` tells the tests' torrents apart.
fn payload(extra: u64) -> Shape {
    Shape::Single((3 << 20) + extra)
}

/// Starts `ferrent download --seed` with LSD on, on a copy of the fixture's data, and waits
/// until it has checked its data complete and had time to announce.
fn ferrent_seeder(fx: &Fixture, port: u16) -> FerrentRun {
    let seed_dir = fx.out_dir("seed");
    fx.torrent.partial_copy(&fx.payload, &seed_dir, |_| true);
    let mut seeder = Ferrent::download(&fx.torrent.path, &seed_dir)
        .seed()
        .lsd()
        .listen_port(port)
        .spawn("ferrent-seed");
    let total = fx.torrent.info.num_pieces;
    seeder.wait_event(SEED_READY, "the seeder to find its data complete", |e| match e {
        Event::Checked { have, total: t } if *t == total => {
            assert_eq!(*have, total, "the seeder's copy is incomplete");
            Some(())
        }
        _ => None,
    });
    std::thread::sleep(ANNOUNCE_SENT);
    seeder
}

/// Whether `run`'s debug log mentions a connection with `127.0.0.1:port` (which, for a
/// listen port, means `run` dialled it).
fn talked_to(run: &FerrentRun, port: u16) -> bool {
    let needle = format!("addr=127.0.0.1:{port} ");
    run.proc.lines(Stream::Stderr).iter().any(|l| l.text.contains(&needle))
}

#[test]
fn ferrent_finds_ferrent_through_lsd() {
    let fx = Fixture::public("lsd-ferrent", payload(1));
    let (seed_port, leech_port) = (free_port(), free_port());
    let seeder = ferrent_seeder(&fx, seed_port);

    let out = fx.out_dir("out");
    let mut leecher =
        Ferrent::download(&fx.torrent.path, &out).lsd().listen_port(leech_port).spawn("ferrent");
    leecher.wait_success(DOWNLOAD);
    fx.payload.assert_complete_in(&out);

    // Diagnostics only (the logs' wording is not a contract): who dialled whom.
    std::thread::sleep(Duration::from_millis(500));
    eprintln!(
        "seeder dialled the leecher: {}; leecher dialled the seeder: {}",
        talked_to(&seeder, leech_port),
        talked_to(&leecher, seed_port)
    );
}

#[test]
fn ferrent_finds_a_libtorrent_seeder_through_lsd() {
    let fx = Fixture::public("lsd-lt-seed", payload(2));
    let mut seeder =
        Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).lsd(None).spawn();
    seeder.wait_ready(SEED_READY);
    std::thread::sleep(ANNOUNCE_SENT);

    let out = fx.out_dir("out");
    let mut leecher = Ferrent::download(&fx.torrent.path, &out).lsd().spawn("ferrent");
    leecher.wait_success(DOWNLOAD);
    fx.payload.assert_complete_in(&out);
}

#[test]
fn libtorrent_finds_a_ferrent_seeder_through_lsd() {
    let fx = Fixture::public("lsd-lt-leech", payload(3));
    let seed_port = free_port();
    let mut seeder = ferrent_seeder(&fx, seed_port);

    let out = fx.out_dir("out");
    let mut leecher = Peer::libtorrent(Role::Leech, &fx.torrent, &out)
        .lsd(None)
        .timeout(DOWNLOAD - Duration::from_secs(5))
        .spawn();
    leecher.wait_done(DOWNLOAD);
    fx.payload.assert_complete_in(&out);
    let len = fx.payload.total_len();
    seeder.wait_event(Duration::from_secs(5), "the seeder to report the whole upload", |e| {
        matches!(e, Event::Progress { uploaded, .. } if *uploaded >= len).then_some(())
    });
}
