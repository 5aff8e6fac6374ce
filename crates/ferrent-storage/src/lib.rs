//! ferrent-storage
