//! Daemons in process, talking to each other on 127.0.0.1: downloads, magnets, restarts,
//! corrupt state, changed files, persisted settings, the event stream.

mod common;

use common::*;
use ferrent_daemon::model::{DaemonEvent, Limits, State};
use ferrent_daemon::{AddOptions, AddSource, Daemon, Service};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const STOP: Duration = Duration::from_secs(4);
const PIECE: u64 = 32 * 1024;
const LEN: usize = 1_500_000;

/// A daemon seeding one torrent of `LEN` bytes; returns it, the .torrent and its id.
async fn seeder(root: &Path) -> (Daemon, Vec<u8>, String) {
    let cfg = config(root);
    let torrent = make_torrent(&cfg.download_dir, "payload.bin", LEN, 42, PIECE);
    let id = info_hash(&torrent);
    let daemon = Daemon::start(cfg).await.unwrap();
    daemon.add(AddSource::Torrent(torrent.clone()), AddOptions::default()).await.unwrap();
    wait_state(&daemon, &id, State::Seeding, WAIT).await;
    (daemon, torrent, id)
}

fn peer_of(daemon: &Daemon) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], daemon.listen_port()))
}

fn expected_payload() -> Vec<u8> {
    content(LEN, 42)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_then_restarts_seeding_with_settings_kept() {
    let seed_dir = tempfile::tempdir().unwrap();
    let (seed, torrent, id) = seeder(seed_dir.path()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.limits.upload = 777;
    let daemon = Daemon::start(cfg.clone()).await.unwrap();
    let mut events = daemon.subscribe();
    let options = AddOptions {
        peers: vec![peer_of(&seed)],
        download_dir: Some("sub/dir".into()),
        ..AddOptions::default()
    };
    let added = daemon.add(AddSource::Torrent(torrent.clone()), options).await.unwrap();
    assert_eq!(added.download_dir, cfg.download_dir.join("sub/dir").display().to_string());
    wait_state(&daemon, &id, State::Seeding, WAIT).await;
    assert_eq!(
        std::fs::read(cfg.download_dir.join("sub/dir/payload.bin")).unwrap(),
        expected_payload()
    );
    let mut saw = Vec::new();
    while let Ok(event) = events.try_recv() {
        saw.push(event.kind());
    }
    assert!(saw.contains(&"added") && saw.contains(&"completed"), "events: {saw:?}");

    daemon.set_limits(&id, Limits { upload: Some(1234), download: None }).await.unwrap();
    daemon.set_global_limits(Limits { upload: None, download: Some(4321) }).await.unwrap();
    daemon.pause(&id).await.unwrap();
    daemon.shutdown(STOP).await;

    // Back in the same state, with the same settings, without hashing anything.
    let daemon = Daemon::start(cfg.clone()).await.unwrap();
    let back = wait_state(&daemon, &id, State::Paused, WAIT).await;
    assert_eq!((back.upload_limit, back.pieces_have, back.pieces_total), (1234, 46, 46));
    assert_eq!(back.download_dir, added.download_dir);
    let session = daemon.session_view();
    assert_eq!(session.limits, Limits { upload: Some(777), download: Some(4321) });
    assert!(session.problems.is_empty(), "{:?}", session.problems);
    daemon.resume(&id).await.unwrap();
    wait_state(&daemon, &id, State::Seeding, WAIT).await;
    assert!(daemon.details(&id).unwrap().notices.is_empty());
    daemon.shutdown(STOP).await;

    // A new value in the config file wins over the limits set at run time.
    cfg.limits.upload = 999;
    let daemon = Daemon::start(cfg).await.unwrap();
    assert_eq!(daemon.session_view().limits, Limits { upload: Some(999), download: Some(0) });
    daemon.shutdown(STOP).await;
    seed.shutdown(STOP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn magnet_metadata_comes_from_a_peer() {
    let seed_dir = tempfile::tempdir().unwrap();
    let (seed, _torrent, id) = seeder(seed_dir.path()).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let daemon = Daemon::start(cfg.clone()).await.unwrap();
    let magnet = format!("magnet:?xt=urn:btih:{id}&dn=soon&x.pe={}", peer_of(&seed));
    let added = daemon.add(AddSource::Magnet(magnet), AddOptions::default()).await.unwrap();
    assert_eq!((added.state, added.name.as_str()), (State::FetchingMetadata, "soon"));
    let done = wait_state(&daemon, &id, State::Seeding, WAIT).await;
    assert_eq!(done.name, "payload.bin");
    assert_eq!(std::fs::read(cfg.download_dir.join("payload.bin")).unwrap(), expected_payload());
    assert!(state_file(&cfg, &id, "torrent").exists(), "the metadata was not saved");
    daemon.shutdown(STOP).await;
    seed.shutdown(STOP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_state_is_set_aside_and_the_data_rechecked() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let (daemon, _torrent, id) = seeder(dir.path()).await;
    daemon.set_limits(&id, Limits { upload: Some(5), download: Some(6) }).await.unwrap();
    daemon.shutdown(STOP).await;

    // Flip one byte inside the record: the checksum no longer matches.
    let record = state_file(&cfg, &id, "json");
    let mut bytes = std::fs::read(&record).unwrap();
    let key = b"\"upload_limit\":5";
    let at = bytes.windows(key.len()).position(|w| w == key).unwrap() + key.len() - 1;
    bytes[at] = b'9';
    std::fs::write(&record, bytes).unwrap();

    let daemon = Daemon::start(cfg.clone()).await.unwrap();
    let back = wait_state(&daemon, &id, State::Seeding, WAIT).await;
    assert_eq!(
        (back.upload_limit, back.pieces_have),
        (0, 46),
        "defaults, and every piece found by hashing"
    );
    let session = daemon.session_view();
    assert_eq!(session.problems.len(), 1);
    assert!(session.problems[0].contains("checksum mismatch"), "{:?}", session.problems);
    assert!(state_file(&cfg, &id, "json.corrupt").exists());
    let notices = daemon.details(&id).unwrap().notices;
    assert!(notices.iter().any(|n| n.contains("corrupt")), "{notices:?}");
    wait_for(WAIT, "a fresh record", || async {
        state_file(&cfg, &id, "json").exists().then_some(())
    })
    .await;
    daemon.shutdown(STOP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_torrent_file_is_fetched_again_from_peers() {
    let seed_dir = tempfile::tempdir().unwrap();
    let (seed, torrent, id) = seeder(seed_dir.path()).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let daemon = Daemon::start(cfg.clone()).await.unwrap();
    let options = AddOptions { peers: vec![peer_of(&seed)], ..AddOptions::default() };
    daemon.add(AddSource::Torrent(torrent), options).await.unwrap();
    wait_state(&daemon, &id, State::Seeding, WAIT).await;
    daemon.shutdown(STOP).await;

    std::fs::write(state_file(&cfg, &id, "torrent"), b"d8:announce").unwrap();
    let daemon = Daemon::start(cfg.clone()).await.unwrap();
    wait_state(&daemon, &id, State::Seeding, WAIT).await;
    assert!(state_file(&cfg, &id, "torrent.corrupt").exists());
    assert!(daemon.session_view().problems.iter().any(|p| p.contains("corrupt")));
    daemon.shutdown(STOP).await;
    seed.shutdown(STOP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_files_are_rechecked_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let (daemon, _torrent, id) = seeder(dir.path()).await;
    daemon.shutdown(STOP).await;

    // Damage piece 3 (same size, new mtime).
    let data = cfg.download_dir.join("payload.bin");
    let mut bytes = std::fs::read(&data).unwrap();
    bytes[3 * PIECE as usize + 10] ^= 0xff;
    std::fs::write(&data, bytes).unwrap();

    let daemon = Daemon::start(cfg.clone()).await.unwrap();
    let mut events = daemon.subscribe();
    let back = wait_state(&daemon, &id, State::Downloading, WAIT).await;
    assert_eq!(back.pieces_have, 45);
    let notices = daemon.details(&id).unwrap().notices;
    assert!(notices.iter().any(|n| n.contains("payload.bin")), "{notices:?}");
    // The record now says 45 pieces: a restart trusts exactly that.
    wait_for(WAIT, "the record to be saved", || async {
        let bytes = std::fs::read(state_file(&cfg, &id, "json")).ok()?;
        let record: ferrent_daemon::store::TorrentRecord =
            ferrent_daemon::store::record::decode(&bytes).ok()?;
        (record.resume?.have_count() == 45).then_some(())
    })
    .await;
    let _ = events.try_recv();
    daemon.shutdown(STOP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_folder_adds_good_files_and_marks_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    let watch = dir.path().join("watch");
    cfg.watch.dir = Some(watch.clone());
    let torrent = make_torrent(&dir.path().join("src"), "w.bin", 40_000, 9, 16 * 1024);
    let service = Service::start(cfg).await.unwrap();
    std::fs::write(watch.join("good.torrent"), &torrent).unwrap();
    let magnet_hash = "2222222222222222222222222222222222222222";
    std::fs::write(
        watch.join("link.magnet"),
        format!("# from a browser\nmagnet:?xt=urn:btih:{magnet_hash}\n"),
    )
    .unwrap();
    std::fs::write(watch.join("broken.torrent"), b"d4:infod").unwrap();
    std::fs::write(watch.join("empty.magnet"), b"\n").unwrap();
    std::fs::write(watch.join("notes.txt"), b"ignored").unwrap();
    std::fs::write(watch.join(".hidden.torrent"), &torrent).unwrap();
    let expected = [
        ".hidden.torrent",
        "broken.torrent.invalid",
        "empty.magnet.invalid",
        "good.torrent.added",
        "link.magnet.added",
        "notes.txt",
    ];
    wait_for(WAIT, "the watch folder to be processed", || async {
        (names(&watch) == expected).then_some(())
    })
    .await;
    let ids: Vec<String> = service.daemon().list(None).into_iter().map(|t| t.id).collect();
    let mut want = vec![info_hash(&torrent), magnet_hash.to_string()];
    want.sort();
    assert_eq!(ids, want);
    // The same torrent again is not an error.
    std::fs::write(watch.join("again.torrent"), &torrent).unwrap();
    wait_for(WAIT, "the duplicate to be marked", || async {
        watch.join("again.torrent.added").exists().then_some(())
    })
    .await;
    service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_stream_over_http_and_clean_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let torrent = make_torrent(&cfg.download_dir, "e.bin", 40_000, 5, 16 * 1024);
    let id = info_hash(&torrent);
    let service = Service::start(cfg.clone()).await.unwrap();
    assert_eq!(std::fs::read_to_string(cfg.token_file()).unwrap().trim(), service.token());
    let base = format!("http://{}", service.api_addr());
    let http = reqwest::Client::new();
    let mut stream = http.get(format!("{base}/api/v1/events")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let client = ferrent_daemon::client::ApiClient::new(&base, None).unwrap();
    client.add_torrent_file(torrent, None, false).await.unwrap();
    let mut text = String::new();
    let seeding = format!("{{\"type\":\"state\",\"id\":\"{id}\",\"state\":\"seeding\"}}");
    let got = tokio::time::timeout(WAIT, async {
        while !text.contains(&seeding) {
            match stream.chunk().await.unwrap() {
                Some(chunk) => text.push_str(&String::from_utf8_lossy(&chunk)),
                None => break,
            }
        }
    })
    .await;
    assert!(got.is_ok() && text.contains("event: added"), "stream so far: {text}");
    // The data was already there: checked and seeding, but no download "completed".
    let data = text.lines().find(|l| l.starts_with("data:") && l.contains(&seeding)).unwrap();
    let event: DaemonEvent = serde_json::from_str(data.trim_start_matches("data:").trim()).unwrap();
    assert_eq!(event, DaemonEvent::State { id: id.clone(), state: State::Seeding });
    assert!(!text.contains("event: completed"), "{text}");

    let began = std::time::Instant::now();
    service.shutdown().await;
    assert!(began.elapsed() < Duration::from_secs(5), "shutdown took {:?}", began.elapsed());
    // The open event stream ended with the server.
    let rest = tokio::time::timeout(Duration::from_secs(2), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(rest.is_ok(), "the event stream outlived the server");
    assert!(client.list().await.is_err(), "the API still answers");
}
