//! Any input: metainfo parsing never panics, and an accepted torrent survives writing back,
//! re-parsing from its info bytes, and conversion to a magnet link.
#![no_main]

use ferrent_core::{Magnet, Metainfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(m) = Metainfo::from_bytes(data) else { return };
    let lengths = m.info.lengths();
    assert_eq!(lengths.total(), m.info.total_length());
    let mut end = 0;
    for file in &m.info.files {
        assert_eq!(file.offset, end, "files tile the byte stream");
        end = file.range().end;
        let _ = m.info.relative_path(file);
    }
    if m.info.has_v1() {
        assert_eq!(m.info.pieces.len() as u64, u64::from(lengths.piece_count()));
    }
    let written = m.to_torrent_bytes();
    assert_eq!(Metainfo::from_bytes(&written).expect("written torrent parses"), m);
    let bare = Metainfo::from_info_bytes(&m.info_bytes, m.trackers.clone()).expect("info parses");
    assert_eq!((bare.info, bare.info_hashes), (m.info.clone(), m.info_hashes));
    let magnet = m.magnet();
    assert_eq!(Magnet::parse(&magnet.to_uri()).expect("own magnet parses"), magnet);
});
