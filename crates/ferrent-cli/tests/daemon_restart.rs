//! `ferrent daemon` killed and restarted: with SIGKILL at random moments while it downloads
//! and saves state, and with SIGTERM or SIGKILL while it seeds. Nothing verified is lost or
//! fetched again, saved state never claims unverified data, and a seeding torrent comes back
//! seeding without reading its files.

mod daemon_support;
mod swarm;

use daemon_support::{bits, tracker_seeders, valid_pieces, DaemonProc};
use ferrent_daemon::model::State;
use ferrent_daemon::store::{record, TorrentRecord};
use std::time::Duration;
use swarm::fixture::{Fixture, SEED_READY, SINGLE};
use swarm::peers::{Peer, Role};

/// Upper bound for a whole download.
const DOWNLOAD: Duration = Duration::from_secs(90);
/// The seeder's cap: the 3 MiB payload takes about 12 s, room for several kills.
const SEEDER_RATE: u64 = 256 << 10;
/// The metric counting sleeping torrents.
const SLEEPING: &str = "ferrent_sleeping_torrents";
/// Reads allowed while a seeding torrent restarts, beyond what an empty daemon reads to
/// start (its config, the system's certificate store): state files and requests, far less
/// than the 3 MiB of data.
const READ_BUDGET: u64 = 512 << 10;

fn record_of(daemon: &DaemonProc, id: &str) -> TorrentRecord {
    let bytes = std::fs::read(daemon.state.join(format!("{id}.json"))).expect("the record exists");
    record::decode(&bytes)
        .unwrap_or_else(|e| panic!("a torn or corrupt record was left behind: {e}"))
}

#[test]
fn sigkill_while_downloading_and_saving_loses_nothing() {
    let fx = Fixture::new("daemon-kill", SINGLE, |t| vec![t.http()]);
    let info = fx.torrent.info.clone();
    let pieces = info.num_pieces as usize;
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent)
        .upload_limit(SEEDER_RATE)
        .spawn();
    seeder.wait_ready(SEED_READY);
    let mut daemon = DaemonProc::start(&fx.scratch.subdir("daemon"), "save_interval_ms = 100");
    let bytes = std::fs::read(&fx.torrent.path).unwrap();
    let id = daemon.call(daemon.client().add_torrent_file(bytes, None, false)).unwrap().id;

    // Kill at moments drawn from a seed printed for reproduction.
    let seed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
            as u64;
    eprintln!("kill schedule seed: {seed}");
    let mut x = seed | 1;
    let mut on_disk_count = 0;
    for round in 0..3 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        std::thread::sleep(Duration::from_millis(700 + x % 1800));
        daemon.proc.kill();

        let saved = record_of(&daemon, &id);
        let on_disk = valid_pieces(&fx.torrent.path, &daemon.downloads);
        let claimed = saved.resume.as_ref().map(|r| {
            let have = data_encoding::BASE64.decode(r.have.as_bytes()).unwrap();
            bits(&have, pieces)
        });
        if let Some(claimed) = &claimed {
            let false_claims: Vec<usize> =
                (0..pieces).filter(|&i| claimed[i] && !on_disk[i]).collect();
            assert!(
                false_claims.is_empty(),
                "round {round}: the state claims pieces {false_claims:?} that are not on disk"
            );
        }
        on_disk_count = on_disk.iter().filter(|&&b| b).count();
        eprintln!(
            "round {round}: {on_disk_count} pieces on disk, {:?} in the saved state",
            claimed.map(|c| c.iter().filter(|&&b| b).count())
        );
        if on_disk_count == pieces {
            break;
        }

        daemon.restart();
        let back = daemon
            .list()
            .into_iter()
            .find(|t| t.id == id)
            .unwrap_or_else(|| panic!("round {round}: the torrent did not come back"));
        assert!(!back.state.eq(&State::Error), "round {round}: {back:?}");
        let started = swarm::wait_until(DOWNLOAD, "the torrent to start", || {
            let t = daemon.list().into_iter().find(|t| t.id == id)?;
            matches!(t.state, State::Downloading | State::Seeding).then_some(t)
        });
        let have = bits(
            &data_encoding::BASE64.decode(daemon.details(&id).pieces.as_bytes()).unwrap(),
            pieces,
        );
        let lost: Vec<usize> = (0..pieces).filter(|&i| on_disk[i] && !have[i]).collect();
        assert!(
            lost.is_empty(),
            "round {round}: verified pieces {lost:?} were not recognised after the restart"
        );
        assert!(started.pieces_have as usize >= on_disk_count);
        let leftovers: Vec<_> = std::fs::read_dir(&daemon.state)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files survived the restart: {leftovers:?}");
    }

    if on_disk_count < pieces {
        let done = daemon.wait_state(&id, State::Seeding, DOWNLOAD);
        // This run fetched at most what was missing after the last kill, plus two pieces
        // of duplicate blocks.
        let missing = (pieces - on_disk_count) as u64 * info.piece_length;
        assert!(
            done.downloaded <= missing + 2 * info.piece_length,
            "the last run downloaded {} bytes but only {missing} were missing",
            done.downloaded
        );
    }
    fx.payload.assert_complete_in(&daemon.downloads);
    let saved = record_of(&daemon, &id);
    assert_eq!(saved.resume.unwrap().have_count(), info.num_pieces, "completion was not saved");
}

#[test]
fn seeding_restarts_without_reading_data_and_serves_at_once() {
    let fx = Fixture::new("daemon-seed-restart", SINGLE, |t| vec![t.http()]);
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).spawn();
    seeder.wait_ready(SEED_READY);
    let mut daemon = DaemonProc::start(&fx.scratch.subdir("daemon"), "");
    let empty_start_reads = daemon.read_chars();
    let id = daemon.cli_json(&["add", fx.torrent.path.to_str().unwrap()])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    daemon.wait_state(&id, State::Seeding, DOWNLOAD);
    drop(seeder);
    // Complete, and its only peer gone: it sleeps (no engine, cache or open file).
    daemon.wait_metric(SLEEPING, 1, Duration::from_secs(10));

    // Clean stop: quick, the tracker is told, and the state is flushed.
    let tracker = fx.tracker.addr.port;
    let hash = &fx.torrent.info.info_hash;
    let listed =
        swarm::wait_until(Duration::from_secs(10), "the tracker to list the daemon", || {
            let n = tracker_seeders(tracker, hash);
            (n >= 2).then_some(n)
        });
    let took = daemon.terminate();
    assert!(took < Duration::from_secs(5), "SIGTERM took {took:?}");
    assert_eq!(tracker_seeders(tracker, hash), listed - 1, "the daemon did not announce `stopped`");
    assert_eq!(record_of(&daemon, &id).resume.unwrap().have_count(), fx.torrent.info.num_pieces);

    for (how, kill) in [("after SIGTERM", false), ("after SIGKILL", true)] {
        if kill {
            daemon.proc.kill();
        }
        daemon.restart();
        let back = daemon.wait_state(&id, State::Seeding, Duration::from_secs(10));
        assert_eq!(back.pieces_have, fx.torrent.info.num_pieces, "{how}");
        let read = daemon.read_chars().saturating_sub(empty_start_reads);
        assert!(
            read < READ_BUDGET,
            "{how}: the daemon read {read} bytes while restarting: a rehash"
        );
        assert!(daemon.details(&id).notices.is_empty(), "{how}: {:?}", daemon.details(&id).notices);
        daemon.wait_metric(SLEEPING, 1, Duration::from_secs(5));
    }

    // It serves at once: a libtorrent leecher gets everything from it alone.
    let out = fx.out_dir("leecher");
    let daemon_addr = swarm::local(daemon.peer_port);
    let mut leecher = Peer::libtorrent(Role::Leech, &fx.torrent, &out)
        .connect_to(daemon_addr)
        .timeout(DOWNLOAD)
        .spawn();
    leecher.wait_done(DOWNLOAD + Duration::from_secs(5));
    fx.payload.assert_complete_in(&out);
    // It woke for the leecher, and sleeps again once the leecher has gone.
    drop(leecher);
    daemon.wait_metric(SLEEPING, 1, Duration::from_secs(10));
    let took = daemon.terminate();
    assert!(took < Duration::from_secs(5), "SIGTERM took {took:?}");
}
