//! Boxes drawn over the screen: the key help, prompts and the removal question.

use super::{BLOCK_TITLE, DANGER, LABEL};
use crate::tui::app::{Prompt, Removal};
use ratatui::layout::{Constraint, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui::Frame;

/// The keys, as the help box lists them.
pub const KEYS: [(&str, &str); 14] = [
    ("↑ ↓  j k", "select a torrent"),
    ("Home End", "first / last torrent"),
    ("Tab ← →", "switch detail tab (1-4: jump)"),
    ("PgUp PgDn", "scroll the detail tab"),
    ("a", "add a magnet link, URL or .torrent path"),
    ("p", "pause the selected torrent"),
    ("r", "resume the selected torrent"),
    ("d", "remove it (asks; data kept)"),
    ("D", "remove it and delete its data (asks)"),
    ("l", "set its rate limits"),
    ("L", "set the session's rate limits"),
    ("Esc", "clear the message / cancel"),
    ("?", "this help"),
    ("q  Ctrl-C", "quit"),
];

/// A box of `width` by `height` cells centred in `area` (smaller when `area` is), cleared.
fn popup(frame: &mut Frame, area: Rect, width: u16, height: u16) -> Rect {
    let rect = area.centered(
        Constraint::Length(width.min(area.width)),
        Constraint::Length(height.min(area.height)),
    );
    frame.render_widget(Clear, rect);
    rect
}

/// Draws the key help.
pub fn help(frame: &mut Frame, area: Rect) {
    let lines: Vec<Line> = KEYS
        .iter()
        .map(|(keys, what)| {
            Line::from(vec![Span::styled(format!(" {keys:<11}"), LABEL), Span::raw(*what)])
        })
        .collect();
    let rect = popup(frame, area, 60, KEYS.len() as u16 + 2);
    let block = Block::bordered().title(" Keys (any key closes) ").title_style(BLOCK_TITLE);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

/// Draws a prompt with its input and puts the terminal cursor at the input's cursor.
pub fn prompt(frame: &mut Frame, area: Rect, prompt: &Prompt) {
    let rect = popup(frame, area, area.width.saturating_sub(4).clamp(20, 100), 3);
    let block = Block::bordered()
        .title(format!(" {} ", prompt.label()))
        .title_style(BLOCK_TITLE)
        .title_bottom(format!(" {} ", prompt.hint()));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    // Scroll sideways so that the cursor stays inside the box.
    let before = Span::raw(prompt.input.before_cursor()).width();
    let room = usize::from(inner.width.saturating_sub(1));
    let shift = before.saturating_sub(room);
    let shown = skip_columns(prompt.input.text(), shift);
    frame.render_widget(Paragraph::new(shown), inner);
    let x = inner.x.saturating_add(u16::try_from(before - shift).unwrap_or(u16::MAX));
    frame.set_cursor_position(Position::new(x.min(inner.right().saturating_sub(1)), inner.y));
}

/// `text` without the characters that fill its first `columns` cells.
fn skip_columns(text: &str, columns: usize) -> &str {
    let mut width = 0;
    for (i, c) in text.char_indices() {
        if width >= columns {
            return &text[i..];
        }
        width += Span::raw(c.to_string()).width();
    }
    ""
}

/// Draws the question before a removal.
pub fn confirm(frame: &mut Frame, area: Rect, removal: &Removal) {
    let question = if removal.delete_data {
        Line::from(vec![
            Span::raw(format!("Remove {} and ", removal.name)),
            Span::styled("DELETE its downloaded data", DANGER),
            Span::raw("?"),
        ])
    } else {
        Line::from(format!("Remove {}? Its downloaded data stays on disk.", removal.name))
    };
    let lines = vec![
        question,
        Line::from(""),
        Line::from(vec![Span::styled("y", LABEL), Span::raw(": remove   any other key: keep")]),
    ];
    let width = area.width.saturating_sub(4).clamp(20, 70);
    let rect = popup(frame, area, width, 6);
    let block = Block::bordered().title(" Remove torrent ").title_style(BLOCK_TITLE);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }).block(block), rect);
}
