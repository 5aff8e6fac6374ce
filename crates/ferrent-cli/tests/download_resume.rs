//! `ferrent download` killed with SIGKILL part-way, then run again on the same directory.
//!
//! The seeder is throttled so the first run is still going at ~40 %. The second run must find
//! the pieces already on disk (`checked` event), fetch only the rest (plus a little slack for
//! duplicate in-flight blocks) and end with exact content.

mod swarm;

use std::time::Duration;

use swarm::ferrent::{done_downloaded, Event, Ferrent};
use swarm::fixture::{Fixture, Shape, SEED_READY};
use swarm::payload::files_with_suffix;
use swarm::peers::{Peer, Role};

/// Upper bound for each run.
const DOWNLOAD: Duration = Duration::from_secs(90);

/// The seeder's upload cap: a few MiB then take several seconds.
const SEEDER_RATE: u64 = 512 << 10;

/// Kill the first run once it has this share of the pieces (percent).
const KILL_AT_PERCENT: u32 = 40;

fn resume_after_kill(test: &str, shape: Shape) {
    let fx = Fixture::new(test, shape, |t| vec![t.http()]);
    let info = fx.torrent.info.clone();
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent)
        .upload_limit(SEEDER_RATE)
        .spawn();
    seeder.wait_ready(SEED_READY);

    let out = fx.out_dir("out");
    let mut first = Ferrent::download(&fx.torrent.path, &out).spawn("ferrent-first");
    first.wait_have(DOWNLOAD, info.num_pieces * KILL_AT_PERCENT / 100);
    let have_before_kill = first.progress_have().unwrap_or(0);
    first.proc.kill();
    assert!(
        have_before_kill < info.num_pieces,
        "the first run completed before it could be killed"
    );

    let parts = files_with_suffix(&out, ".part");
    assert!(!parts.is_empty(), "no .part file after killing an incomplete download");
    let complete =
        (0..fx.payload.files.len()).filter(|&i| fx.payload.file_matches(&out, i).is_ok()).count();
    assert!(complete < fx.payload.files.len(), "every file is final after an incomplete download");

    let mut second = Ferrent::download(&fx.torrent.path, &out).spawn("ferrent-second");
    let events = second.wait_success(DOWNLOAD);
    fx.payload.assert_complete_in(&out);

    let have_on_disk = match events.first() {
        Some(Event::Checked { have, total }) if *total == info.num_pieces => *have,
        other => {
            panic!("expected a first event checked{{total:{}}}, got {other:?}", info.num_pieces)
        }
    };
    assert!(have_on_disk > 0, "the second run found nothing of the first run's data");
    assert!(
        have_on_disk >= have_before_kill,
        "the first run reported {have_before_kill} pieces but only {have_on_disk} were on disk"
    );
    // At most every missing piece at full size, plus two pieces of duplicate blocks.
    let missing = u64::from(info.num_pieces - have_on_disk) * info.piece_length;
    let slack = 2 * info.piece_length;
    let downloaded = done_downloaded(&events);
    assert!(
        downloaded <= missing + slack,
        "the second run downloaded {downloaded} bytes; {} pieces were missing ({missing} bytes at \
         most, slack {slack})",
        info.num_pieces - have_on_disk
    );
}

#[test]
fn single_file_resumes_after_sigkill() {
    resume_after_kill("resume-single", Shape::Single((4 << 20) + 4321));
}

#[test]
fn multi_file_resumes_after_sigkill() {
    resume_after_kill("resume-multi", Shape::Spanning);
}
