//! Nothing is ever written outside the download directory: path escapes, planted symbolic
//! links, FIFOs and files in the way of directories.

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;

use bytes::Bytes;
use common::*;
use ferrent_core::{Bitfield, Lengths};
use ferrent_storage::{Layout, LayoutFile, PathProblem, Storage, StorageError};

fn assert_unsafe(result: Result<(), StorageError>, expect: PathProblem, at: &Path) {
    match result {
        Err(e @ StorageError::UnsafePath { .. }) => {
            let StorageError::UnsafePath { path, reason } = &e else { unreachable!() };
            assert_eq!(*reason, expect, "{e}");
            assert_eq!(path, at, "{e}");
            assert!(e.to_string().contains(&at.display().to_string()), "{e}");
        }
        other => panic!("expected UnsafePath({expect:?}), got {other:?}"),
    }
}

fn dir_is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

fn write_piece0(storage: &Storage) -> Result<(), StorageError> {
    let lengths = storage.layout().lengths();
    let p0 = lengths.piece(0).unwrap();
    storage.write_piece(p0, &[Bytes::from(vec![1u8; lengths.piece_len(p0) as usize])])
}

#[test]
fn escaping_paths_are_refused_before_any_io() {
    let lengths = Lengths::new(10, P).unwrap();
    let cases: &[(&str, PathProblem)] = &[
        ("../evil", PathProblem::ParentDir),
        ("t/../../evil", PathProblem::ParentDir),
        ("/etc/evil", PathProblem::Absolute),
        ("t\\..\\..\\evil", PathProblem::Backslash),
        ("C:evil", PathProblem::DriveLetter),
        ("t/./x", PathProblem::CurrentDir),
        ("t//x", PathProblem::EmptyComponent),
        ("", PathProblem::Empty),
    ];
    for &(path, expect) in cases {
        let file = LayoutFile { path: path.into(), length: 10, offset: 0, pad: false };
        match Layout::new(vec![file], lengths) {
            Err(StorageError::UnsafePath { reason, .. }) => assert_eq!(reason, expect, "{path}"),
            other => panic!("{path}: {other:?}"),
        }
        assert!(ferrent_storage::validate_relative(Path::new(path)).is_err());
    }
}

#[test]
fn symlinked_torrent_directory_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    symlink(elsewhere.path(), dir.path().join("t")).unwrap();
    let layout = layout(&[("t/a", 100, false), ("t/b", P, false)], P);
    let storage = Storage::open(dir.path(), layout.clone()).unwrap();
    assert_unsafe(write_piece0(&storage), PathProblem::Symlink, &dir.path().join("t"));
    assert!(dir_is_empty(elsewhere.path()), "something was written through the link");
    // Reading and checking refuse it as well rather than reading someone else's files.
    let err = storage.read_piece(layout.lengths().piece(0).unwrap(), &mut Vec::new());
    assert!(matches!(err, Err(StorageError::UnsafePath { reason: PathProblem::Symlink, .. })));
    let err = storage.check_existing(&[[0; 20]; 2], 1, &|_| {});
    assert!(matches!(err, Err(StorageError::UnsafePath { reason: PathProblem::Symlink, .. })));
    let mut have = Bitfield::new(2);
    have.set(0, true);
    have.set(1, true);
    assert!(storage.complete_files(&have).is_err());
    assert!(dir_is_empty(elsewhere.path()));
}

#[test]
fn symlinked_single_file_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let victim = elsewhere.path().join("victim");
    std::fs::write(&victim, b"precious").unwrap();
    symlink(&victim, dir.path().join("movie.mkv.part")).unwrap();
    let storage = Storage::open(dir.path(), layout(&[("movie.mkv", P, false)], P)).unwrap();
    assert_unsafe(write_piece0(&storage), PathProblem::Symlink, &dir.path().join("movie.mkv.part"));
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");

    // A link at the final name is neither written through nor read.
    std::fs::remove_file(dir.path().join("movie.mkv.part")).unwrap();
    symlink(&victim, dir.path().join("movie.mkv")).unwrap();
    assert_unsafe(write_piece0(&storage), PathProblem::Symlink, &dir.path().join("movie.mkv"));
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
}

#[test]
fn symlinked_subdirectory_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("t/x")).unwrap();
    symlink(elsewhere.path(), dir.path().join("t/x/sub")).unwrap();
    let layout = layout(&[("t/x/sub/deeper/f", P, false)], P);
    let storage = Storage::open(dir.path(), layout).unwrap();
    assert_unsafe(write_piece0(&storage), PathProblem::Symlink, &dir.path().join("t/x/sub"));
    assert!(dir_is_empty(elsewhere.path()));
    // A relative link climbing out is refused the same way.
    std::fs::remove_file(dir.path().join("t/x/sub")).unwrap();
    symlink("../../..", dir.path().join("t/x/sub")).unwrap();
    assert_unsafe(write_piece0(&storage), PathProblem::Symlink, &dir.path().join("t/x/sub"));
}

#[test]
fn link_at_final_name_is_replaced_on_completion_not_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let victim = elsewhere.path().join("victim");
    std::fs::write(&victim, b"precious").unwrap();
    let layout = layout(&[("t/a", P, false)], P);
    let data = stream(&layout, 21);
    let storage = Storage::open(dir.path(), layout).unwrap();
    let lengths = storage.layout().lengths();
    let p0 = lengths.piece(0).unwrap();
    storage.write_piece(p0, &blocks(lengths, &data, p0)).unwrap();
    // Planted after the .part file exists.
    symlink(&victim, dir.path().join("t/a")).unwrap();
    storage.piece_completed(p0, &Bitfield::full(1)).unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    let final_meta = std::fs::symlink_metadata(dir.path().join("t/a")).unwrap();
    assert!(final_meta.is_file());
    assert_eq!(std::fs::read(dir.path().join("t/a")).unwrap(), data);
}

#[test]
fn fifo_and_directory_in_the_way_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("t")).unwrap();
    let fifo = dir.path().join("t/a.part");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid path string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let storage = Storage::open(dir.path(), layout(&[("t/a", P, false)], P)).unwrap();
    assert_unsafe(write_piece0(&storage), PathProblem::NotARegularFile, &fifo);
    let err = storage.check_existing(&[[0; 20]], 1, &|_| {});
    assert!(matches!(
        err,
        Err(StorageError::UnsafePath { reason: PathProblem::NotARegularFile, .. })
    ));

    std::fs::remove_file(&fifo).unwrap();
    std::fs::create_dir(&fifo).unwrap();
    assert_unsafe(write_piece0(&storage), PathProblem::NotARegularFile, &fifo);

    // A regular file where a directory must be.
    let storage = Storage::open(dir.path(), layout(&[("t/a.part/x", P, false)], P)).unwrap();
    std::fs::remove_dir(&fifo).unwrap();
    std::fs::write(&fifo, b"file").unwrap();
    assert_unsafe(write_piece0(&storage), PathProblem::NotADirectory, &fifo);
}
