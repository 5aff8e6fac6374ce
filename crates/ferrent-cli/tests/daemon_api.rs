//! `ferrent daemon` end to end: torrents added through the client commands complete from a
//! libtorrent seeder (a .torrent file and a magnet link), then pause, resume, limits and
//! removal with and without data; the access checks over real sockets.

mod daemon_support;
mod swarm;

use daemon_support::{public_torrent, DaemonProc};
use ferrent_daemon::model::State;
use std::io::{Read, Write};
use std::time::Duration;
use swarm::fixture::{Fixture, SEED_READY, SINGLE};
use swarm::payload::Payload;
use swarm::peers::{Peer, Role};

/// Upper bound for a download of a few MiB on loopback.
const DOWNLOAD: Duration = Duration::from_secs(60);

#[test]
fn torrent_and_magnet_complete_then_pause_resume_remove() {
    let fx = Fixture::new("daemon-api", SINGLE, |t| vec![t.http()]);
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).spawn();
    seeder.wait_ready(SEED_READY);
    // A second, public torrent for the magnet link (metadata exchange).
    let source = fx.scratch.subdir("source2");
    let payload2 = Payload::spanning(&source, "multi", 77);
    let torrent2 = public_torrent(
        &payload2,
        &fx.scratch.path().join("public.torrent"),
        &fx.tracker.addr.http(),
    );
    let mut seeder2 = Peer::libtorrent(Role::Seed, &torrent2, &payload2.parent).spawn();
    seeder2.wait_ready(SEED_READY);

    let mut daemon = DaemonProc::start(&fx.scratch.subdir("daemon"), "");
    let token = std::fs::read_to_string(daemon.state.join("api-token")).unwrap();
    assert_eq!(token.trim().len(), 64);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(daemon.state.join("api-token")).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "the token file must be private");

    // A .torrent file through `ferrent add`: the tracker introduces the seeder.
    let added = daemon.cli_json(&["add", fx.torrent.path.to_str().unwrap()]);
    let id = added[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(id, fx.torrent.info.info_hash);
    daemon.wait_state(&id, State::Seeding, DOWNLOAD);
    fx.payload.assert_complete_in(&daemon.downloads);
    let details = daemon.details(&id);
    assert!(details.trackers.iter().any(|t| t.working), "trackers: {:?}", details.trackers);
    assert_eq!(details.summary.pieces_have, fx.torrent.info.num_pieces);

    // A magnet link naming the second seeder directly, into a subdirectory.
    let magnet =
        format!("magnet:?xt=urn:btih:{}&x.pe=127.0.0.1:{}", torrent2.info.info_hash, seeder2.port);
    let added = daemon.cli_json(&["add", &magnet, "--dir", "from-magnet"]);
    let id2 = added[0]["id"].as_str().unwrap().to_owned();
    let done = daemon.wait_state(&id2, State::Seeding, DOWNLOAD);
    assert_eq!(done.name, "multi");
    payload2.assert_complete_in(&daemon.downloads.join("from-magnet"));

    // Tables and JSON from the client commands.
    let ls = daemon.cli(&["ls"]);
    let table = String::from_utf8_lossy(&ls.stdout);
    assert!(ls.status.success() && table.starts_with("ID"), "{table}");
    assert!(
        table.contains("single.bin") && table.contains("multi") && table.contains("seeding"),
        "{table}"
    );
    let shown = daemon.cli(&["show", &id2[..10]]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(text.contains("Name:      multi") && text.contains("c/d/e/05-large.bin"), "{text}");
    let json = daemon.cli_json(&["show", "single.bin"]);
    assert_eq!(json["id"], id);

    // Pause and resume, by prefix.
    let paused = daemon.cli_json(&["pause", &id[..8]]);
    assert_eq!(paused[0]["state"], "paused");
    assert_eq!(daemon.list().iter().find(|t| t.id == id).unwrap().state, State::Paused);
    let resumed = daemon.cli_json(&["resume", &id[..8]]);
    assert_eq!(resumed[0]["state"], "seeding");
    let all = daemon.cli_json(&["pause", "--all"]);
    assert_eq!(all.as_array().unwrap().len(), 2);
    daemon.cli_json(&["resume", "--all"]);

    // Limits, session-wide and per torrent.
    let limits = daemon.cli_json(&["limit", "--down", "1M"]);
    assert_eq!(limits, serde_json::json!({"upload": 0, "download": 1 << 20}));
    let limits = daemon.cli_json(&["limit", &id, "--up", "100K"]);
    assert_eq!(limits, serde_json::json!({"upload": 100 << 10, "download": 0}));
    let shown = daemon.cli(&["limit", &id]);
    assert!(String::from_utf8_lossy(&shown.stdout).contains("upload 100 KiB/s"));

    // Errors reach the user with the daemon's message and a failing status.
    let missing = daemon.cli(&["pause", "ffff"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no torrent matches"));
    let dup = daemon.cli(&["add", fx.torrent.path.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&dup.stderr).contains("already added"),
        "{}",
        String::from_utf8_lossy(&dup.stderr)
    );

    // Remove one keeping its data, the other with it.
    let file = daemon.downloads.join("single.bin");
    daemon.cli_json(&["rm", &id]);
    assert!(file.exists(), "data removed without --delete-data");
    daemon.cli_json(&["rm", &id2, "--delete-data"]);
    assert!(!daemon.downloads.join("from-magnet/multi").exists(), "data kept with --delete-data");
    assert!(daemon.downloads.join("from-magnet").exists(), "the download root's own folders stay");
    assert!(daemon.list().is_empty());
    let elapsed = daemon.terminate();
    assert!(elapsed < Duration::from_secs(5), "SIGTERM took {elapsed:?}");
}

/// Sends a raw HTTP/1.1 request and returns the status line.
fn raw_status(url: &str, request: &str) -> String {
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn host_check_and_token_over_sockets() {
    let scratch = swarm::Scratch::new("daemon-security");
    let daemon = DaemonProc::start(&scratch.subdir("daemon"), "");
    let ok = raw_status(
        &daemon.url,
        "GET /api/v1/session HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert!(ok.contains(" 200 "), "{ok}");
    let rebound = raw_status(
        &daemon.url,
        "GET /api/v1/session HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n",
    );
    assert!(rebound.contains(" 421 "), "{rebound}");
    let csrf = raw_status(
        &daemon.url,
        "POST /api/v1/session/limits HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://attacker.example\r\n\
         Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    assert!(csrf.contains(" 403 "), "{csrf}");
    drop(daemon);

    // With require_token = "always", loopback needs it too; the client reads it from the
    // config's state directory.
    let mut daemon = DaemonProc::start(&scratch.subdir("strict"), "");
    daemon.proc.kill();
    let text = std::fs::read_to_string(&daemon.config).unwrap();
    std::fs::write(&daemon.config, text.replace("[api]\n", "[api]\nrequire_token = \"always\"\n"))
        .unwrap();
    daemon.restart();
    let anonymous = raw_status(
        &daemon.url,
        "GET /api/v1/torrents HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert!(anonymous.contains(" 401 "), "{anonymous}");
    let listed = daemon.cli_json(&["ls"]);
    assert_eq!(listed, serde_json::json!([]));
    let wrong = scratch.path().join("wrong-token");
    std::fs::write(&wrong, "nope").unwrap();
    let refused = daemon.cli(&["ls", "--token-file", wrong.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("HTTP 401"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[test]
fn config_print_default_is_a_working_config() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferrent"))
        .args(["config", "--print-default"])
        .env("HOME", "/home/someone")
        .env_remove("XDG_STATE_HOME")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("state_dir = \"/home/someone/.local/state/ferrent\""), "{text}");
    let dirs = ferrent_daemon::config::BaseDirs::from_lookup(|n| {
        (n == "HOME").then(|| "/home/someone".into())
    });
    let parsed =
        ferrent_daemon::config::DaemonConfig::from_toml(&text, &dirs, "printed".as_ref()).unwrap();
    assert_eq!(parsed, ferrent_daemon::config::DaemonConfig::with_dirs(&dirs));
    let _ = std::io::stdout().flush();
}
