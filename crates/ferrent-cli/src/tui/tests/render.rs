//! Frames drawn from fixed model values, at several sizes.

use super::*;
use crate::tui::app::{Mode, Notice, Outcome};
use ratatui::layout::Position;

#[test]
fn wide_screen_shows_list_details_and_graph() {
    let mut app = loaded();
    // A second reading, so the graph has a line to draw.
    let alpha = app.torrents()[0].id.clone();
    app.apply(snapshot(two_torrents(), Some(&alpha), Instant::now() + Duration::from_secs(1), 1));
    let text = screen(&app, 140, 40);
    // The session line.
    let top = text.lines().next().unwrap_or_default();
    assert!(top.contains("↓ 1.5 MiB/s") && top.contains("↑ 42 KiB/s"), "{top}");
    assert!(top.contains("2 torrents (1 downloading, 1 seeding)"), "{top}");
    // Every column of the list.
    let header = line_with(&text, "Progress");
    for title in ["Name", "Size", "State", "Down", "Up", "ETA", "Ratio", "Peers"] {
        assert!(header.contains(title), "{title} missing from {header}");
    }
    let alpha = line_with(&text, "alpha ");
    for cell in ["3 MiB", "45.6%", "downloading", "1.5 MiB/s", "40 KiB/s", "0.50", " 7"] {
        assert!(alpha.contains(cell), "{cell} missing from {alpha}");
    }
    // 1.63 MiB left at 1.5 MiB/s: two seconds, rounded up.
    assert!(alpha.contains("2s"), "ETA missing from {alpha}");
    assert!(alpha.contains('▶'), "alpha is selected: {alpha}");
    let beta = line_with(&text, "beta ");
    for cell in ["100.0%", "seeding", "2 KiB/s", "0.17"] {
        assert!(beta.contains(cell), "{cell} missing from {beta}");
    }
    // The detail tabs with counts, the info pane, the graph beside them.
    let tabs = line_with(&text, "Info");
    assert!(
        tabs.contains("Files (2)") && tabs.contains("Peers (2)") && tabs.contains("Trackers (2)"),
        "{tabs}"
    );
    assert!(line_with(&text, "Progress  45.6% of 3 MiB").contains("(43/96 pieces)"));
    assert!(line_with(&text, "Limits").contains("down none, up none"));
    assert!(line_with(&text, "Notice").contains("files changed on disk"));
    assert!(line_with(&text, "Speed").contains("↓ 1.5 MiB/s"));
    assert!(text.contains("now"), "the graph's time axis:\n{text}");
    // The key hints.
    assert!(text.lines().last().unwrap_or_default().contains("? help"));
}

#[test]
fn detail_tabs_show_files_peers_and_trackers() {
    let mut app = loaded();
    app.handle_key(key(KeyCode::Tab));
    let text = screen(&app, 140, 40);
    let video = line_with(&text, "alpha/video.mkv");
    assert!(
        video.contains("50.0%") && video.contains("normal") && video.contains("2 MiB"),
        "{video}"
    );
    let notes = line_with(&text, "notes.txt");
    assert!(notes.contains("0.0%") && notes.contains("skip"), "{notes}");

    app.handle_key(key(KeyCode::Tab));
    let text = screen(&app, 140, 40);
    let seed = line_with(&text, "127.0.0.1:6881");
    assert!(
        seed.contains("libtorrent 2.0.8") && seed.contains("100.0%") && seed.contains("1 MiB/s"),
        "{seed}"
    );
    let leech = line_with(&text, "127.0.0.1:51413");
    assert!(
        leech.contains("uI") && leech.contains("25.0%") && leech.contains("40 KiB/s"),
        "{leech}"
    );

    app.handle_key(key(KeyCode::Tab));
    let text = screen(&app, 140, 40);
    let http = line_with(&text, "http://127.0.0.1:6969/announce");
    assert!(
        http.contains("working") && http.contains("1m05s ago") && http.contains("30m00s"),
        "{http}"
    );
    assert!(line_with(&text, "udp://127.0.0.1:6970").contains("connection refused"));
}

#[test]
fn narrow_screen_drops_columns_and_the_graph() {
    let app = loaded();
    let text = screen(&app, 48, 25);
    let header = line_with(&text, "Name");
    assert!(
        !header.contains("Ratio") && !header.contains("ETA") && !header.contains("Size"),
        "{header}"
    );
    let alpha = line_with(&text, "alpha");
    assert!(alpha.contains("45.6%") && alpha.contains("downloading"), "{alpha}");
    assert!(!text.contains("Speed"), "no graph on a narrow, short screen:\n{text}");
    assert!(text.contains("Info"), "the details still fit:\n{text}");

    // Very narrow: name and percentage only.
    let text = screen(&app, 24, 8);
    let alpha = line_with(&text, "alpha");
    assert!(alpha.contains("45.6%") && !alpha.contains("downloading"), "{alpha}");
    assert!(!text.contains("Info"), "no room for details:\n{text}");

    // Tall and narrow: the graph goes under the details.
    let text = screen(&app, 80, 50);
    assert!(text.contains("Speed") && text.contains("Info"), "{text}");

    assert!(screen(&app, 10, 3).contains("too small"));
}

#[test]
fn every_size_and_mode_draws_without_panicking() {
    let mut apps = vec![App::new(), loaded()];
    let mut prompt = loaded();
    prompt.handle_key(key(KeyCode::Char('a')));
    type_text(&mut prompt, &"x".repeat(300));
    apps.push(prompt);
    let mut confirm = loaded();
    confirm.handle_key(key(KeyCode::Char('D')));
    apps.push(confirm);
    let mut help = loaded();
    help.handle_key(key(KeyCode::Char('?')));
    apps.push(help);
    for pane in 0..4 {
        let mut app = loaded();
        for _ in 0..pane {
            app.handle_key(key(KeyCode::Tab));
        }
        for _ in 0..5 {
            app.handle_key(key(KeyCode::PageDown));
        }
        apps.push(app);
    }
    for app in &apps {
        for width in (1..=160).step_by(7) {
            for height in (1..=60).step_by(5) {
                draw(app, width, height);
            }
        }
    }
}

#[test]
fn prompt_shows_the_question_the_input_and_the_cursor() {
    let mut app = loaded();
    app.handle_key(key(KeyCode::Char('a')));
    type_text(&mut app, "/tmp/a.torrent");
    let mut terminal = draw(&app, 100, 30);
    let text = text_of(&terminal);
    assert!(text.contains("Add a magnet link, http(s) URL or .torrent path"), "{text}");
    let input = line_with(&text, "/tmp/a.torrent");
    let column = input.chars().take_while(|c| *c != '/').count() as u16;
    let row = text.lines().position(|l| l.contains("/tmp/a.torrent")).unwrap_or(0) as u16;
    terminal.backend_mut().assert_cursor_position(Position::new(column + 14, row));

    // A long input scrolls so that its end (and the cursor) stay in the box.
    type_text(&mut app, &"y".repeat(150));
    type_text(&mut app, "END");
    let text = screen(&app, 60, 20);
    assert!(line_with(&text, "END").contains("yyy"), "{text}");
}

#[test]
fn confirm_dialogs_say_what_happens_to_the_data() {
    let mut app = loaded();
    app.handle_key(key(KeyCode::Char('d')));
    let text = screen(&app, 100, 30);
    assert!(text.contains("Remove alpha? Its downloaded data stays on disk."), "{text}");
    app.handle_key(key(KeyCode::Char('n')));
    app.handle_key(key(KeyCode::Char('D')));
    let text = screen(&app, 100, 30);
    assert!(text.contains("Remove alpha and DELETE its downloaded data?"), "{text}");
    assert!(matches!(app.mode(), Mode::Confirm(_)));
}

#[test]
fn help_lists_the_keys() {
    let mut app = loaded();
    app.handle_key(key(KeyCode::Char('?')));
    let text = screen(&app, 100, 30);
    for (keys, what) in crate::tui::view::dialog::KEYS {
        assert!(line_with(&text, what).contains(keys), "{keys} {what}:\n{text}");
    }
}

#[test]
fn status_line_shows_outages_and_messages() {
    let mut app = loaded();
    app.finished(Outcome::Done { message: "paused alpha".to_string(), added: None });
    let text = screen(&app, 100, 30);
    assert!(text.lines().last().unwrap_or_default().contains("✔ paused alpha"), "{text}");
    app.unreachable(
        "cannot reach the daemon at http://127.0.0.1:1/: connection refused".to_string(),
    );
    let text = screen(&app, 100, 30);
    let status = text.lines().last().unwrap_or_default();
    assert!(status.contains("cannot reach the daemon") && status.contains("retrying"), "{status}");
    assert!(text.contains("Torrents (2) (not updating)"), "{text}");
    assert_eq!(app.notice(), Some(&Notice::Info("paused alpha".to_string())));
}

#[test]
fn empty_and_connecting_screens_say_so() {
    let text = screen(&App::new(), 80, 24);
    assert!(text.contains("Connecting to the daemon"), "{text}");
    let mut app = App::new();
    app.apply(snapshot(Vec::new(), None, Instant::now(), 0));
    let text = screen(&app, 80, 24);
    assert!(text.contains("No torrents. Press a to add"), "{text}");
    assert!(text.contains("0 torrents"), "{text}");
}
