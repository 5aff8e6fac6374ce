//! `--seed-ratio` and `--seed-time` end seeding, and the trackers hear about it.
//!
//! Transfer numbers are checked exactly against a recording HTTP tracker of our own
//! ([`RecordingTracker`]); that `stopped` really takes ferrent out of a swarm is checked
//! against opentracker's own peer list.

mod swarm;

use std::time::{Duration, Instant};

use swarm::announce::{probe, Announce, RecordingTracker};
use swarm::ferrent::{Event, Ferrent, FerrentRun};
use swarm::fixture::{Fixture, SEED_READY, SINGLE};
use swarm::peers::{Peer, Role};
use swarm::{free_port, local, wait_until};

/// Upper bound for one leecher's download of a few MiB.
const LEECH: Duration = Duration::from_secs(60);

/// Once the ratio is reached, ferrent must be gone within this (1 s ticks, then `stopped`).
const RATIO_EXIT: Duration = Duration::from_secs(6);

/// The seeding time asked for.
const SEED_TIME: Duration = Duration::from_secs(5);

/// How much later than [`SEED_TIME`] after completion ferrent may exit (1 s ticks, then up
/// to a few seconds of `stopped` announces and flushing).
const SEED_TIME_SLACK: Duration = Duration::from_secs(3);

/// Reading a line and noticing an exit are both polled; this much earlier is not "early".
const JITTER: Duration = Duration::from_millis(200);

/// How long a tracker may take to list a fresh peer.
const LISTED: Duration = Duration::from_secs(15);

/// When the `done` event was read.
fn done_at(ferrent: &FerrentRun) -> Instant {
    ferrent
        .events_timed()
        .into_iter()
        .find_map(|(at, e)| matches!(e, Event::Done { .. }).then_some(at))
        .expect("a done event")
}

/// Waits (bounded) for ferrent to exit on its own; panics unless it exits 0. Returns when
/// the exit was noticed.
fn wait_clean_exit(ferrent: &mut FerrentRun, timeout: Duration, why: &str) -> Instant {
    let status = ferrent.wait_exit(timeout);
    let at = Instant::now();
    assert!(status.success(), "ferrent exited with {status} {why}");
    at
}

/// The payload bytes a libtorrent leecher's `DONE downloaded=N` line reports.
fn done_downloaded(leecher: &Peer) -> u64 {
    leecher
        .proc
        .stdout()
        .iter()
        .find_map(|l| l.strip_prefix("DONE downloaded=")?.trim().parse().ok())
        .expect("a DONE downloaded=N line from the leecher")
}

/// The `event` values of `announces`, `-` for regular ones.
fn event_names(announces: &[Announce]) -> Vec<&str> {
    announces.iter().map(|a| a.event.as_deref().unwrap_or("-")).collect()
}

/// Panics unless ferrent's announces are exactly `expected` events, in order.
fn assert_events(announces: &[Announce], expected: &[&str]) {
    assert_eq!(event_names(announces), expected, "ferrent's announces: {announces:?}");
}

/// The first and last of ferrent's announces; panics unless they are `started` and
/// `stopped`.
fn first_and_last(announces: &[Announce]) -> (&Announce, &Announce) {
    let names = event_names(announces);
    assert_eq!(names.first(), Some(&"started"), "ferrent's first announce: {announces:?}");
    assert_eq!(names.last(), Some(&"stopped"), "ferrent's last announce: {announces:?}");
    (&announces[0], &announces[announces.len() - 1])
}

#[test]
fn seed_ratio_one_stops_once_the_torrent_size_is_uploaded() {
    let tracker = RecordingTracker::start();
    let fx = Fixture::new("stop-ratio", SINGLE, |_| vec![tracker.url()]);
    let size = fx.payload.total_len();
    let port = free_port();
    let mut ferrent = Ferrent::download(&fx.torrent.path, &fx.payload.parent)
        .seed()
        .seed_ratio(1.0)
        .listen_port(port)
        .spawn("ferrent-seed");
    ferrent.wait_checked_complete(fx.torrent.info.num_pieces);

    let out = fx.out_dir("out");
    let mut leecher = Peer::libtorrent(Role::Leech, &fx.torrent, &out).timeout(LEECH).spawn();
    leecher.wait_done(LEECH + Duration::from_secs(5));
    let leeched_at = Instant::now();
    fx.payload.assert_complete_in(&out);

    let exited_at = wait_clean_exit(&mut ferrent, RATIO_EXIT, "after reaching --seed-ratio 1");
    let uploaded = ferrent.progress().last().map_or(0, |s| s.uploaded);
    assert!(uploaded >= size, "ferrent stopped after uploading {uploaded} of {size} bytes");
    assert!(exited_at.duration_since(leeched_at) <= RATIO_EXIT, "ferrent seeded on too long");

    let leeched = done_downloaded(&leecher);
    assert_eq!(leeched, size, "the leecher's payload download (ferrent was its only source)");
    let ours = tracker.announces_from(port);
    let (started, stopped) = first_and_last(&ours);
    assert_eq!((started.uploaded, started.downloaded, started.left), (0, 0, 0), "started");
    assert_eq!(
        (stopped.uploaded, stopped.downloaded, stopped.left),
        (size, 0, 0),
        "stopped: uploaded must be exactly what the only leecher fetched"
    );
    // It was complete when it started: BEP 3 sends no `completed` then.
    assert_events(&ours, &["started", "stopped"]);
}

#[test]
fn seed_time_stops_after_seeding_that_long_and_reports_exact_totals() {
    let tracker = RecordingTracker::start();
    let fx = Fixture::new("stop-time", SINGLE, |_| vec![tracker.url()]);
    let size = fx.payload.total_len();
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).spawn();
    seeder.wait_ready(SEED_READY);

    let out = fx.out_dir("out");
    let port = free_port();
    let mut ferrent = Ferrent::download(&fx.torrent.path, &out)
        .seed()
        .seed_time(SEED_TIME)
        .listen_port(port)
        .spawn("ferrent");
    let exited_at = wait_clean_exit(&mut ferrent, LEECH, "after --seed-time");
    fx.payload.assert_complete_in(&out);
    let seeded = exited_at.duration_since(done_at(&ferrent));
    assert!(
        seeded + JITTER >= SEED_TIME && seeded <= SEED_TIME + SEED_TIME_SLACK,
        "ferrent seeded for {seeded:?} with --seed-time {SEED_TIME:?}"
    );

    let ours = tracker.announces_from(port);
    assert_events(&ours, &["started", "completed", "stopped"]);
    let (started, completed, stopped) = (&ours[0], &ours[1], &ours[2]);
    assert_eq!((started.downloaded, started.left), (0, size), "started: nothing yet");
    assert_eq!((completed.downloaded, completed.left), (size, 0), "completed: all of it, once");
    assert!(completed.at <= stopped.at, "completed after stopped");
    assert_eq!((stopped.downloaded, stopped.left), (size, 0), "stopped");
    let uploaded = ferrent.progress().last().map_or(0, |s| s.uploaded);
    assert_eq!(stopped.uploaded, uploaded, "stopped: uploaded as ferrent's last progress says");
}

#[test]
fn a_download_that_exits_when_done_still_reports_completed() {
    let tracker = RecordingTracker::start();
    let fx = Fixture::new("stop-done", SINGLE, |_| vec![tracker.url()]);
    let size = fx.payload.total_len();
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).spawn();
    seeder.wait_ready(SEED_READY);

    let out = fx.out_dir("out");
    let port = free_port();
    let mut ferrent = Ferrent::download(&fx.torrent.path, &out).listen_port(port).spawn("ferrent");
    wait_clean_exit(&mut ferrent, LEECH, "once the download is done");
    fx.payload.assert_complete_in(&out);

    // Completion and stopping come at the same moment; `completed` must still go first.
    let ours = tracker.announces_from(port);
    assert_events(&ours, &["started", "completed", "stopped"]);
    let (completed, stopped) = (&ours[1], &ours[2]);
    assert_eq!((completed.downloaded, completed.left), (size, 0), "completed");
    assert!(completed.at <= stopped.at, "completed after stopped");
}

#[test]
fn stopped_seeder_leaves_the_opentracker_swarm() {
    let fx = Fixture::new("stop-opentracker", SINGLE, |t| vec![t.http()]);
    let hash = fx.torrent.info.info_hash.clone();
    let port = free_port();
    let mut ferrent = Ferrent::download(&fx.torrent.path, &fx.payload.parent)
        .seed()
        .seed_time(SEED_TIME)
        .listen_port(port)
        .spawn("ferrent-seed");
    ferrent.wait_checked_complete(fx.torrent.info.num_pieces);

    let tracker_port = fx.tracker.addr.port;
    let me = local(port);
    wait_until(LISTED, "opentracker to list ferrent", || {
        probe(tracker_port, &hash).contains(&me).then_some(())
    });
    let exited_at =
        wait_clean_exit(&mut ferrent, SEED_TIME + SEED_TIME_SLACK + LISTED, "after --seed-time");
    let seeded = exited_at.duration_since(done_at(&ferrent));
    assert!(
        seeded + JITTER >= SEED_TIME && seeded <= SEED_TIME + SEED_TIME_SLACK,
        "ferrent seeded for {seeded:?} with --seed-time {SEED_TIME:?}"
    );
    let listed = probe(tracker_port, &hash);
    assert!(!listed.contains(&me), "opentracker still lists ferrent ({me}) after it stopped");
}
