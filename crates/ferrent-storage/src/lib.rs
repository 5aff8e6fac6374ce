//! ferrent-storage

pub mod create;
