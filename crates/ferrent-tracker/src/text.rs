//! Making text that came from a tracker safe to log and print.

/// The longest tracker-supplied message kept, in characters; the rest is cut off.
pub const MAX_MESSAGE_CHARS: usize = 512;

/// Turns bytes from a tracker into printable text.
///
/// Invalid UTF-8 is replaced, control characters (which could drive a terminal) become
/// `\u{FFFD}`, surrounding whitespace is trimmed, and the result is cut to
/// [`MAX_MESSAGE_CHARS`] characters.
pub(crate) fn printable(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    for (count, c) in text.trim().chars().enumerate() {
        if count == MAX_MESSAGE_CHARS {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { '\u{FFFD}' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_replaced_and_text_is_trimmed() {
        assert_eq!(
            printable(b"  bad \x1b[31mred\x07 torrent\n"),
            "bad \u{FFFD}[31mred\u{FFFD} torrent"
        );
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(printable(b"caf\xe9"), "caf\u{FFFD}");
    }

    #[test]
    fn long_text_is_cut() {
        let long = vec![b'a'; MAX_MESSAGE_CHARS + 10];
        let out = printable(&long);
        assert_eq!(out.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(out.ends_with('…'));
        let exact = vec![b'b'; MAX_MESSAGE_CHARS];
        assert_eq!(printable(&exact).chars().count(), MAX_MESSAGE_CHARS);
    }
}
