//! A one-line text input with the usual editing keys, and the parsing of what the limits
//! prompt reads.

use ferrent_daemon::model::Limits;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// An editable line of text with a cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineInput {
    text: String,
    /// The cursor, as a byte offset on a character boundary of `text`.
    cursor: usize,
}

impl LineInput {
    /// A line holding `initial`, the cursor at its end.
    pub fn new(initial: &str) -> Self {
        Self { text: initial.to_string(), cursor: initial.len() }
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text before the cursor.
    pub fn before_cursor(&self) -> &str {
        self.text.get(..self.cursor).unwrap_or(&self.text)
    }

    /// Applies an editing key: characters, Backspace, Delete, Left, Right, Home/Ctrl-A,
    /// End/Ctrl-E, Ctrl-U (clear to start), Ctrl-K (clear to end), Ctrl-W (delete a word).
    /// Returns whether the key was an editing key.
    pub fn handle(&mut self, key: KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = self.text.len(),
            KeyCode::Char('u') if ctrl => {
                self.text.replace_range(..self.cursor, "");
                self.cursor = 0;
            }
            KeyCode::Char('k') if ctrl => self.text.truncate(self.cursor),
            KeyCode::Char('w') if ctrl => {
                let before = self.before_cursor().trim_end();
                let start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
                self.text.replace_range(start..self.cursor, "");
                self.cursor = start;
            }
            KeyCode::Char(_) if ctrl => return false,
            KeyCode::Char(c) => {
                self.text.insert(self.cursor, c);
                self.cursor += c.len_utf8();
            }
            KeyCode::Backspace => {
                if let Some(c) = self.before_cursor().chars().next_back() {
                    self.cursor -= c.len_utf8();
                    self.text.remove(self.cursor);
                }
            }
            KeyCode::Delete => {
                if self.cursor < self.text.len() {
                    self.text.remove(self.cursor);
                }
            }
            KeyCode::Left => {
                if let Some(c) = self.before_cursor().chars().next_back() {
                    self.cursor -= c.len_utf8();
                }
            }
            KeyCode::Right => {
                if let Some(c) = self.text.get(self.cursor..).and_then(|rest| rest.chars().next()) {
                    self.cursor += c.len_utf8();
                }
            }
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.text.len(),
            _ => return false,
        }
        true
    }
}

/// Parses `DOWN UP` rate caps (K, M, G suffixes; 0 = unlimited; `-` keeps a cap as it is).
pub fn parse_limits(text: &str) -> Result<Limits, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [down, up] = words.as_slice() else {
        return Err(format!("expected two rates, download then upload, got {:?}", text.trim()));
    };
    let rate = |word: &str, which: &str| match word {
        "-" => Ok(None),
        _ => crate::create::parse_size(word).map(Some).map_err(|e| format!("{which} rate: {e}")),
    };
    Ok(Limits { download: rate(down, "download")?, upload: rate(up, "upload")? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(input: &mut LineInput, code: KeyCode) -> bool {
        input.handle(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn ctrl(input: &mut LineInput, c: char) -> bool {
        input.handle(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
    }

    fn typed(text: &str) -> LineInput {
        let mut input = LineInput::default();
        for c in text.chars() {
            assert!(press(&mut input, KeyCode::Char(c)));
        }
        input
    }

    #[test]
    fn edits_at_the_cursor() {
        let mut input = typed("héllo wörld");
        assert_eq!(input.text(), "héllo wörld");
        press(&mut input, KeyCode::Backspace);
        press(&mut input, KeyCode::Left);
        press(&mut input, KeyCode::Left);
        press(&mut input, KeyCode::Char('Ö'));
        assert_eq!(input.text(), "héllo wöÖrl");
        assert_eq!(input.before_cursor(), "héllo wöÖ");
        press(&mut input, KeyCode::Delete);
        assert_eq!(input.text(), "héllo wöÖl");
        press(&mut input, KeyCode::Home);
        press(&mut input, KeyCode::Right);
        press(&mut input, KeyCode::Right);
        press(&mut input, KeyCode::Backspace);
        assert_eq!(input.text(), "hllo wöÖl");
        ctrl(&mut input, 'e');
        ctrl(&mut input, 'w');
        assert_eq!(input.text(), "hllo ");
        ctrl(&mut input, 'a');
        ctrl(&mut input, 'k');
        assert_eq!(input.text(), "");
        // Nothing to delete or move over: no change, no panic.
        press(&mut input, KeyCode::Backspace);
        press(&mut input, KeyCode::Delete);
        press(&mut input, KeyCode::Left);
        press(&mut input, KeyCode::Right);
        assert_eq!(input, LineInput::default());
    }

    #[test]
    fn ctrl_u_clears_to_the_start_and_other_keys_are_not_edits() {
        let mut input = LineInput::new("magnet:?xt");
        press(&mut input, KeyCode::Left);
        ctrl(&mut input, 'u');
        assert_eq!(input.text(), "t");
        assert!(!press(&mut input, KeyCode::Enter));
        assert!(!press(&mut input, KeyCode::Esc));
        assert!(!ctrl(&mut input, 'x'));
        assert_eq!(input.text(), "t");
    }

    #[test]
    fn limits_parse_two_rates() {
        assert_eq!(
            parse_limits("1M 100K"),
            Ok(Limits { download: Some(1 << 20), upload: Some(100 << 10) })
        );
        assert_eq!(parse_limits("  0   -  "), Ok(Limits { download: Some(0), upload: None }));
        assert!(parse_limits("1M").unwrap_err().contains("two rates"));
        assert!(parse_limits("1M 2M 3M").unwrap_err().contains("two rates"));
        assert!(parse_limits("1M fast").unwrap_err().starts_with("upload rate"));
        assert!(parse_limits("9X 1").unwrap_err().starts_with("download rate"));
    }
}
