//! ferrent-session
