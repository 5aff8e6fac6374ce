//! The speed graph: the session's download and upload rates over the last minutes.

use super::{BLOCK_TITLE, DIM, DOWN, UP};
use crate::tui::app::App;
use crate::tui::format;
use crate::tui::history::WINDOW;
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph};
use ratatui::Frame;

/// The shortest time span the graph shows, so that a fresh start is not stretched.
const MIN_SPAN_SECS: f64 = 60.0;

/// Draws the graph, titled with the current rates.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let history = app.history();
    let latest = history.latest();
    let title = Line::from(vec![
        Span::styled(" Speed ", BLOCK_TITLE),
        Span::styled(format!("↓ {} ", format::rate(latest.map_or(0, |s| s.down))), DOWN),
        Span::styled(format!("↑ {} ", format::rate(latest.map_or(0, |s| s.up))), UP),
    ]);
    let block = Block::bordered().title(title);
    if history.len() < 2 {
        frame.render_widget(Paragraph::new("Collecting rates…").style(DIM).block(block), area);
        return;
    }
    let span = history.span().as_secs_f64().clamp(MIN_SPAN_SECS, WINDOW.as_secs_f64());
    // A little headroom above the peak; at least 1 KiB/s so that idle is a flat line.
    let top = (history.peak() as f64 * 1.1).max(1024.0);
    let (down, up) = history.points();
    let datasets = vec![
        Dataset::default()
            .name("down")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(DOWN)
            .data(&down),
        Dataset::default()
            .name("up")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(UP)
            .data(&up),
    ];
    let x_labels = vec![Span::raw(format!("-{}", format::duration(span as u64))), Span::raw("now")];
    let y_labels = vec![Span::raw("0"), Span::raw(format::rate(top as u64))];
    let chart = Chart::new(datasets)
        .block(block)
        .legend_position(None)
        .x_axis(Axis::default().bounds([-span, 0.0]).labels(x_labels).style(DIM))
        .y_axis(Axis::default().bounds([0.0, top]).labels(y_labels).style(DIM));
    frame.render_widget(chart, area);
}
