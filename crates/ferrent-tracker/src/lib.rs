//! ferrent-tracker
