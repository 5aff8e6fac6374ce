//! Tables that lose columns gracefully as the terminal narrows.
//!
//! A table lists its layouts from the richest to the poorest; the first one whose fixed
//! columns leave its stretching columns enough room is shown.

use ratatui::layout::{Alignment, Constraint};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Row};

/// Blank cells between two columns.
pub const SPACING: u16 = 1;

/// How a column is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// Exactly this many cells.
    Fixed(u16),
    /// A share of whatever is left: `weight` shares, and at least `min` cells unless even
    /// the poorest layout does not fit.
    Fill {
        /// Its share of the room left.
        weight: u16,
        /// The fewest cells it should get.
        min: u16,
    },
}

/// A table column.
pub trait Column: Copy {
    /// The header.
    fn title(self) -> &'static str;
    /// The width.
    fn width(self) -> Width;
    /// Numbers are right-aligned.
    fn numeric(self) -> bool {
        false
    }
}

/// The first of `layouts` that fits in `width` cells (the last one when none does).
pub fn pick<C: Column>(layouts: &[&'static [C]], width: u16) -> &'static [C] {
    layouts
        .iter()
        .copied()
        .find(|layout| needed(layout) <= width)
        .or_else(|| layouts.last().copied())
        .unwrap_or(&[])
}

/// Cells a layout needs, its stretching columns at their minimum.
fn needed<C: Column>(layout: &[C]) -> u16 {
    let cells: u16 = layout
        .iter()
        .map(|c| match c.width() {
            Width::Fixed(n) => n,
            Width::Fill { min, .. } => min,
        })
        .fold(0, u16::saturating_add);
    let gaps = SPACING.saturating_mul(layout.len().saturating_sub(1) as u16);
    cells.saturating_add(gaps)
}

/// The constraints for a layout.
pub fn constraints<C: Column>(layout: &[C]) -> Vec<Constraint> {
    layout
        .iter()
        .map(|c| match c.width() {
            Width::Fixed(n) => Constraint::Length(n),
            Width::Fill { weight, .. } => Constraint::Fill(weight),
        })
        .collect()
}

/// The header row for a layout.
pub fn header<C: Column>(layout: &[C]) -> Row<'static> {
    let cells = layout.iter().map(|c| aligned(*c, c.title().to_string()));
    Row::new(cells).style(Style::new().add_modifier(Modifier::BOLD))
}

/// A cell holding `text`, aligned as column `column` wants.
pub fn aligned<C: Column>(column: C, text: String) -> Cell<'static> {
    let alignment = if column.numeric() { Alignment::Right } else { Alignment::Left };
    Cell::new(Line::from(text).alignment(alignment))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Col {
        Name,
        Wide,
        Narrow,
    }

    impl Column for Col {
        fn title(self) -> &'static str {
            "x"
        }
        fn width(self) -> Width {
            match self {
                Col::Name => Width::Fill { weight: 1, min: 10 },
                Col::Wide => Width::Fixed(20),
                Col::Narrow => Width::Fixed(5),
            }
        }
    }

    const LAYOUTS: [&[Col]; 3] =
        [&[Col::Name, Col::Wide, Col::Narrow], &[Col::Name, Col::Narrow], &[Col::Name]];

    #[test]
    fn picks_the_richest_layout_that_fits() {
        assert_eq!(pick(&LAYOUTS, 200), LAYOUTS[0]);
        assert_eq!(pick(&LAYOUTS, 37), LAYOUTS[0]);
        assert_eq!(pick(&LAYOUTS, 36), LAYOUTS[1]);
        assert_eq!(pick(&LAYOUTS, 16), LAYOUTS[1]);
        assert_eq!(pick(&LAYOUTS, 15), LAYOUTS[2]);
        assert_eq!(pick(&LAYOUTS, 0), LAYOUTS[2], "the poorest layout when nothing fits");
        assert!(pick::<Col>(&[], 10).is_empty());
    }
}
