//! The ferrent daemon (being written).
