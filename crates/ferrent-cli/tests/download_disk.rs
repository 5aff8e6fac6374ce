//! `ferrent download` when the disk says no: a full file system and a read-only one. The
//! command must stop with a clear error, exit 1, and keep every piece it verified.

mod swarm;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use swarm::ferrent::{Event, Ferrent};
use swarm::fixture::{Fixture, Shape, SEED_READY};
use swarm::peers::{Peer, Role};

/// A tmpfs mounted for one test, unmounted on drop. Needs root, as CI and the test
/// command (inside `unshare -n`) have.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(options: &str) -> Tmpfs {
        let dir = tempfile::tempdir().expect("temp dir");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "ferrent-test"])
            .arg(dir.path())
            .status()
            .expect("cannot run mount");
        assert!(status.success(), "mounting a tmpfs failed: these tests need root");
        Tmpfs(dir)
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0.path()).status();
    }
}

fn error_event(events: &[Event]) -> Option<String> {
    events.iter().find_map(|e| match e {
        Event::Error { message } => Some(message.clone()),
        _ => None,
    })
}

#[test]
fn full_disk_stops_with_a_clear_error_and_keeps_verified_pieces() {
    // 3 MiB of data into a 1 MiB file system.
    let fx = Fixture::new("diskfull", Shape::Single(3 << 20), |t| vec![t.http()]);
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).spawn();
    seeder.wait_ready(SEED_READY);
    let disk = Tmpfs::mount("size=1m");

    let mut ferrent = Ferrent::download(&fx.torrent.path, disk.path()).spawn("ferrent");
    let status = ferrent.wait_exit(Duration::from_secs(60));
    assert_eq!(status.code(), Some(1), "a full disk must fail the download");
    let events = ferrent.events();
    let message = error_event(&events).expect("an error event");
    assert!(message.contains("full"), "the error should say the disk is full: {message}");

    // What was verified before the disk filled up is still there and still verifies:
    // a rerun into the same (still full) directory finds those pieces at once.
    let mut again = Ferrent::download(&fx.torrent.path, disk.path()).spawn("ferrent-again");
    let _ = again.wait_exit(Duration::from_secs(60));
    let have = again
        .events()
        .iter()
        .find_map(|e| match e {
            Event::Checked { have, .. } => Some(*have),
            _ => None,
        })
        .expect("a checked event");
    assert!(have > 0, "pieces verified before the disk filled up were lost");
}

#[test]
fn read_only_directory_is_a_clear_error() {
    let fx = Fixture::new("readonly", Shape::Single(1 << 20), |t| vec![t.http()]);
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).spawn();
    seeder.wait_ready(SEED_READY);
    let disk = Tmpfs::mount("size=4m,ro");

    let mut ferrent = Ferrent::download(&fx.torrent.path, disk.path()).spawn("ferrent");
    let status = ferrent.wait_exit(Duration::from_secs(60));
    assert_eq!(status.code(), Some(1), "a read-only directory must fail the download");
    let events = ferrent.events();
    let stderr = ferrent.proc.lines(swarm::process::Stream::Stderr);
    let text: Vec<&str> = stderr.iter().map(|l| l.text.as_str()).collect();
    let said = error_event(&events).unwrap_or_default() + &text.join("\n");
    assert!(said.contains("read-only"), "the error should say read-only: {said}");
}
