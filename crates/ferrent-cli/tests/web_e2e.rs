//! The web UI end to end in a real browser: Debian's chromium driven by Playwright
//! (`tests/web/e2e.mjs`, playwright-core installed by `scripts/setup.sh` with `npm ci`)
//! against a `ferrent daemon` on 127.0.0.1 and a throttled libtorrent seeder behind
//! opentracker. A .torrent dropped on the page downloads to 100% while the detail view
//! shows its files, peers, trackers and piece map; adding it again from the file picker
//! and by URL (Python's http.server on 127.0.0.1) is refused as a duplicate; then a magnet
//! link, sorting, filtering, limits, priorities, pause, resume and removal (with the
//! data). A second daemon that always wants its token shows the token prompt, and its
//! player streams through a signed link (a `<video>` cannot send the token).
//!
//! Screenshots of every stage go to `target/web-screenshots/` (or `$FERRENT_WEB_SCREENSHOTS`),
//! which CI keeps as artifacts.

mod daemon_support;
mod swarm;

use daemon_support::{DaemonProc, STARTUP};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use swarm::fixture::SEED_READY;
use swarm::payload::{Payload, Torrent};
use swarm::peers::{Peer, Role};
use swarm::process::Proc;
use swarm::tracker::TrackerAddr;
use swarm::{free_port, wait_until, Scratch};

/// Upper bound for one browser scenario.
const SCENARIO: Duration = Duration::from_secs(300);

/// The seeder's upload cap: the download takes several seconds, long enough to watch.
const SEED_RATE: u64 = 1536 * 1024;

/// A magnet link for a torrent no one has: it stays in `fetching_metadata`.
const LONELY_MAGNET: &str =
    "magnet:?xt=urn:btih:5e1f7e5ad1f1c0ffee0ddba11dec0de5eed5eed5&dn=Lonely%20Magnet";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where the screenshots go.
fn screenshot_dir() -> PathBuf {
    std::env::var_os("FERRENT_WEB_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/web-screenshots"))
}

/// Fails with the fix when the browser or Playwright is missing.
fn preflight() -> PathBuf {
    let web = repo().join("tests/web");
    let chromium = Path::new("/usr/bin/chromium");
    assert!(
        chromium.exists(),
        "chromium is missing: apt-get install chromium (or bash scripts/setup.sh)"
    );
    let node = Command::new("node").arg("--version").output();
    assert!(node.is_ok_and(|o| o.status.success()), "node is missing: apt-get install nodejs npm");
    assert!(
        web.join("node_modules/playwright-core/package.json").exists(),
        "playwright-core is missing: npm ci --prefix tests/web (or bash scripts/setup.sh)"
    );
    web
}

/// Runs one scenario of `e2e.mjs` and waits for its `PASS`.
fn run_browser(name: &str, scenario: serde_json::Value) {
    let web = preflight();
    let mut cmd = Command::new("node");
    cmd.arg(web.join("e2e.mjs")).current_dir(&web).env("FERRENT_E2E", scenario.to_string());
    let mut proc = Proc::spawn(name, cmd);
    let status = proc.wait_exit(SCENARIO);
    let out = proc.stdout();
    let failure = out.iter().find(|l| l.starts_with("FAIL")).cloned().unwrap_or_default();
    assert!(
        status.success() && out.iter().any(|l| l == "PASS"),
        "{name} failed ({status}): {failure}"
    );
}

/// Checks that each screenshot exists and is a PNG of some substance.
fn assert_screenshots(names: &[&str]) {
    for name in names {
        let path = screenshot_dir().join(format!("{name}.png"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{} is not a PNG", path.display());
        assert!(bytes.len() > 10_000, "{} is suspiciously small", path.display());
    }
}

#[test]
fn add_download_inspect_pause_and_remove_in_chromium() {
    let scratch = Scratch::new("web-e2e");
    let source = scratch.subdir("source");
    let payload = Payload::multi(
        &source,
        "Open Movies",
        &[
            ("Big Buck Bunny/Big Buck Bunny (trailer).mp4", (5 << 20) + 4321),
            ("Big Buck Bunny/poster.jpg", 350_000),
            ("Sintel/Sintel.mkv", (6 << 20) + 777),
            ("Sintel/Subtitles/Sintel.en.srt", 21_000),
            ("Sintel/Soundtrack/01 - Sintel Main Theme.flac", (1 << 20) + 99),
            ("README.txt", 2_100),
        ],
        0x5eed,
    );
    let tracker_addr = TrackerAddr::pick();
    let announce = tracker_addr.http();
    let torrent = Torrent::make(
        &payload,
        &scratch.path().join("open-movies.torrent"),
        16,
        std::slice::from_ref(&announce),
    );
    let _tracker = tracker_addr.start(&scratch.subdir("tracker"), &[&torrent.info.info_hash]);
    let mut seeder =
        Peer::libtorrent(Role::Seed, &torrent, &payload.parent).upload_limit(SEED_RATE).spawn();
    seeder.wait_ready(SEED_READY);
    let daemon = DaemonProc::start(&scratch.subdir("daemon"), "");
    // The .torrent over HTTP too, for adding by URL.
    let http_port = free_port();
    let mut http = Command::new(swarm::PYTHON);
    http.args(["-m", "http.server", "--bind", "127.0.0.1", &http_port.to_string(), "--directory"])
        .arg(scratch.path());
    let _http = Proc::spawn("http-server", http);
    wait_until(STARTUP, "the HTTP server", || {
        std::net::TcpStream::connect(("127.0.0.1", http_port)).ok()
    });

    let files: Vec<String> = torrent
        .info
        .files
        .iter()
        .map(|f| f.path.trim_start_matches("Open Movies/").to_owned())
        .collect();
    run_browser(
        "chromium-download",
        json!({
            "scenario": "download",
            "url": daemon.url,
            "shots": screenshot_dir(),
            "torrent": torrent.path,
            "torrentUrl": format!("http://127.0.0.1:{http_port}/open-movies.torrent"),
            "id": torrent.info.info_hash,
            "name": "Open Movies",
            "files": files,
            "playable": ["(trailer).mp4", "Sintel.mkv", "01 - Sintel Main Theme.flac"],
            "tracker": announce,
            "magnet": LONELY_MAGNET,
            "magnetName": "Lonely Magnet",
        }),
    );

    // What the page did, seen from the daemon and the disk.
    assert!(daemon.list().is_empty(), "the page removed both torrents");
    assert!(
        !daemon.downloads.join("Open Movies").exists(),
        "removing with 'delete the data' left the files"
    );
    assert_screenshots(&[
        "01-empty",
        "02-downloading",
        "03-detail-files",
        "04-detail-peers",
        "05-detail-trackers",
        "06-detail-pieces",
        "08-list-complete",
        "10-detail-complete",
        "12-dark-list",
        "14-phone-list",
        "16-confirm-remove",
    ]);
}

#[test]
fn token_prompt_when_the_daemon_always_wants_it() {
    let scratch = Scratch::new("web-token");
    let root = scratch.subdir("daemon");
    let api_port = free_port();
    let config = root.join("daemon.toml");
    let text = format!(
        "download_dir = {:?}\nstate_dir = {:?}\n\
         [network]\nlisten_addr = \"127.0.0.1\"\nlisten_port = {}\ndht = false\nlsd = false\n\
         [api]\nbind = \"127.0.0.1:{api_port}\"\nrequire_token = \"always\"\n",
        root.join("downloads"),
        root.join("state"),
        free_port()
    );
    std::fs::write(&config, text).unwrap();
    // A file already in the download directory, for the player: it seeds once added.
    let clip = Payload::single(&root.join("downloads"), "clip.mp4", 300_000, 0xc11b);
    let clip_torrent = Torrent::make(&clip, &scratch.path().join("clip.torrent"), 16, &[]);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrent"));
    cmd.arg("daemon").arg("--config").arg(&config);
    for (var, _) in ferrent_daemon::config::ENV_VARS {
        cmd.env_remove(var);
    }
    let _daemon = Proc::spawn("ferrent-daemon-token", cmd);
    let token_file = root.join("state/api-token");
    let token = wait_until(STARTUP, "the daemon's token", || {
        let token = std::fs::read_to_string(&token_file).ok()?;
        std::net::TcpStream::connect(("127.0.0.1", api_port)).ok()?;
        Some(token.trim().to_owned())
    });
    run_browser(
        "chromium-token",
        json!({
            "scenario": "token",
            "url": format!("http://127.0.0.1:{api_port}"),
            "shots": screenshot_dir(),
            "token": token,
            "magnet": LONELY_MAGNET,
            "magnetName": "Lonely Magnet",
            "clip": clip_torrent.path,
            "clipName": "clip.mp4",
        }),
    );
    assert_screenshots(&["20-token-prompt"]);
}
