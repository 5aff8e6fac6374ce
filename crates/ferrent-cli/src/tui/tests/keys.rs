//! Key handling and snapshot updates of [`App`].

use super::*;
use crate::tui::app::{Action, Mode, Notice, Outcome, Pane, Purpose, Removal, Request, Target};
use ratatui::crossterm::event::KeyEventKind;

fn id(byte: u8) -> String {
    format!("{byte:02x}").repeat(20)
}

#[test]
fn arrows_and_vi_keys_move_the_selection_and_ask_for_details() {
    let mut app = loaded();
    assert_eq!(
        app.selected_id(),
        Some(id(0xaa).as_str()),
        "the first torrent is selected at first"
    );
    assert_eq!(app.handle_key(key(KeyCode::Down)), Some(Action::Refresh));
    assert_eq!(app.selected().map(|t| t.name.as_str()), Some("beta"));
    assert_eq!(app.handle_key(key(KeyCode::Down)), None, "already on the last row");
    assert_eq!(app.handle_key(key(KeyCode::Char('k'))), Some(Action::Refresh));
    assert_eq!(app.selected_index(), Some(0));
    assert_eq!(app.handle_key(key(KeyCode::Up)), None, "already on the first row");
    assert_eq!(app.handle_key(key(KeyCode::End)), Some(Action::Refresh));
    assert_eq!(app.selected_index(), Some(1));
    assert_eq!(app.handle_key(key(KeyCode::Home)), Some(Action::Refresh));
    assert_eq!(app.handle_key(key(KeyCode::Char('j'))), Some(Action::Refresh));
    assert_eq!(app.selected_index(), Some(1));
    // Details of the old selection are not shown for the new one.
    assert!(app.details().is_none());
}

#[test]
fn key_releases_are_ignored() {
    let mut app = loaded();
    let mut release = key(KeyCode::Down);
    release.kind = KeyEventKind::Release;
    assert_eq!(app.handle_key(release), None);
    assert_eq!(app.selected_index(), Some(0));
}

#[test]
fn selection_follows_the_torrent_then_the_row() {
    let mut app = loaded();
    app.handle_key(key(KeyCode::Down));
    let start = Instant::now();
    // A third torrent added earlier sorts first: `beta` stays selected, one row lower.
    let mut torrents = two_torrents();
    torrents.push(torrent(0x01, "gamma", State::Paused, 0.0, 50));
    app.apply(snapshot(torrents.clone(), None, start, 1));
    assert_eq!(
        app.torrents().iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["gamma", "alpha", "beta"]
    );
    assert_eq!(app.selected().map(|t| t.name.as_str()), Some("beta"));
    // `beta` goes away: the selection stays on its row, clamped to the list.
    torrents.retain(|t| t.name != "beta");
    app.apply(snapshot(torrents.clone(), None, start, 2));
    assert_eq!(app.selected().map(|t| t.name.as_str()), Some("alpha"));
    app.apply(snapshot(Vec::new(), None, start, 3));
    assert_eq!(app.selected_id(), None);
    assert_eq!(app.handle_key(key(KeyCode::Down)), None, "nothing to move to");
}

#[test]
fn an_added_torrent_is_selected_once_listed() {
    let mut app = loaded();
    let start = Instant::now();
    let new = torrent(0xcc, "delta", State::Downloading, 0.0, 300);
    app.finished(Outcome::Done { message: "added delta".to_string(), added: Some(new.id.clone()) });
    assert_eq!(app.notice(), Some(&Notice::Info("added delta".to_string())));
    // A refresh that started before the add does not list it yet.
    app.apply(snapshot(two_torrents(), None, start, 1));
    assert_eq!(app.selected().map(|t| t.name.as_str()), Some("alpha"));
    let mut torrents = two_torrents();
    torrents.push(new);
    app.apply(snapshot(torrents, None, start, 2));
    assert_eq!(app.selected().map(|t| t.name.as_str()), Some("delta"));
}

#[test]
fn pause_and_resume_act_on_the_selected_torrent() {
    let mut app = loaded();
    assert_eq!(
        app.handle_key(key(KeyCode::Char('p'))),
        Some(Action::Request(Request::Pause(id(0xaa))))
    );
    app.handle_key(key(KeyCode::Down));
    assert_eq!(
        app.handle_key(key(KeyCode::Char('r'))),
        Some(Action::Request(Request::Resume(id(0xbb))))
    );
    let mut empty = App::new();
    assert_eq!(empty.handle_key(key(KeyCode::Char('p'))), None);
    assert_eq!(empty.notice(), Some(&Notice::Error("no torrent selected".to_string())));
    assert_eq!(empty.handle_key(key(KeyCode::Char('d'))), None);
    assert_eq!(empty.mode(), &Mode::Normal);
}

#[test]
fn add_prompt_sends_the_trimmed_text_or_cancels() {
    let mut app = loaded();
    assert_eq!(app.handle_key(key(KeyCode::Char('a'))), None);
    assert!(matches!(app.mode(), Mode::Prompt(p) if p.purpose == Purpose::Add));
    // Keys that are commands elsewhere are text here.
    type_text(&mut app, " /tmp/q p.torrent ");
    let action = app.handle_key(key(KeyCode::Enter));
    assert_eq!(action, Some(Action::Request(Request::Add("/tmp/q p.torrent".to_string()))));
    assert_eq!(app.mode(), &Mode::Normal);
    assert!(!app.should_quit());

    app.handle_key(key(KeyCode::Char('a')));
    type_text(&mut app, "magnet:?xt=urn:btih:abc");
    assert_eq!(app.handle_key(key(KeyCode::Esc)), None);
    assert_eq!(app.mode(), &Mode::Normal, "Esc cancels");

    app.handle_key(key(KeyCode::Char('a')));
    type_text(&mut app, "   ");
    assert_eq!(app.handle_key(key(KeyCode::Enter)), None, "nothing to add");
    assert_eq!(app.mode(), &Mode::Normal);
}

#[test]
fn removal_asks_first() {
    let mut app = loaded();
    app.handle_key(key(KeyCode::Char('d')));
    let removal = Removal { id: id(0xaa), name: "alpha".to_string(), delete_data: false };
    assert_eq!(app.mode(), &Mode::Confirm(removal.clone()));
    assert_eq!(
        app.handle_key(key(KeyCode::Char('y'))),
        Some(Action::Request(Request::Remove(removal)))
    );
    assert_eq!(app.mode(), &Mode::Normal);

    app.handle_key(key(KeyCode::Down));
    app.handle_key(key(KeyCode::Char('D')));
    assert!(matches!(app.mode(), Mode::Confirm(r) if r.delete_data && r.name == "beta"));
    // Enter is not a yes: the default keeps the torrent.
    assert_eq!(app.handle_key(key(KeyCode::Enter)), None);
    assert_eq!(app.mode(), &Mode::Normal);
    assert_eq!(app.notice(), Some(&Notice::Info("kept beta".to_string())));
}

#[test]
fn limits_prompt_starts_from_the_current_caps() {
    let mut app = loaded();
    let mut torrents = two_torrents();
    torrents[0].download_limit = 1 << 20;
    torrents[0].upload_limit = 100 << 10;
    app.apply(snapshot(torrents, None, Instant::now(), 1));
    app.handle_key(key(KeyCode::Char('l')));
    let Mode::Prompt(prompt) = app.mode() else { panic!("no prompt: {:?}", app.mode()) };
    assert_eq!(prompt.input.text(), "1M 100K");
    assert!(prompt.label().contains("alpha"), "{}", prompt.label());
    // Replace the upload cap with garbage: the prompt stays, with the reason.
    app.handle_key(KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL));
    type_text(&mut app, "fast");
    assert_eq!(app.handle_key(key(KeyCode::Enter)), None);
    assert!(matches!(app.mode(), Mode::Prompt(_)));
    assert!(
        matches!(app.notice(), Some(Notice::Error(e)) if e.contains("upload rate")),
        "{:?}",
        app.notice()
    );
    app.handle_key(key(KeyCode::Backspace));
    app.handle_key(key(KeyCode::Backspace));
    app.handle_key(key(KeyCode::Backspace));
    app.handle_key(key(KeyCode::Backspace));
    type_text(&mut app, "-");
    let target = Target::Torrent { id: id(0xaa), name: "alpha".to_string() };
    let limits = Limits { download: Some(1 << 20), upload: None };
    assert_eq!(
        app.handle_key(key(KeyCode::Enter)),
        Some(Action::Request(Request::SetLimits(target, limits)))
    );

    app.handle_key(key(KeyCode::Char('L')));
    let Mode::Prompt(prompt) = app.mode() else { panic!("no prompt: {:?}", app.mode()) };
    assert_eq!(prompt.purpose, Purpose::Limits(Target::Session));
    assert_eq!(prompt.input.text(), "0 0");
    app.handle_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    type_text(&mut app, "2M 0");
    let limits = Limits { download: Some(2 << 20), upload: Some(0) };
    assert_eq!(
        app.handle_key(key(KeyCode::Enter)),
        Some(Action::Request(Request::SetLimits(Target::Session, limits)))
    );
}

#[test]
fn tabs_cycle_the_detail_panes_and_reset_the_scroll() {
    let mut app = loaded();
    assert_eq!(app.pane(), Pane::Info);
    app.handle_key(key(KeyCode::PageDown));
    assert_eq!(app.scroll(), 10);
    app.handle_key(key(KeyCode::Tab));
    assert_eq!((app.pane(), app.scroll()), (Pane::Files, 0));
    app.handle_key(key(KeyCode::PageDown));
    assert_eq!(app.scroll(), 1, "no scrolling past the last of the two files");
    app.handle_key(key(KeyCode::Right));
    assert_eq!(app.pane(), Pane::Peers);
    app.handle_key(key(KeyCode::Tab));
    app.handle_key(key(KeyCode::Tab));
    assert_eq!(app.pane(), Pane::Info, "Tab wraps around");
    app.handle_key(key(KeyCode::BackTab));
    assert_eq!(app.pane(), Pane::Trackers);
    app.handle_key(key(KeyCode::Left));
    assert_eq!(app.pane(), Pane::Peers);
    app.handle_key(key(KeyCode::Char('2')));
    assert_eq!(app.pane(), Pane::Files);
    app.handle_key(key(KeyCode::PageUp));
    assert_eq!(app.scroll(), 0, "no scrolling above the top");
}

#[test]
fn help_closes_on_any_key_and_quitting_works_everywhere() {
    let mut app = loaded();
    app.handle_key(key(KeyCode::Char('?')));
    assert_eq!(app.mode(), &Mode::Help);
    assert_eq!(app.handle_key(key(KeyCode::Char('q'))), None);
    assert_eq!(app.mode(), &Mode::Normal);
    assert!(!app.should_quit(), "q only closed the help");
    app.handle_key(key(KeyCode::Char('a')));
    app.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(app.should_quit(), "Ctrl-C quits even from a prompt");
    let mut app = loaded();
    app.handle_key(key(KeyCode::Char('q')));
    assert!(app.should_quit());
}

#[test]
fn failures_and_outages_reach_the_status() {
    let mut app = loaded();
    app.finished(Outcome::Failed("cannot pause: not found".to_string()));
    assert_eq!(app.notice(), Some(&Notice::Error("cannot pause: not found".to_string())));
    app.handle_key(key(KeyCode::Esc));
    assert_eq!(app.notice(), None, "Esc clears the message");
    app.unreachable("cannot reach the daemon".to_string());
    assert_eq!(app.unreachable_reason(), Some("cannot reach the daemon"));
    assert_eq!(app.torrents().len(), 2, "the last data stays on screen");
    app.apply(snapshot(two_torrents(), None, Instant::now(), 1));
    assert_eq!(app.unreachable_reason(), None);
}

#[test]
fn snapshots_feed_the_speed_history() {
    let mut app = App::new();
    let start = Instant::now();
    for secs in 0..5 {
        let mut torrents = two_torrents();
        torrents[0].down_rate = secs * 1000;
        app.apply(snapshot(torrents, None, start, secs));
    }
    assert_eq!(app.history().len(), 5);
    assert_eq!(app.history().span(), Duration::from_secs(4));
    assert_eq!(
        app.history().latest().map(|s| (s.down, s.up)),
        Some((4000, (40 << 10) + (2 << 10)))
    );
}
