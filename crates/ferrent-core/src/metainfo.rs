//! Metainfo (placeholder; see the foundation work).
