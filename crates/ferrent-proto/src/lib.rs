//! ferrent-proto
