//! The detail pane of the selected torrent: info, files, peers and trackers, as tabs.

use super::columns::{self, Column, Width};
use super::{state_style, BLOCK_TITLE, DIM, LABEL};
use crate::info::human_size;
use crate::tui::app::{App, Pane};
use crate::tui::format;
use ferrent_daemon::model::{FileView, PeerView, TorrentDetails, TrackerView};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, Tabs, Wrap};
use ratatui::Frame;

/// Draws the tabs and the chosen pane of the selected torrent.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let title = app.selected().map_or(" Details ".to_string(), |t| format!(" {} ", t.name));
    let block = Block::bordered().title(title).title_style(BLOCK_TITLE);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [tabs_area, body] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(inner);
    let details = app.details();
    let titles = Pane::ALL.map(|pane| {
        let count = details.and_then(|d| match pane {
            Pane::Info => None,
            Pane::Files => Some(d.files.len()),
            Pane::Peers => Some(d.peers.len()),
            Pane::Trackers => Some(d.trackers.len()),
        });
        match count {
            Some(n) => format!("{} ({n})", pane.title()),
            None => pane.title().to_string(),
        }
    });
    let tabs = Tabs::new(titles)
        .select(app.pane().index())
        .highlight_style(Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED));
    frame.render_widget(tabs, tabs_area);
    let Some(details) = details else {
        let text = if app.selected().is_some() { "Loading…" } else { "No torrent selected." };
        frame.render_widget(Paragraph::new(text).style(DIM), body);
        return;
    };
    match app.pane() {
        Pane::Info => info(app, details, frame, body),
        Pane::Files => table(
            &FILE_LAYOUTS,
            &details.files,
            file_cell,
            "No files yet (waiting for metadata).",
            app.scroll(),
            frame,
            body,
        ),
        Pane::Peers => table(
            &PEER_LAYOUTS,
            &details.peers,
            peer_cell,
            "No peers connected.",
            app.scroll(),
            frame,
            body,
        ),
        Pane::Trackers => {
            let now = app.unix_now();
            let cell = |col, t: &TrackerView| tracker_cell(col, t, now);
            table(
                &TRACKER_LAYOUTS,
                &details.trackers,
                cell,
                "No trackers.",
                app.scroll(),
                frame,
                body,
            );
        }
    }
}

fn info(app: &App, d: &TorrentDetails, frame: &mut Frame, area: Rect) {
    let s = &d.summary;
    let field = |label: &str, value: String| {
        Line::from(vec![Span::styled(format!("{label:<10}"), LABEL), Span::raw(value)])
    };
    let mut state = vec![
        Span::styled(format!("{:<10}", "State"), LABEL),
        Span::styled(s.state.as_str(), state_style(s.state)),
    ];
    if let Some(error) = &s.error {
        state.push(Span::raw(format!(": {error}")));
    }
    let mut lines = vec![
        Line::from(state),
        field(
            "Progress",
            format!(
                "{} of {} ({}/{} pieces), {} left",
                format::percent(s.progress),
                human_size(s.size),
                s.pieces_have,
                s.pieces_total,
                human_size(s.left)
            ),
        ),
        field(
            "Rates",
            format!(
                "down {}, up {}, {} peers, ETA {}",
                format::rate(s.down_rate),
                format::rate(s.up_rate),
                s.peer_count,
                format::eta(s)
            ),
        ),
        field(
            "Totals",
            format!(
                "downloaded {}, uploaded {}, ratio {}",
                human_size(s.downloaded),
                human_size(s.uploaded),
                format::ratio(s)
            ),
        ),
        field(
            "Limits",
            format!("down {}, up {}", format::cap(s.download_limit), format::cap(s.upload_limit)),
        ),
        field("Directory", s.download_dir.clone()),
        field("Added", format::ago(app.unix_now(), s.added_at)),
        field("Id", s.id.clone()),
        field("Magnet", d.magnet.clone()),
    ];
    lines.extend(d.notices.iter().map(|n| field("Notice", n.clone())));
    let scroll = u16::try_from(app.scroll()).unwrap_or(u16::MAX);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((scroll, 0)), area);
}

/// Draws `items` as a table in the richest of `layouts` that fits, scrolled down `scroll`
/// rows (at most until the last row is at the bottom).
fn table<C: Column, T>(
    layouts: &[&'static [C]],
    items: &[T],
    cell: impl Fn(C, &T) -> String,
    empty: &str,
    scroll: usize,
    frame: &mut Frame,
    area: Rect,
) {
    if items.is_empty() {
        frame.render_widget(Paragraph::new(empty).style(DIM), area);
        return;
    }
    let layout = columns::pick(layouts, area.width);
    let visible = usize::from(area.height.saturating_sub(1));
    let skip = scroll.min(items.len().saturating_sub(visible));
    let rows = items
        .iter()
        .skip(skip)
        .map(|item| Row::new(layout.iter().map(|&col| columns::aligned(col, cell(col, item)))));
    let table = Table::new(rows, columns::constraints(layout))
        .header(columns::header(layout))
        .column_spacing(columns::SPACING);
    frame.render_widget(table, area);
}

/// Columns of the file table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileCol {
    Progress,
    Percent,
    Priority,
    Size,
    Path,
}

/// Cells of a file's progress bar.
const FILE_BAR: usize = 10;

impl Column for FileCol {
    fn title(self) -> &'static str {
        match self {
            FileCol::Progress | FileCol::Percent => "Done",
            FileCol::Priority => "Priority",
            FileCol::Size => "Size",
            FileCol::Path => "Path",
        }
    }
    fn width(self) -> Width {
        match self {
            FileCol::Progress => Width::Fixed(FILE_BAR as u16 + 7),
            FileCol::Percent => Width::Fixed(6),
            FileCol::Priority => Width::Fixed(8),
            FileCol::Size => Width::Fixed(10),
            FileCol::Path => Width::Fill { weight: 1, min: 16 },
        }
    }
    fn numeric(self) -> bool {
        matches!(self, FileCol::Percent | FileCol::Size)
    }
}

const FILE_LAYOUTS: [&[FileCol]; 4] = {
    use FileCol::*;
    [
        &[Progress, Priority, Size, Path],
        &[Percent, Priority, Size, Path],
        &[Percent, Size, Path],
        &[Percent, Path],
    ]
};

fn file_cell(col: FileCol, f: &FileView) -> String {
    let done = if f.size == 0 { 1.0 } else { f.done as f64 / f.size as f64 };
    match col {
        FileCol::Progress => format::bar_and_percent(done, FILE_BAR),
        FileCol::Percent => format::percent(done),
        FileCol::Priority => priority(f.priority).to_string(),
        FileCol::Size => human_size(f.size),
        FileCol::Path => f.path.clone(),
    }
}

/// A file priority's name.
fn priority(priority: u8) -> &'static str {
    match priority {
        0 => "skip",
        1 => "normal",
        _ => "high",
    }
}

/// Columns of the peer table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PeerCol {
    Address,
    Client,
    Flags,
    Has,
    Down,
    Up,
}

impl Column for PeerCol {
    fn title(self) -> &'static str {
        match self {
            PeerCol::Address => "Address",
            PeerCol::Client => "Client",
            PeerCol::Flags => "Flags",
            PeerCol::Has => "Has",
            PeerCol::Down => "Down",
            PeerCol::Up => "Up",
        }
    }
    fn width(self) -> Width {
        match self {
            PeerCol::Address => Width::Fill { weight: 1, min: 15 },
            PeerCol::Client => Width::Fixed(18),
            PeerCol::Flags => Width::Fixed(5),
            PeerCol::Has => Width::Fixed(6),
            PeerCol::Down | PeerCol::Up => Width::Fixed(12),
        }
    }
    fn numeric(self) -> bool {
        matches!(self, PeerCol::Has | PeerCol::Down | PeerCol::Up)
    }
}

const PEER_LAYOUTS: [&[PeerCol]; 4] = {
    use PeerCol::*;
    [
        &[Address, Client, Flags, Has, Down, Up],
        &[Address, Flags, Has, Down, Up],
        &[Address, Flags, Down, Up],
        &[Address, Down],
    ]
};

fn peer_cell(col: PeerCol, p: &PeerView) -> String {
    match col {
        PeerCol::Address => p.addr.clone(),
        PeerCol::Client => p.client.clone().unwrap_or_else(|| "?".to_string()),
        PeerCol::Flags => p.flags.clone(),
        PeerCol::Has => format::percent(p.progress),
        PeerCol::Down => format::rate(p.down_rate),
        PeerCol::Up => format::rate(p.up_rate),
    }
}

/// Columns of the tracker table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TrackerCol {
    Url,
    Status,
    Seeds,
    Leechers,
    Announced,
    Interval,
}

impl Column for TrackerCol {
    fn title(self) -> &'static str {
        match self {
            TrackerCol::Url => "Tracker",
            TrackerCol::Status => "Status",
            TrackerCol::Seeds => "Seeds",
            TrackerCol::Leechers => "Peers",
            TrackerCol::Announced => "Announced",
            TrackerCol::Interval => "Every",
        }
    }
    fn width(self) -> Width {
        match self {
            TrackerCol::Url => Width::Fill { weight: 3, min: 20 },
            TrackerCol::Status => Width::Fill { weight: 2, min: 16 },
            TrackerCol::Seeds | TrackerCol::Leechers => Width::Fixed(5),
            TrackerCol::Announced => Width::Fixed(10),
            TrackerCol::Interval => Width::Fixed(6),
        }
    }
    fn numeric(self) -> bool {
        !matches!(self, TrackerCol::Url | TrackerCol::Status)
    }
}

const TRACKER_LAYOUTS: [&[TrackerCol]; 4] = {
    use TrackerCol::*;
    [
        &[Url, Status, Seeds, Leechers, Announced, Interval],
        &[Url, Status, Seeds, Leechers, Announced],
        &[Url, Status, Seeds, Leechers],
        &[Url, Status],
    ]
};

fn tracker_cell(col: TrackerCol, t: &TrackerView, now: u64) -> String {
    let count = |n: Option<u32>| n.map_or("-".to_string(), |n| n.to_string());
    match col {
        TrackerCol::Url => t.url.clone(),
        TrackerCol::Status => match (&t.message, t.working) {
            (Some(message), true) => format!("working; {message}"),
            (Some(message), false) => message.clone(),
            (None, true) => "working".to_string(),
            (None, false) => "not contacted yet".to_string(),
        },
        TrackerCol::Seeds => count(t.seeders),
        TrackerCol::Leechers => count(t.leechers),
        TrackerCol::Announced => t.last_announce.map_or("-".to_string(), |at| format::ago(now, at)),
        TrackerCol::Interval => t.interval.map_or("-".to_string(), format::duration),
    }
}
