//! Ctrl-C during `ferrent download`: it tells the tracker it stopped, keeps what it verified,
//! exits 130, and a rerun fetches only the rest.

mod swarm;

use std::time::Duration;

use swarm::announce::RecordingTracker;
use swarm::ferrent::{Event, Ferrent};
use swarm::fixture::{Fixture, Shape, SEED_READY};
use swarm::peers::{Peer, Role};

#[test]
fn sigint_announces_stopped_keeps_data_and_a_rerun_resumes() {
    let recorder = RecordingTracker::start();
    let url = recorder.url();
    let fx = Fixture::new("sigint", Shape::Single(4 << 20), move |_| vec![url]);
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent)
        .upload_limit(512 << 10)
        .spawn();
    seeder.wait_ready(SEED_READY);
    let total = fx.torrent.info.num_pieces;

    let out = fx.out_dir("out");
    let port = swarm::free_port();
    let mut first = Ferrent::download(&fx.torrent.path, &out)
        .peer(seeder.addr())
        .listen_port(port)
        .spawn("ferrent-first");
    first.wait_have(Duration::from_secs(60), total / 3);
    first.proc.signal(libc::SIGINT);
    let status = first.wait_exit(Duration::from_secs(15));
    assert_eq!(status.code(), Some(130), "an interrupted download exits 130");

    let announces = recorder.announces_from(port);
    let events: Vec<Option<&str>> = announces.iter().map(|a| a.event.as_deref()).collect();
    assert_eq!(events.first(), Some(&Some("started")), "announces: {events:?}");
    assert_eq!(events.last(), Some(&Some("stopped")), "announces: {events:?}");
    let stopped = announces.last().expect("a stopped announce");
    assert!(stopped.downloaded > 0 && stopped.left > 0, "stopped carries the numbers: {stopped:?}");

    let mut second =
        Ferrent::download(&fx.torrent.path, &out).peer(seeder.addr()).spawn("ferrent-second");
    let events = second.wait_success(Duration::from_secs(90));
    fx.payload.assert_complete_in(&out);
    let have = events.iter().find_map(|e| match e {
        Event::Checked { have, .. } => Some(*have),
        _ => None,
    });
    assert!(have.is_some_and(|h| h >= total / 3), "the rerun kept too little: {have:?}");
}
