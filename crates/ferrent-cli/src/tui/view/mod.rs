//! Drawing an [`App`] into a frame. Nothing here changes state, so any frame size and any
//! state can be drawn (and tested with ratatui's `TestBackend`).
//!
//! The screen, top to bottom: a session line, the torrent list, the selected torrent's
//! detail tabs beside (wide terminals) or above (tall ones) the speed graph, and a status
//! line. Parts are dropped as the terminal shrinks: first the graph, then the details,
//! then the list's less important columns.

mod columns;
mod details;
pub mod dialog;
mod graph;
mod list;

use super::app::{App, Mode, Notice};
use super::format;
use ferrent_daemon::model::State;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

/// Block titles.
const BLOCK_TITLE: Style = Style::new().add_modifier(Modifier::BOLD);
/// Field names.
const LABEL: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
/// Secondary text.
const DIM: Style = Style::new().fg(Color::DarkGray);
/// The selected row (reversed video shows on any terminal, colours or not).
const SELECTED: Style = Style::new().add_modifier(Modifier::REVERSED);
/// Download rates.
const DOWN: Style = Style::new().fg(Color::Green);
/// Upload rates.
const UP: Style = Style::new().fg(Color::Magenta);
/// Errors and destructive choices.
const DANGER: Style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);

/// Below this size only a short note is drawn.
pub const MIN_WIDTH: u16 = 20;
/// Below this height only a short note is drawn.
pub const MIN_HEIGHT: u16 = 4;
/// Terminals at least this wide show the details and the graph side by side.
const SIDE_BY_SIDE: u16 = 110;
/// The graph's width beside the details.
const GRAPH_WIDTH: u16 = 44;
/// The graph's height under the details.
const GRAPH_HEIGHT: u16 = 10;
/// Body rows needed to show the details under the list.
const DETAILS_MIN_BODY: u16 = 14;
/// Detail rows needed before the graph goes under them (narrow terminals).
const STACKED_MIN_DETAILS: u16 = 12;

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let note =
            Paragraph::new("ferrent: terminal too small (q quits)").wrap(Wrap { trim: true });
        frame.render_widget(note, area);
        return;
    }
    let [top, body, bottom] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1), Constraint::Length(1)])
            .areas(area);
    frame.render_widget(Paragraph::new(session_line(app)), top);
    render_body(app, frame, body);
    frame.render_widget(Paragraph::new(status_line(app)), bottom);
    match app.mode() {
        Mode::Normal => {}
        Mode::Help => dialog::help(frame, area),
        Mode::Prompt(prompt) => dialog::prompt(frame, area, prompt),
        Mode::Confirm(removal) => dialog::confirm(frame, area, removal),
    }
}

fn render_body(app: &App, frame: &mut Frame, body: Rect) {
    if body.height < DETAILS_MIN_BODY {
        list::render(app, frame, body);
        return;
    }
    // The list takes what its rows need (header and borders included), up to 40%.
    let wanted = u16::try_from(app.torrents().len()).unwrap_or(u16::MAX).saturating_add(3);
    let list_height = wanted.clamp(5, (body.height * 2 / 5).max(5));
    let [list_area, rest] =
        Layout::vertical([Constraint::Length(list_height), Constraint::Fill(1)]).areas(body);
    list::render(app, frame, list_area);
    if rest.width >= SIDE_BY_SIDE {
        let [details_area, graph_area] =
            Layout::horizontal([Constraint::Fill(1), Constraint::Length(GRAPH_WIDTH)]).areas(rest);
        details::render(app, frame, details_area);
        graph::render(app, frame, graph_area);
    } else if rest.height >= STACKED_MIN_DETAILS + GRAPH_HEIGHT {
        let [details_area, graph_area] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(GRAPH_HEIGHT)]).areas(rest);
        details::render(app, frame, details_area);
        graph::render(app, frame, graph_area);
    } else {
        details::render(app, frame, rest);
    }
}

/// `ferrent  ↓ 1 MiB/s  ↑ 2 KiB/s  3 torrents: 1 downloading, 2 seeding  12 peers  …`.
fn session_line(app: &App) -> Line<'static> {
    let mut spans = vec![Span::styled("ferrent ", BLOCK_TITLE)];
    let Some(session) = app.session() else {
        spans.push(Span::styled("connecting to the daemon…", DIM));
        return Line::from(spans);
    };
    spans.push(Span::styled(format!(" ↓ {}", format::rate(session.down_rate)), DOWN));
    spans.push(Span::styled(format!("  ↑ {}", format::rate(session.up_rate)), UP));
    let states: Vec<String> = session
        .states
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(state, n)| format!("{n} {}", format::state(*state)))
        .collect();
    let mut torrents = format!("  {} torrent{}", session.torrents, plural(session.torrents));
    if !states.is_empty() {
        torrents.push_str(&format!(" ({})", states.join(", ")));
    }
    spans.push(Span::raw(torrents));
    spans.push(Span::raw(format!("  {} peer{}", session.peers, plural(session.peers))));
    let limits = session.limits;
    if limits.download.unwrap_or(0) != 0 || limits.upload.unwrap_or(0) != 0 {
        spans.push(Span::raw(format!(
            "  limits ↓ {} ↑ {}",
            format::cap(limits.download.unwrap_or(0)),
            format::cap(limits.upload.unwrap_or(0))
        )));
    }
    spans.push(Span::styled(format!("  daemon v{}", session.version), DIM));
    Line::from(spans)
}

/// The daemon's trouble, else the last message, else the main keys.
fn status_line(app: &App) -> Line<'static> {
    if let Some(reason) = app.unreachable_reason() {
        return Line::from(Span::styled(format!("✖ retrying: {reason}"), DANGER));
    }
    match app.notice() {
        Some(Notice::Error(message)) => Line::from(Span::styled(format!("✖ {message}"), DANGER)),
        Some(Notice::Info(message)) => Line::from(Span::raw(format!("✔ {message}"))),
        None => {
            let keys = "? help  q quit  a add  p pause  r resume  d remove  l limits  Tab details";
            Line::from(Span::styled(keys, DIM))
        }
    }
}

/// `s` unless there is exactly one.
fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

/// The colour of a state's name.
fn state_style(state: State) -> Style {
    match state {
        State::Downloading => Style::new().fg(Color::Green),
        State::Seeding => Style::new().fg(Color::Cyan),
        State::Paused | State::Queued => Style::new().fg(Color::Yellow),
        State::Checking | State::FetchingMetadata => Style::new().fg(Color::Blue),
        State::Error => DANGER,
    }
}
