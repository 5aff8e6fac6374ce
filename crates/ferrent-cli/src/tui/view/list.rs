//! The torrent list.

use super::columns::{self, Column, Width};
use super::{state_style, BLOCK_TITLE, SELECTED};
use crate::info::human_size;
use crate::tui::app::App;
use crate::tui::format;
use ferrent_daemon::model::TorrentSummary;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

/// Cells of the progress bar in the list.
const BAR: usize = 10;

/// The list's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Name,
    Size,
    /// A bar and the percentage.
    Progress,
    /// The percentage alone.
    Percent,
    State,
    Down,
    Up,
    Eta,
    Ratio,
    Peers,
}

impl Column for Col {
    fn title(self) -> &'static str {
        match self {
            Col::Name => "Name",
            Col::Size => "Size",
            Col::Progress => "Progress",
            Col::Percent => "Done",
            Col::State => "State",
            Col::Down => "Down",
            Col::Up => "Up",
            Col::Eta => "ETA",
            Col::Ratio => "Ratio",
            Col::Peers => "Peers",
        }
    }

    fn width(self) -> Width {
        Width::Fixed(match self {
            Col::Name => return Width::Fill { weight: 1, min: 12 },
            Col::Size => 10,
            Col::Down | Col::Up => 12,
            Col::Progress => BAR as u16 + 7,
            Col::Percent => 6,
            Col::State => 11,
            Col::Eta => 6,
            Col::Ratio | Col::Peers => 5,
        })
    }

    fn numeric(self) -> bool {
        !matches!(self, Col::Name | Col::Progress | Col::State)
    }
}

/// Layouts from the widest terminal to the narrowest.
const LAYOUTS: [&[Col]; 9] = {
    use Col::*;
    [
        &[Name, Size, Progress, State, Down, Up, Eta, Ratio, Peers],
        &[Name, Size, Progress, State, Down, Up, Eta, Peers],
        &[Name, Size, Progress, State, Down, Up, Eta],
        &[Name, Progress, State, Down, Up, Eta],
        &[Name, Progress, State, Down, Up],
        &[Name, Percent, State, Down, Up],
        &[Name, Percent, State, Down],
        &[Name, Percent, State],
        &[Name, Percent],
    ]
};

/// Draws the list of torrents, the selected one highlighted.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let stale = if app.unreachable_reason().is_some() { " (not updating)" } else { "" };
    let title = format!(" Torrents ({}){stale} ", app.torrents().len());
    let block = Block::bordered().title(title).title_style(BLOCK_TITLE);
    if app.torrents().is_empty() {
        let text = if app.session().is_none() {
            "Connecting to the daemon…".to_string()
        } else {
            "No torrents. Press a to add a magnet link, URL or .torrent file.".to_string()
        };
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }).block(block), area);
        return;
    }
    let inner = block.inner(area);
    let layout = columns::pick(&LAYOUTS, inner.width.saturating_sub(SYMBOL_WIDTH));
    let rows = app.torrents().iter().map(|t| row(layout, t));
    let table = Table::new(rows, columns::constraints(layout))
        .header(columns::header(layout))
        .column_spacing(columns::SPACING)
        .block(block)
        .row_highlight_style(SELECTED)
        .highlight_symbol(SYMBOL);
    let mut state = TableState::default().with_selected(app.selected_index());
    frame.render_stateful_widget(table, area, &mut state);
}

/// Marks the selected row.
const SYMBOL: &str = "▶ ";
/// Cells [`SYMBOL`] takes.
const SYMBOL_WIDTH: u16 = 2;

fn row(layout: &[Col], t: &TorrentSummary) -> Row<'static> {
    let cells = layout.iter().map(|&col| {
        let text = match col {
            Col::Name => t.name.clone(),
            // Unknown until a magnet link's metadata arrives.
            Col::Size if t.pieces_total == 0 => "?".to_string(),
            Col::Size => human_size(t.size),
            Col::Progress => format::bar_and_percent(t.progress, BAR),
            Col::Percent => format::percent(t.progress),
            Col::State => {
                return Cell::new(format::state(t.state)).style(state_style(t.state));
            }
            Col::Down => active_rate(t.down_rate),
            Col::Up => active_rate(t.up_rate),
            Col::Eta => format::eta(t),
            Col::Ratio => format::ratio(t),
            Col::Peers => t.peer_count.to_string(),
        };
        columns::aligned(col, text)
    });
    Row::new(cells)
}

/// A rate, or `-` for none (quieter in a long list).
fn active_rate(bytes_per_sec: u64) -> String {
    if bytes_per_sec == 0 {
        "-".to_string()
    } else {
        format::rate(bytes_per_sec)
    }
}
