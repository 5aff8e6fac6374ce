//! ferrent-bencode
