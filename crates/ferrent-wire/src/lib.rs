//! ferrent-wire
