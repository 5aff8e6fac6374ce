//! `check_existing`: verifying data already on disk.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::*;
use ferrent_core::Bitfield;
use ferrent_storage::{Storage, StorageError};

/// Piece 1 spans three files; pad aligns the last file.
const FILES: &[Spec<'static>] = &[
    ("t/a", P + 1000, false),
    ("t/b", 300, false),
    ("t/c", 2 * P, false),
    ("t/.pad/x", 5 * P - (3 * P + 1300), true),
    ("t/d/e", 4 * P + 5, false),
    ("t/zero", 0, false),
];

fn ones(bf: &Bitfield) -> Vec<u32> {
    bf.ones().collect()
}

fn check(storage: &Storage, hashes: &[[u8; 20]], threads: usize) -> Bitfield {
    let last = AtomicU32::new(0);
    let calls = AtomicU32::new(0);
    let have = storage
        .check_existing(hashes, threads, &|n| {
            calls.fetch_add(1, Ordering::Relaxed);
            last.fetch_max(n, Ordering::Relaxed);
        })
        .unwrap();
    assert_eq!(last.load(Ordering::Relaxed), storage.layout().lengths().piece_count());
    assert!(calls.load(Ordering::Relaxed) >= 1);
    have
}

#[test]
fn finds_everything_under_final_names() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(FILES, P);
    let data = stream(&layout, 11);
    put_files(dir.path(), &layout, &data, false);
    let storage = Storage::open(dir.path(), layout.clone()).unwrap();
    let hashes = hashes(&layout, &data);
    assert_eq!(layout.lengths().piece_count(), 10);
    for threads in [0, 1, 2, 7] {
        assert!(check(&storage, &hashes, threads).is_full(), "threads {threads}");
    }
}

#[test]
fn corrupt_missing_and_short_files_mean_missing_pieces() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let layout = layout(FILES, P);
    let data = stream(&layout, 12);
    put_files(root, &layout, &data, false);
    let hashes = hashes(&layout, &data);
    let storage = Storage::open(root, layout.clone()).unwrap();

    // One flipped byte in c's second half: piece 2.
    let mut c = std::fs::read(root.join("t/c")).unwrap();
    c[P as usize + 100] ^= 0x40;
    std::fs::write(root.join("t/c"), &c).unwrap();
    assert_eq!(ones(&check(&storage, &hashes, 2)), [0, 1, 3, 4, 5, 6, 7, 8, 9]);

    // b missing: piece 1 (a | b | c) goes too; a and c stay readable.
    std::fs::remove_file(root.join("t/b")).unwrap();
    assert_eq!(ones(&check(&storage, &hashes, 2)), [0, 3, 4, 5, 6, 7, 8, 9]);

    // e cut short in its third piece: pieces 7.. go.
    let e = root.join("t/d/e");
    let file = std::fs::OpenOptions::new().write(true).open(&e).unwrap();
    file.set_len(2 * P + 10).unwrap();
    assert_eq!(ones(&check(&storage, &hashes, 3)), [0, 3, 4, 5, 6]);

    // Longer than expected is fine: the extra bytes are not part of the torrent.
    let mut longer = data[(5 * P) as usize..].to_vec();
    longer.extend_from_slice(b"trailing junk");
    std::fs::write(&e, longer).unwrap();
    assert_eq!(ones(&check(&storage, &hashes, 1)), [0, 3, 4, 5, 6, 7, 8, 9]);
}

#[test]
fn part_files_are_found_and_completed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let layout = layout(FILES, P);
    let data = stream(&layout, 13);
    put_files(root, &layout, &data, true);
    // A final name wins over a stale .part.
    std::fs::write(root.join("t/a"), &data[..(P + 1000) as usize]).unwrap();
    std::fs::write(root.join("t/a.part"), b"stale").unwrap();
    std::fs::remove_file(root.join("t/d/e.part")).unwrap();
    let hashes = hashes(&layout, &data);
    let storage = Storage::open(root, layout.clone()).unwrap();
    let mut have = check(&storage, &hashes, 2);
    assert_eq!(ones(&have), [0, 1, 2, 3, 4]);
    storage.complete_files(&have).unwrap();
    assert!(root.join("t/b").exists() && root.join("t/c").exists() && root.join("t/zero").exists());
    assert!(!root.join("t/b.part").exists() && !root.join("t/c.part").exists());
    assert!(!root.join("t/d/e").exists());
    assert_eq!(std::fs::read(root.join("t/a.part")).unwrap(), b"stale");

    // Download the rest; e is born as .part and renamed at the end.
    write_pieces(&storage, &data, [9, 8, 7, 6], &mut have);
    assert!(root.join("t/d/e.part").exists());
    write_pieces(&storage, &data, [5], &mut have);
    assert_eq!(std::fs::read(root.join("t/d/e")).unwrap(), &data[(5 * P) as usize..]);
    assert!(check(&storage, &hashes, 2).is_full());
}

#[test]
fn nothing_on_disk_reads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(FILES, P);
    let storage = Storage::open(&dir.path().join("absent"), layout.clone()).unwrap();
    let hashes = hashes(&layout, &stream(&layout, 14));
    // Piece 4 is all padding: it needs nothing from the disk.
    assert_eq!(ones(&check(&storage, &hashes, 2)), [4]);
    assert!(!dir.path().join("absent").exists(), "checking creates nothing");
}

#[test]
fn wrong_hash_count_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), layout(FILES, P)).unwrap();
    let err = storage.check_existing(&[[0; 20]; 3], 1, &|_| {}).unwrap_err();
    assert!(matches!(err, StorageError::HashCount { expected: 10, got: 3 }), "{err}");
}

#[test]
fn many_pieces_per_run_and_sparse_part_files() {
    // 300 small pieces: several runs of 64 pieces; only the written ones verify even though
    // the sparse .part file is full length (its holes read as zeros).
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(&[("big.bin", 300 * P - 7, false)], P);
    let data = stream(&layout, 15);
    let hashes = hashes(&layout, &data);
    let storage = Storage::open(dir.path(), layout).unwrap();
    let written: Vec<u32> = (0..300).filter(|i| i % 7 == 3 || *i == 299).collect();
    write_all(&storage, &data, written.iter().copied());
    assert_eq!(std::fs::metadata(dir.path().join("big.bin.part")).unwrap().len(), 300 * P - 7);
    assert_eq!(ones(&check(&storage, &hashes, 2)), written);
}
