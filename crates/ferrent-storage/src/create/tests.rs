//! End-to-end tests of torrent creation against a naive reference computation.
//!
//! The interop tests in `ferrent-cli` check the same output against mktorrent and
//! libtorrent; these need no external tools.

use std::cell::Cell;
use std::fs;
use std::path::Path;

use ferrent_core::Metainfo;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::*;

const BLOCK: usize = 16 * 1024;

/// Deterministic pseudo-random bytes (xorshift).
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// The merkle root over `leaves` zero-padded to `width` leaves, computed recursively.
fn naive_root(leaves: &[[u8; 32]], width: usize) -> [u8; 32] {
    if width == 1 {
        return leaves.first().copied().unwrap_or([0; 32]);
    }
    let half = width / 2;
    let (left, right) = leaves.split_at(half.min(leaves.len()));
    let mut sha = Sha256::new();
    sha.update(naive_root(left, half));
    sha.update(naive_root(right, half));
    sha.finalize().into()
}

fn leaves(data: &[u8]) -> Vec<[u8; 32]> {
    data.chunks(BLOCK).map(|b| Sha256::digest(b).into()).collect()
}

/// Writes `files` (relative path, length) under `root` and returns their contents.
fn write_tree(root: &Path, files: &[(&str, usize)]) -> Vec<(String, Vec<u8>)> {
    files
        .iter()
        .enumerate()
        .map(|(i, &(path, len))| {
            let data = bytes(i as u64 + 1, len);
            let full = root.join(path);
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(&full, &data).unwrap();
            (path.to_owned(), data)
        })
        .collect()
}

const TREE: &[(&str, usize)] = &[
    ("b/big.bin", 5 * 1024 * 1024 + 777),
    ("a.txt", 1000),
    ("a/x.bin", 3 * BLOCK),
    ("empty", 0),
    ("z/last", 100_000),
];

#[test]
fn v1_pieces_hash_the_concatenated_stream_on_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    let mut files = write_tree(&root, TREE);
    // mktorrent order: whole paths as bytes.
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let stream: Vec<u8> = files.iter().flat_map(|(_, d)| d.clone()).collect();
    let pl = 32 * 1024;
    let expected: Vec<[u8; 20]> = stream.chunks(pl).map(|p| Sha1::digest(p).into()).collect();

    let mut first = None;
    for threads in [1, 2, 5] {
        let seen = Cell::new(0);
        let torrent = TorrentBuilder::new(&root)
            .piece_length(Some(pl as u64))
            .threads(threads)
            .build(&|done, total| {
                assert_eq!(total, stream.len() as u64);
                assert!(done >= seen.get(), "progress went backwards");
                seen.set(done);
            })
            .unwrap();
        assert_eq!(seen.get(), stream.len() as u64, "progress ends at the total");
        let meta = Metainfo::from_bytes(&torrent).unwrap();
        assert_eq!(meta.info.pieces, expected);
        let paths: Vec<String> = meta.info.files.iter().map(|f| f.path.join("/")).collect();
        let names: Vec<&String> = files.iter().map(|(p, _)| p).collect();
        assert_eq!(paths.iter().collect::<Vec<_>>(), names);
        assert!(!meta.info.has_v2());
        // Identical output whatever the thread count.
        assert_eq!(first.get_or_insert_with(|| torrent.clone()), &torrent);
    }
}

#[test]
fn v2_and_hybrid_match_a_naive_merkle_computation() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    let mut files = write_tree(&root, TREE);
    // File tree order: component by component.
    files.sort_by(|a, b| a.0.split('/').cmp(b.0.split('/')));
    let pl = 64 * 1024;
    let bpp = pl / BLOCK;

    for version in [Version::V2, Version::Hybrid] {
        let torrent = TorrentBuilder::new(&root)
            .piece_length(Some(pl as u64))
            .version(version)
            .build(&|_, _| {})
            .unwrap();
        let meta = Metainfo::from_bytes(&torrent).unwrap();
        assert!(meta.info.has_v2());
        assert_eq!(meta.info.has_v1(), version == Version::Hybrid);
        let real: Vec<_> = meta.info.files.iter().filter(|f| !f.pad).collect();
        assert_eq!(real.len(), files.len());

        let mut padded_stream = Vec::new();
        for (i, (file, (path, data))) in real.iter().zip(&files).enumerate() {
            assert_eq!(&file.path.join("/"), path);
            assert_eq!(file.length, data.len() as u64);
            assert_eq!(file.offset % pl as u64, 0, "{path} is piece-aligned");
            padded_stream.extend_from_slice(data);
            if i + 1 < files.len() {
                padded_stream.resize(padded_stream.len().next_multiple_of(pl), 0);
            }
            if data.is_empty() {
                assert_eq!(file.pieces_root, None);
                continue;
            }
            let leaves = leaves(data);
            let root_hash = naive_root(&leaves, leaves.len().next_power_of_two());
            assert_eq!(file.pieces_root, Some(root_hash), "{path}");
            let layer = meta.piece_layers.get(&root_hash);
            if data.len() <= pl {
                assert!(layer.is_none(), "{path}: no layer for a one-piece file");
            } else {
                let expected: Vec<u8> =
                    leaves.chunks(bpp).flat_map(|piece| naive_root(piece, bpp)).collect();
                assert_eq!(layer, Some(&expected), "{path}");
            }
        }
        if version == Version::Hybrid {
            let expected: Vec<[u8; 20]> =
                padded_stream.chunks(pl).map(|p| Sha1::digest(p).into()).collect();
            assert_eq!(meta.info.pieces, expected);
        }
    }
}

#[test]
fn metadata_fields_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one.bin");
    fs::write(&file, bytes(9, 70_000)).unwrap();
    let torrent = TorrentBuilder::new(&file)
        .trackers(vec![
            vec!["http://a/x".into(), "udp://b:1".into()],
            vec![],
            vec!["http://c/".into()],
        ])
        .web_seeds(vec!["http://seed/".into()])
        .private(true)
        .comment(Some("hello".into()))
        .created_by(Some("ferrent test".into()))
        .creation_date(Some(1_700_000_000))
        .build(&|_, _| {})
        .unwrap();
    let meta = Metainfo::from_bytes(&torrent).unwrap();
    assert_eq!(meta.trackers, [vec!["http://a/x", "udp://b:1"], vec!["http://c/"]]);
    assert_eq!(meta.web_seeds, ["http://seed/"]);
    assert!(meta.info.private && meta.info.single_file);
    assert_eq!(meta.comment.as_deref(), Some("hello"));
    assert_eq!(meta.created_by.as_deref(), Some("ferrent test"));
    assert_eq!(meta.creation_date, Some(1_700_000_000));
    assert_eq!(meta.info.piece_length, auto_piece_length(70_000));
    let decoded = ferrent_bencode::decode(&torrent).unwrap();
    assert_eq!(decoded.get(b"announce").and_then(|v| v.as_str()), Some("http://a/x"));
    // A v1 info dictionary holds exactly mktorrent's keys.
    let keys: Vec<&[u8]> =
        decoded.get(b"info").unwrap().as_dict().unwrap().iter().map(|(k, _)| k).collect();
    assert_eq!(keys, [&b"length"[..], b"name", b"piece length", b"pieces", b"private"]);
}

#[test]
fn bad_settings_and_empty_payloads_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data");
    fs::write(&file, b"abc").unwrap();
    for bad in [0, 1000, 8192, 3 << 20, 128 << 20] {
        let err = TorrentBuilder::new(&file).piece_length(Some(bad)).build(&|_, _| {}).unwrap_err();
        assert!(matches!(err, CreateError::BadPieceLength(n) if n == bad), "{err}");
    }
    let empty = dir.path().join("empty.bin");
    fs::write(&empty, b"").unwrap();
    let err = TorrentBuilder::new(&empty).build(&|_, _| {}).unwrap_err();
    assert!(matches!(err, CreateError::NoData { .. }), "{err}");
    assert!(err.to_string().contains("empty.bin"), "{err}");
}

#[test]
fn auto_piece_length_aims_for_1024_to_2048_pieces() {
    for shift in 0..50u32 {
        for total in [1u64 << shift, (1u64 << shift) + 1, (3u64 << shift) / 2] {
            let pl = auto_piece_length(total);
            assert!(
                pl.is_power_of_two() && (MIN_PIECE_LENGTH..=MAX_AUTO_PIECE_LENGTH).contains(&pl)
            );
            let pieces = total.div_ceil(pl);
            if pl > MIN_PIECE_LENGTH && pl < MAX_AUTO_PIECE_LENGTH {
                assert!((1025..=2048).contains(&pieces), "{total}: {pieces} pieces of {pl}");
            }
        }
    }
}
