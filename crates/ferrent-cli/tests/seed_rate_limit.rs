//! `--upload-limit` and `--download-limit` hold against a real libtorrent peer.
//!
//! A 64 MiB payload cannot finish in the measuring window at 1 MiB/s. After a warm-up the
//! transfer rate over a 20 s window is measured from both ends (the libtorrent helper's
//! `STATUS` lines and ferrent's `progress` events) and must be within 10% of the cap.

mod swarm;

use std::time::{Duration, Instant};

use swarm::ferrent::{Event, Ferrent, FerrentRun};
use swarm::fixture::{Fixture, Shape, SEED_READY};
use swarm::peers::{Peer, Role};

/// 64 MiB: more than the window moves at the cap.
const PAYLOAD: Shape = Shape::Single(64 << 20);

/// 256 KiB pieces (`mktorrent -l 18`).
const PIECE_LOG2: u32 = 18;

/// The cap, as given on the command line, and in bytes per second.
const CAP_ARG: &str = "1M";
const CAP: f64 = (1 << 20) as f64;

/// Allowed deviation from the cap.
const TOLERANCE: f64 = 0.10;

/// Transfer time before the window opens (connection set-up, socket buffers filling).
const WARM_UP: Duration = Duration::from_secs(3);

/// The measuring window.
const WINDOW: Duration = Duration::from_secs(20);

/// How long the transfer may take to start.
const START: Duration = Duration::from_secs(30);

/// How long ferrent may take to exit after SIGTERM.
const SHUTDOWN: Duration = Duration::from_secs(10);

/// The rate between the first sample at or after `from` and the last at or before `to`,
/// in bytes per second. Panics if the samples do not cover most of the window.
fn rate(samples: &[(Instant, u64)], from: Instant, to: Instant, what: &str) -> f64 {
    let first = samples.iter().find(|(at, _)| *at >= from);
    let last = samples.iter().rev().find(|(at, _)| *at <= to);
    let (Some(&(t0, b0)), Some(&(t1, b1))) = (first, last) else {
        panic!("no {what} samples inside the window");
    };
    let span = t1.saturating_duration_since(t0);
    assert!(
        span >= WINDOW.mul_f64(0.9),
        "{what} samples cover only {span:?} of the {WINDOW:?} window"
    );
    assert!(b1 >= b0, "{what} byte count went backwards ({b0} -> {b1})");
    (b1 - b0) as f64 / span.as_secs_f64()
}

/// Panics unless `measured` is within [`TOLERANCE`] of [`CAP`].
fn assert_near_cap(measured: f64, what: &str) {
    let deviation = (measured - CAP) / CAP;
    eprintln!("{what}: {measured:.0} B/s, {:+.2}% off the cap", deviation * 100.0);
    assert!(
        deviation.abs() <= TOLERANCE,
        "{what}: {measured:.0} B/s over {WINDOW:?}, {:+.1}% off the {CAP:.0} B/s cap",
        deviation * 100.0
    );
}

/// Sleeps through the warm-up and the window; returns the window's bounds.
fn measure_window() -> (Instant, Instant) {
    std::thread::sleep(WARM_UP);
    let from = Instant::now();
    std::thread::sleep(WINDOW);
    (from, Instant::now())
}

/// ferrent's `progress` samples of one counter.
fn ferrent_samples(
    ferrent: &FerrentRun,
    pick: fn(&swarm::ferrent::Sample) -> u64,
) -> Vec<(Instant, u64)> {
    ferrent.progress().iter().map(|s| (s.at, pick(s))).collect()
}

/// SIGTERMs ferrent and checks its exit code: 0 for a seeder, 130 for an interrupted
/// download.
fn stop(mut ferrent: FerrentRun, code: i32) {
    ferrent.proc.signal(libc::SIGTERM);
    let status = ferrent.wait_exit(SHUTDOWN);
    assert_eq!(status.code(), Some(code), "ferrent exited with {status} after SIGTERM");
}

#[test]
fn upload_limit_caps_seeding_to_a_libtorrent_leecher() {
    let fx = Fixture::with_piece_log2("rate-up", PAYLOAD, PIECE_LOG2, |t| vec![t.http()]);
    let mut ferrent = Ferrent::download(&fx.torrent.path, &fx.payload.parent)
        .seed()
        .arg("--upload-limit")
        .arg(CAP_ARG)
        .spawn("ferrent-seed");
    let total = fx.torrent.info.num_pieces;
    ferrent.wait_checked_complete(total);

    let out = fx.out_dir("out");
    let mut leecher = Peer::libtorrent(Role::Leech, &fx.torrent, &out).spawn();
    leecher.wait_status(START, "the leecher to start downloading", |s| s.downloaded > 0);
    let (from, to) = measure_window();
    assert!(leecher.proc.try_status().is_none(), "the leecher stopped during the window");
    if let Some(status) = ferrent.proc.try_status() {
        panic!("ferrent exited ({status}) during the window");
    }

    let seen: Vec<(Instant, u64)> =
        leecher.statuses().into_iter().map(|(at, s)| (at, s.downloaded)).collect();
    assert_near_cap(rate(&seen, from, to, "leecher download"), "the leecher's download rate");
    let reported = ferrent_samples(&ferrent, |s| s.uploaded);
    assert_near_cap(rate(&reported, from, to, "ferrent upload"), "ferrent's reported upload rate");
    stop(ferrent, 0);
}

#[test]
fn download_limit_caps_fetching_from_a_libtorrent_seeder() {
    let fx = Fixture::with_piece_log2("rate-down", PAYLOAD, PIECE_LOG2, |t| vec![t.http()]);
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).spawn();
    seeder.wait_ready(SEED_READY);

    let out = fx.out_dir("out");
    let mut ferrent = Ferrent::download(&fx.torrent.path, &out)
        .arg("--download-limit")
        .arg(CAP_ARG)
        .spawn("ferrent-leech");
    ferrent.wait_event(START, "ferrent to start downloading", |e| match e {
        Event::Progress { downloaded, .. } if *downloaded > 0 => Some(()),
        _ => None,
    });
    let (from, to) = measure_window();
    if let Some(status) = ferrent.proc.try_status() {
        panic!("ferrent exited ({status}) during the window");
    }

    let reported = ferrent_samples(&ferrent, |s| s.downloaded);
    assert_near_cap(rate(&reported, from, to, "ferrent download"), "ferrent's download rate");
    let seen: Vec<(Instant, u64)> =
        seeder.statuses().into_iter().map(|(at, s)| (at, s.uploaded)).collect();
    assert_near_cap(rate(&seen, from, to, "seeder upload"), "the seeder's upload rate to ferrent");
    stop(ferrent, 130);
}
