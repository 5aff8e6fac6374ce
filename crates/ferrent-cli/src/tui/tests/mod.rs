//! Tests of the TUI without a terminal or a daemon: fixed model values go into an
//! [`App`], keys are pressed, and frames are drawn into ratatui's `TestBackend`.

mod keys;
mod render;

use super::app::{App, Snapshot};
use super::view;
use ferrent_daemon::model::{
    FileView, Limits, PeerView, SessionView, State, TorrentDetails, TorrentSummary, TrackerView,
};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// A torrent whose id is `byte` repeated, added at `added_at`.
fn torrent(byte: u8, name: &str, state: State, progress: f64, added_at: u64) -> TorrentSummary {
    let size = 3 << 20;
    TorrentSummary {
        id: format!("{byte:02x}").repeat(20),
        name: name.to_string(),
        state,
        progress,
        size,
        left: size - (size as f64 * progress) as u64,
        pieces_have: (96.0 * progress) as u32,
        pieces_total: 96,
        downloaded: 1 << 20,
        uploaded: 512 << 10,
        down_rate: 0,
        up_rate: 0,
        peer_count: 0,
        download_dir: "/srv/downloads".to_string(),
        added_at,
        upload_limit: 0,
        download_limit: 0,
        error: None,
    }
}

/// Two torrents: `alpha` downloading at 1.5 MiB/s, `beta` seeding.
fn two_torrents() -> Vec<TorrentSummary> {
    let mut alpha = torrent(0xaa, "alpha", State::Downloading, 0.4567, 100);
    alpha.down_rate = 3 << 19;
    alpha.up_rate = 40 << 10;
    alpha.peer_count = 7;
    let mut beta = torrent(0xbb, "beta", State::Seeding, 1.0, 200);
    beta.up_rate = 2 << 10;
    beta.downloaded = 0;
    vec![alpha, beta]
}

/// Session totals with these rates.
fn session(down: u64, up: u64, torrents: &[TorrentSummary]) -> SessionView {
    let mut states = BTreeMap::new();
    for t in torrents {
        *states.entry(t.state).or_insert(0) += 1;
    }
    SessionView {
        version: "0.1.0".to_string(),
        uptime_secs: 60,
        listen_port: 6881,
        torrents: torrents.len(),
        states,
        down_rate: down,
        up_rate: up,
        downloaded: 0,
        uploaded: 0,
        peers: 7,
        limits: Limits { upload: Some(0), download: Some(0) },
        download_dir: "/srv/downloads".to_string(),
        problems: Vec::new(),
    }
}

/// `summary` in full: two files (one skipped), two peers, two trackers.
fn details(summary: &TorrentSummary) -> TorrentDetails {
    TorrentDetails {
        summary: summary.clone(),
        magnet: format!("magnet:?xt=urn:btih:{}", summary.id),
        files: vec![
            FileView {
                index: 0,
                path: "alpha/video.mkv".to_string(),
                size: 2 << 20,
                done: 1 << 20,
                priority: 1,
                stream_url: None,
            },
            FileView {
                index: 1,
                path: "alpha/extras/notes.txt".to_string(),
                size: 1 << 20,
                done: 0,
                priority: 0,
                stream_url: None,
            },
        ],
        peers: vec![
            PeerView {
                addr: "127.0.0.1:6881".to_string(),
                client: Some("libtorrent 2.0.8".to_string()),
                down_rate: 1 << 20,
                up_rate: 0,
                downloaded: 5 << 20,
                uploaded: 0,
                progress: 1.0,
                flags: "D".to_string(),
            },
            PeerView {
                addr: "127.0.0.1:51413".to_string(),
                client: None,
                down_rate: 0,
                up_rate: 40 << 10,
                downloaded: 0,
                uploaded: 80 << 10,
                progress: 0.25,
                flags: "uI".to_string(),
            },
        ],
        trackers: vec![
            TrackerView {
                url: "http://127.0.0.1:6969/announce".to_string(),
                working: true,
                message: None,
                last_announce: Some(1_000_000 - 65),
                interval: Some(1800),
                seeders: Some(3),
                leechers: Some(12),
            },
            TrackerView {
                url: "udp://127.0.0.1:6970".to_string(),
                working: false,
                message: Some("connection refused".to_string()),
                last_announce: None,
                interval: None,
                seeders: None,
                leechers: None,
            },
        ],
        pieces: String::new(),
        notices: vec!["files changed on disk: rechecked".to_string()],
    }
}

/// A snapshot of `torrents` taken `secs` after `start`, with details of `selected`.
fn snapshot(
    torrents: Vec<TorrentSummary>,
    selected: Option<&str>,
    start: Instant,
    secs: u64,
) -> Snapshot {
    let down = torrents.iter().map(|t| t.down_rate).sum();
    let up = torrents.iter().map(|t| t.up_rate).sum();
    let details = selected.and_then(|id| torrents.iter().find(|t| t.id == id)).map(details);
    Snapshot {
        session: session(down, up, &torrents),
        torrents,
        details,
        taken: start + Duration::from_secs(secs),
        unix_now: 1_000_000,
    }
}

/// An app that received one snapshot of [`two_torrents`] (with `alpha`'s details).
fn loaded() -> App {
    let mut app = App::new();
    let torrents = two_torrents();
    let alpha = torrents[0].id.clone();
    app.apply(snapshot(torrents, Some(&alpha), Instant::now(), 0));
    app
}

/// A plain key press.
fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// Types `text` into `app`, asserting that no key asks for anything.
fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        assert_eq!(app.handle_key(key(KeyCode::Char(c))), None, "typing {c:?}");
    }
}

/// Draws `app` on a `width` × `height` test terminal; returns the terminal.
fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal.draw(|frame| view::render(app, frame)).expect("draw");
    terminal
}

/// The screen's text, one line per row (wide characters take their cell).
fn screen(app: &App, width: u16, height: u16) -> String {
    text_of(&draw(app, width, height))
}

/// The text of a drawn test terminal.
fn text_of(terminal: &Terminal<TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    let width = usize::from(buffer.area.width);
    let mut text = String::new();
    for (i, cell) in buffer.content().iter().enumerate() {
        text.push_str(cell.symbol());
        if (i + 1) % width == 0 {
            text.push('\n');
        }
    }
    text
}

/// The row of `screen` containing `needle`.
fn line_with<'a>(screen: &'a str, needle: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{screen}"))
}
