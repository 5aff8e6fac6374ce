//! A swarm around a capped ferrent seeder: four leechers (two ferrent, two libtorrent) start
//! together and find each other through opentracker.
//!
//! The seeder's `--upload-limit 2M` makes it far too slow to feed four leechers alone, so
//! they must trade pieces among themselves: every leecher completes with identical data,
//! each ferrent leecher uploads to the others, and the seeder stays within its cap and
//! sends less than four copies.

mod swarm;

use std::time::{Duration, Instant};

use swarm::ferrent::{Event, Ferrent, FerrentRun};
use swarm::fixture::{Fixture, Shape};
use swarm::peers::{Peer, Role};
use swarm::wait_until;

/// 16 MiB in 32 KiB pieces: 512 pieces.
const PAYLOAD: Shape = Shape::Single(16 << 20);

/// 32 KiB pieces (`mktorrent -l 15`).
const PIECE_LOG2: u32 = 15;

/// The seeder's cap, as given on the command line, and in bytes per second.
const CAP_ARG: &str = "2M";
const CAP: u64 = 2 << 20;

/// Upper bound for the whole swarm to complete.
const SWARM: Duration = Duration::from_secs(90);

/// How long to wait for a fresh progress event.
const PROGRESS_WAIT: Duration = Duration::from_secs(5);

/// The token bucket may start with up to a quarter second's worth; allow one second.
const CAP_SLACK: u64 = CAP;

/// How long ferrent may take to exit after SIGTERM.
const SHUTDOWN: Duration = Duration::from_secs(10);

/// The time left until `deadline` (at least a millisecond, so a late wait still polls once).
fn left(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1))
}

/// The largest `uploaded` of ferrent's progress events so far.
fn uploaded(ferrent: &FerrentRun) -> u64 {
    ferrent.progress().iter().map(|s| s.uploaded).max().unwrap_or(0)
}

/// SIGTERMs a seeding ferrent and checks it exits 0.
fn stop(mut ferrent: FerrentRun) {
    let name = ferrent.proc.name().to_owned();
    ferrent.proc.signal(libc::SIGTERM);
    let status = ferrent.wait_exit(SHUTDOWN);
    assert!(status.success(), "{name} exited with {status} after SIGTERM");
}

#[test]
fn capped_seeder_and_four_leechers_trade_pieces() {
    let fx = Fixture::with_piece_log2("capped", PAYLOAD, PIECE_LOG2, |t| vec![t.http()]);
    let size = fx.payload.total_len();
    let mut seeder = Ferrent::download(&fx.torrent.path, &fx.payload.parent)
        .seed()
        .arg("--upload-limit")
        .arg(CAP_ARG)
        .spawn("ferrent-seed");
    let total = fx.torrent.info.num_pieces;
    seeder.wait_checked_complete(total);

    let started = Instant::now();
    let deadline = started + SWARM;
    let dirs: Vec<_> = ["ferrent-a", "ferrent-b", "lt-c", "lt-d"]
        .iter()
        .map(|name| (*name, fx.out_dir(name)))
        .collect();
    let mut ferrents: Vec<FerrentRun> = dirs[..2]
        .iter()
        .map(|(name, dir)| Ferrent::download(&fx.torrent.path, dir).seed().spawn(name))
        .collect();
    let mut lts: Vec<Peer> = dirs[2..]
        .iter()
        .map(|(_, dir)| Peer::libtorrent(Role::Leech, &fx.torrent, dir).timeout(SWARM).spawn())
        .collect();

    for leecher in &mut ferrents {
        leecher.wait_event(left(deadline), "the done event", |e| {
            matches!(e, Event::Done { .. }).then_some(())
        });
    }
    for leecher in &mut lts {
        leecher.wait_done(left(deadline));
    }
    for (name, dir) in &dirs {
        eprintln!("checking {name}'s copy");
        fx.payload.assert_complete_in(dir);
    }

    // Fresh progress events, in case the last uploads came after the latest ones.
    let all: Vec<&FerrentRun> = ferrents.iter().chain([&seeder]).collect();
    for run in &all {
        let count = run.progress().len();
        wait_until(PROGRESS_WAIT, "a fresh progress event", || {
            (run.progress().len() > count).then_some(())
        });
    }
    for leecher in &ferrents {
        let sent = uploaded(leecher);
        assert!(sent > 0, "{} completed without uploading to the others", leecher.proc.name());
    }

    let last = *seeder.progress().last().expect("progress events from the seeder");
    let elapsed = last.at.duration_since(started).as_secs_f64();
    let allowed = (CAP as f64 * elapsed) as u64 + CAP_SLACK;
    assert!(
        last.uploaded <= allowed,
        "the seeder sent {} bytes in {elapsed:.1} s, over its {CAP} B/s cap",
        last.uploaded
    );
    assert!(
        last.uploaded < 4 * size,
        "the seeder sent {} bytes, four copies or more: the leechers did not trade",
        last.uploaded
    );
    for leecher in ferrents {
        stop(leecher);
    }
    stop(seeder);
}
