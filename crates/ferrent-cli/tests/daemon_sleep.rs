//! Sleeping torrents in `ferrent daemon`: a torrent complete for the files it wants sleeps
//! once its seeder has gone (no engine, cache or open file); asking for the files it skipped
//! wakes it, and it fetches them from a libtorrent seeder that dials in.

mod daemon_support;
mod swarm;

use daemon_support::DaemonProc;
use data_encoding::BASE64;
use ferrent_daemon::model::{AddRequest, State};
use std::time::Duration;
use swarm::fixture::{Fixture, Shape, SEED_READY};
use swarm::peers::{Peer, Role};

/// Upper bound for a download of a few MiB on loopback.
const DOWNLOAD: Duration = Duration::from_secs(60);
/// The metric counting sleeping torrents.
const SLEEPING: &str = "ferrent_sleeping_torrents";
/// A sleeping torrent is looked at every 10 s; a peerless one goes to sleep at its next look.
const FALL_ASLEEP: Duration = Duration::from_secs(25);

#[test]
fn a_sleeping_torrent_wakes_for_the_files_it_skipped() {
    let fx = Fixture::public("daemon-sleep", Shape::Spanning);
    let files = fx.payload.files.len();
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).spawn();
    seeder.wait_ready(SEED_READY);
    let daemon = DaemonProc::start(&fx.scratch.subdir("daemon"), "");

    // Only the last file, from the seeder named in the request.
    let mut only_last = vec![0; files];
    only_last[files - 1] = 1;
    let request = AddRequest {
        torrent: Some(BASE64.encode(&std::fs::read(&fx.torrent.path).unwrap())),
        magnet: None,
        url: None,
        download_dir: None,
        paused: false,
        file_priorities: Some(only_last),
        peers: vec![seeder.addr().to_string()],
        upload_limit: 0,
        download_limit: 0,
    };
    let id = daemon.call(daemon.client().add(&request)).expect("add").id;
    let mut daemon = daemon;
    let done = daemon.wait_state(&id, State::Seeding, DOWNLOAD);
    assert!(done.pieces_have < done.pieces_total, "only the last file's pieces: {done:?}");
    fx.payload.file_matches(&daemon.downloads, files - 1).unwrap();

    drop(seeder);
    daemon.wait_metric(SLEEPING, 1, FALL_ASLEEP);

    // Wanting every file wakes it: it is downloading again, with nobody to fetch from yet.
    daemon.call(daemon.client().set_priorities(&id, vec![1; files])).expect("priorities");
    daemon.wait_state(&id, State::Downloading, Duration::from_secs(5));
    assert_eq!(daemon.metric(SLEEPING), 0, "a torrent that wants pieces is awake");

    let seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent)
        .connect_to(swarm::local(daemon.peer_port))
        .spawn();
    let all = daemon.wait_state(&id, State::Seeding, DOWNLOAD);
    assert_eq!(all.pieces_have, all.pieces_total);
    fx.payload.assert_complete_in(&daemon.downloads);

    // With its seeder gone it sleeps again, and the list still shows it complete.
    drop(seeder);
    daemon.wait_metric(SLEEPING, 1, FALL_ASLEEP);
    let listed = daemon.list().into_iter().find(|t| t.id == id).expect("listed");
    assert_eq!((listed.state, listed.pieces_have), (State::Seeding, all.pieces_total));
}
