//! Magnet links (placeholder; see the foundation work).
