//! Real disk-full and read-only file systems, on small tmpfs mounts (needs root; when mounting
//! is impossible each test says so and checks nothing else).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use ferrent_storage::{Storage, StorageError};

/// A tmpfs mounted on a temporary directory, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "ferrent-test"])
            .arg(dir.path())
            .output();
        match out {
            Ok(out) if out.status.success() => Some(Self { dir }),
            Ok(out) => panic!(
                "cannot mount a tmpfs (these tests need root): {}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => panic!("cannot run mount (these tests need root): {e}"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount_read_only(&self) {
        let status = Command::new("mount").args(["-o", "remount,ro"]).arg(self.path()).status();
        assert!(status.unwrap().success(), "remount read-only failed");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

#[test]
fn disk_full_is_reported_and_keeps_earlier_pieces() {
    let Some(fs) = Tmpfs::mount("1m") else { return };
    // 1.5 MiB of data on a 1 MiB file system; 64 KiB pieces, the middle one spans both files.
    let layout = layout(&[("t/a", 700 * 1024, false), ("t/b", 836 * 1024, false)], 4 * P);
    let data = stream(&layout, 31);
    let storage = Storage::open(fs.path(), layout.clone()).unwrap();
    let lengths = layout.lengths();
    let mut written = Vec::new();
    let mut full = None;
    for p in lengths.pieces() {
        match storage.write_piece(p, &blocks(lengths, &data, p)) {
            Ok(()) => written.push(p),
            Err(e) => {
                full = Some(e);
                break;
            }
        }
    }
    let err = full.expect("a 1.5 MiB torrent fit on a 1 MiB tmpfs");
    let expected: PathBuf = fs.path().join("t/b.part");
    match &err {
        StorageError::DiskFull { path, .. } => assert_eq!(path, &expected),
        other => panic!("expected DiskFull, got {other:?}"),
    }
    assert!(err.to_string().contains("disk full") && err.to_string().contains("t/b.part"));
    assert!(written.len() >= 10, "only {} pieces fit", written.len());
    // Pieces written before are intact, including the one spanning both files.
    let mut buf = Vec::new();
    for p in written {
        storage.read_piece(p, &mut buf).unwrap();
        assert_eq!(buf, piece_bytes(lengths, &data, p), "piece {}", p.get());
    }
}

#[test]
fn read_only_file_system_is_reported_and_data_stays_readable() {
    let Some(fs) = Tmpfs::mount("4m") else { return };
    let specs = [
        ("t/a", 3 * P, false),
        ("t/empty", 0, false),
        ("t/sub/b", 3 * P, false),
        ("t/new/c", P, false),
    ];
    let layout = layout(&specs, P);
    let data = stream(&layout, 32);
    let hashes = hashes(&layout, &data);
    {
        let storage = Storage::open(fs.path(), layout.clone()).unwrap();
        write_all(&storage, &data, [0, 1, 2, 3]);
        storage.sync().unwrap();
    }
    fs.remount_read_only();
    let storage = Storage::open(fs.path(), layout.clone()).unwrap();
    let lengths = layout.lengths();
    let expect_read_only = |piece: u32, at: &str, expect_op: &str| {
        let p = lengths.piece(piece).unwrap();
        match storage.write_piece(p, &blocks(lengths, &data, p)) {
            Err(e @ StorageError::ReadOnly { .. }) => {
                let StorageError::ReadOnly { path, op, .. } = &e else { unreachable!() };
                assert_eq!(path, &fs.path().join(at), "{e}");
                assert_eq!(*op, expect_op, "{e}");
                assert!(e.to_string().contains(at), "{e}");
            }
            other => panic!("expected ReadOnly, got {other:?}"),
        }
    };
    expect_read_only(4, "t/sub/b.part", "open");
    expect_read_only(6, "t/new", "create directory");
    // Seeding from a read-only disk works: checking and reading need no write access.
    let have = storage.check_existing(&hashes, 2, &|_| {}).unwrap();
    assert_eq!(have.ones().collect::<Vec<_>>(), [0, 1, 2, 3]);
    let mut buf = Vec::new();
    for p in [1, 3] {
        let p = lengths.piece(p).unwrap();
        storage.read_piece(p, &mut buf).unwrap();
        assert_eq!(buf, piece_bytes(lengths, &data, p));
    }
    // t/a and t/empty are already final, so completing them needs no write, even by a
    // storage that has not looked at the disk yet.
    assert!(fs.path().join("t/empty").exists());
    storage.complete_files(&have).unwrap();
    Storage::open(fs.path(), layout).unwrap().complete_files(&have).unwrap();
}
