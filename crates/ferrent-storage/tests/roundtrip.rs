//! Writing pieces, reading them back, `.part` names and completion.

mod common;

use std::path::Path;

use bytes::Bytes;
use common::*;
use ferrent_core::{Bitfield, BlockRef};
use ferrent_storage::{Storage, StorageError};

/// Piece 0 spans three files, `small` is smaller than a piece, a pad file aligns `big`, and
/// there are empty files at the start, in the middle and at the end.
const MIXED: &[Spec<'static>] = &[
    ("t/empty-first", 0, false),
    ("t/a", 10_000, false),
    ("t/small", 100, false),
    ("t/dir/c", 30_000, false),
    ("t/empty-mid", 0, false),
    ("t/.pad/9052", 3 * P - 40_100, true),
    ("t/dir/sub/big", 3 * P + 77, false),
    ("t/z/empty-last", 0, false),
];

fn exists(root: &Path, p: &str) -> bool {
    root.join(p).symlink_metadata().is_ok()
}

#[test]
fn write_read_round_trip_with_part_renaming() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let layout = layout(MIXED, P);
    let data = stream(&layout, 1);
    let storage = Storage::open(root, layout.clone()).unwrap();
    let lengths = layout.lengths();
    assert_eq!(lengths.piece_count(), 7);
    assert!(!exists(root, "t"), "open creates nothing");

    // Piece 1 lies in c only: c appears as .part, nothing else yet.
    let mut have = Bitfield::new(7);
    let p1 = lengths.piece(1).unwrap();
    storage.write_piece(p1, &blocks(lengths, &data, p1)).unwrap();
    have.set(1, true);
    storage.piece_completed(p1, &have).unwrap();
    assert!(exists(root, "t/dir/c.part"));
    assert_eq!(
        std::fs::metadata(root.join("t/dir/c.part")).unwrap().len(),
        30_000,
        "sparse, full length"
    );
    assert!(!exists(root, "t/a.part") && !exists(root, "t/dir/c"));

    // Piece 0 completes a, small and empty-first; c still needs piece 2.
    let p0 = lengths.piece(0).unwrap();
    storage.write_piece(p0, &blocks(lengths, &data, p0)).unwrap();
    have.set(0, true);
    storage.piece_completed(p0, &have).unwrap();
    for done in ["t/a", "t/small", "t/empty-first"] {
        assert!(exists(root, done), "{done}");
        assert!(!exists(root, &format!("{done}.part")), "{done}.part");
    }
    assert!(exists(root, "t/dir/c.part") && !exists(root, "t/empty-mid"));

    for index in [5, 3, 6, 2, 4] {
        let p = lengths.piece(index).unwrap();
        storage.write_piece(p, &blocks(lengths, &data, p)).unwrap();
        have.set(index, true);
        storage.piece_completed(p, &have).unwrap();
    }
    for f in layout.files() {
        let path = root.join(&f.path);
        if f.pad {
            assert!(!exists(root, f.path.to_str().unwrap()), "pad file created");
            continue;
        }
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(on_disk, data[f.offset as usize..(f.offset + f.length) as usize], "{path:?}");
        assert!(!Path::new(&format!("{}.part", path.display())).exists());
    }

    // Read back every piece and every block, pad ranges included.
    let mut buf = Vec::new();
    for p in lengths.pieces() {
        storage.read_piece(p, &mut buf).unwrap();
        assert_eq!(buf, piece_bytes(lengths, &data, p));
        for n in 0..lengths.block_count(p) {
            let block = lengths.nth_block(p, n).unwrap();
            let mut b = vec![0xee; block.len as usize];
            storage.read_block(block, &mut b).unwrap();
            let start = lengths.piece_offset(p) as usize + block.offset as usize;
            assert_eq!(b, data[start..start + b.len()]);
        }
    }
    // An odd block across the a | small | c boundaries.
    let block = lengths.block(p0, 9_990, 200).unwrap();
    let mut b = vec![0; 200];
    storage.read_block(block, &mut b).unwrap();
    assert_eq!(b, data[9_990..10_190]);
    storage.sync().unwrap();
}

#[test]
fn pad_ranges_read_as_zeros_even_if_sent_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(&[("t/a", 100, false), ("t/.pad/x", P - 100, true), ("t/b", 5, false)], P);
    let storage = Storage::open(dir.path(), layout.clone()).unwrap();
    let p0 = layout.lengths().piece(0).unwrap();
    storage.write_piece(p0, &[Bytes::from(vec![9u8; P as usize])]).unwrap();
    let mut buf = Vec::new();
    storage.read_piece(p0, &mut buf).unwrap();
    assert_eq!(&buf[..100], &[9u8; 100][..]);
    assert!(buf[100..].iter().all(|&b| b == 0));
    assert!(!dir.path().join("t/.pad").exists());
}

#[test]
fn single_file_torrent_lives_at_root_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("not/yet/there");
    let layout = layout(&[("movie.mkv", 3 * P + 1, false)], P);
    let data = stream(&layout, 2);
    let storage = Storage::open(&root, layout).unwrap();
    write_all(&storage, &data, [3, 1, 0]);
    assert!(root.join("movie.mkv.part").exists());
    write_all(&storage, &data, [0, 1, 2, 3]);
    assert_eq!(std::fs::read(root.join("movie.mkv")).unwrap(), data);
    assert!(!root.join("movie.mkv.part").exists());
    assert_eq!(storage.file_path(0), Some(root.join("movie.mkv")));
}

#[test]
fn blocks_of_any_split_are_accepted_and_lengths_checked() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(&[("t/a", 3 * P, false), ("t/b", 2 * P, false)], 2 * P);
    let data = stream(&layout, 3);
    let storage = Storage::open(dir.path(), layout.clone()).unwrap();
    let lengths = layout.lengths();
    let p1 = lengths.piece(1).unwrap();
    let bytes = piece_bytes(lengths, &data, p1);
    let odd: Vec<Bytes> = [1, 5000, 27_000, 767]
        .iter()
        .scan(0, |at, &n| {
            let b = Bytes::copy_from_slice(&bytes[*at..*at + n]);
            *at += n;
            Some(b)
        })
        .collect();
    storage.write_piece(p1, &odd).unwrap();
    let mut buf = Vec::new();
    storage.read_piece(p1, &mut buf).unwrap();
    assert_eq!(buf, bytes);

    let short = [Bytes::from(vec![0u8; 100])];
    let err = storage.write_piece(p1, &short).unwrap_err();
    assert!(
        matches!(err, StorageError::WrongLength { piece: 1, expected: 32768, got: 100 }),
        "{err}"
    );
    let block = BlockRef { piece: p1, offset: 2 * P as u32 - 10, len: 20 };
    let err = storage.read_block(block, &mut [0; 20]).unwrap_err();
    assert!(matches!(err, StorageError::OutOfRange { piece: 1, .. }), "{err}");
    let block = lengths.block(p1, 0, 10).unwrap();
    let err = storage.read_block(block, &mut [0; 11]).unwrap_err();
    assert!(matches!(err, StorageError::WrongLength { expected: 10, got: 11, .. }), "{err}");
    // A piece index valid for a bigger torrent is refused, not a panic.
    let big = common::layout(&[("x", 100 * P, false)], P);
    let p99 = big.lengths().piece(99).unwrap();
    assert!(matches!(
        storage.read_piece(p99, &mut buf),
        Err(StorageError::OutOfRange { piece: 99, .. })
    ));
    assert!(matches!(storage.write_piece(p99, &[]), Err(StorageError::OutOfRange { .. })));
    assert_eq!(storage.layout().files_of_piece(p99), 0..0);
}

#[test]
fn reading_missing_data_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(&[("t/a", P, false), ("t/b", P, false)], P);
    let storage = Storage::open(dir.path(), layout.clone()).unwrap();
    let p1 = layout.lengths().piece(1).unwrap();
    match storage.read_piece(p1, &mut Vec::new()) {
        Err(StorageError::Missing { path }) => assert_eq!(path, dir.path().join("t/b")),
        other => panic!("{other:?}"),
    }
    // A file truncated behind our back is reported as short.
    std::fs::create_dir_all(dir.path().join("t")).unwrap();
    std::fs::write(dir.path().join("t/b"), [1u8; 100]).unwrap();
    match storage.read_piece(p1, &mut Vec::new()) {
        Err(e @ StorageError::ShortFile { len: 100, needed: 16384, .. }) => {
            assert!(e.to_string().contains("t/b"), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn existing_final_file_is_repaired_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(&[("t/a", 2 * P, false)], P);
    let data = stream(&layout, 4);
    put_files(dir.path(), &layout, &data, false);
    let mut damaged = data.clone();
    damaged[5] ^= 1;
    std::fs::write(dir.path().join("t/a"), &damaged).unwrap();
    let storage = Storage::open(dir.path(), layout).unwrap();
    let hashes = hashes(storage.layout(), &data);
    let have = storage.check_existing(&hashes, 1, &|_| {}).unwrap();
    assert_eq!(have.ones().collect::<Vec<_>>(), vec![1]);
    write_all(&storage, &data, [0]);
    assert_eq!(std::fs::read(dir.path().join("t/a")).unwrap(), data);
    assert!(!dir.path().join("t/a.part").exists());
}

#[test]
fn empty_only_torrent_is_completed_by_complete_files() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(&[("t/x", 0, false), ("t/y/z", 0, false)], P);
    let storage = Storage::open(dir.path(), layout).unwrap();
    let have = storage.check_existing(&[], 2, &|_| {}).unwrap();
    storage.complete_files(&have).unwrap();
    assert_eq!(std::fs::metadata(dir.path().join("t/x")).unwrap().len(), 0);
    assert_eq!(std::fs::metadata(dir.path().join("t/y/z")).unwrap().len(), 0);
}

#[test]
fn concurrent_writers_and_readers() {
    let dir = tempfile::tempdir().unwrap();
    let specs: Vec<(String, u64)> =
        (0..40).map(|i| (format!("t/f{i}"), 5_000 + 3_001 * i)).collect();
    let specs: Vec<Spec<'_>> = specs.iter().map(|(p, l)| (p.as_str(), *l, false)).collect();
    let layout = layout(&specs, P);
    let data = stream(&layout, 5);
    let storage = Storage::open_with_limit(dir.path().into(), layout.clone(), 6).unwrap();
    let lengths = layout.lengths();
    let have = std::sync::Mutex::new(Bitfield::new(lengths.piece_count()));
    std::thread::scope(|s| {
        for t in 0..4u32 {
            let (storage, data, have) = (&storage, &data, &have);
            s.spawn(move || {
                for index in shuffled(lengths.piece_count()).into_iter().filter(|i| i % 4 == t) {
                    let p = lengths.piece(index).unwrap();
                    storage.write_piece(p, &blocks(lengths, data, p)).unwrap();
                    let mut buf = Vec::new();
                    storage.read_piece(p, &mut buf).unwrap();
                    assert_eq!(buf, piece_bytes(lengths, data, p));
                    let snapshot = {
                        let mut have = have.lock().unwrap();
                        have.set(index, true);
                        have.clone()
                    };
                    storage.piece_completed(p, &snapshot).unwrap();
                }
            });
        }
    });
    // The last snapshot of some thread may have missed others' pieces: finish with the full set.
    storage.complete_files(&have.lock().unwrap()).unwrap();
    for f in layout.files() {
        let on_disk = std::fs::read(dir.path().join(&f.path)).unwrap();
        assert_eq!(on_disk, data[f.offset as usize..(f.offset + f.length) as usize]);
    }
    storage.sync().unwrap();
}
