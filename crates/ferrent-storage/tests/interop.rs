//! Torrents made by other tools (mktorrent; libtorrent through Debian's python3) are laid out
//! as they expect: our check verifies their data, and pieces copied through [`Storage`] rebuild
//! identical files. A test whose tool is not installed says so and checks nothing else.

mod common;

use std::path::Path;
use std::process::Command;

use ferrent_core::{Bitfield, Metainfo};
use ferrent_storage::{Layout, Storage};

fn write_sources(dir: &Path) {
    std::fs::create_dir_all(dir.join("t/sub")).unwrap();
    let bytes =
        |n: usize, seed: u8| (0..n).map(|i| (i * 31 % 251) as u8 ^ seed).collect::<Vec<_>>();
    std::fs::write(dir.join("t/a"), bytes(50_000, 1)).unwrap();
    std::fs::write(dir.join("t/sub/b"), bytes(70_000, 2)).unwrap();
    std::fs::write(dir.join("t/c"), bytes(333, 3)).unwrap();
}

/// Checks the source data against the torrent, then copies every piece into a fresh directory
/// and compares the resulting files.
fn verify_and_copy(torrent: &[u8], source_root: &Path) {
    let meta = Metainfo::from_bytes(torrent).unwrap();
    let layout = Layout::from_info(&meta.info).unwrap();
    let source = Storage::open(source_root, layout.clone()).unwrap();
    let have = source.check_existing(&meta.info.pieces, 2, &|_| {}).unwrap();
    assert!(have.is_full(), "{} of {} pieces verified", have.count(), have.len());

    let target_dir = tempfile::tempdir().unwrap();
    let target = Storage::open(target_dir.path(), layout.clone()).unwrap();
    let mut buf = Vec::new();
    let mut copied = Bitfield::new(have.len());
    for p in layout.lengths().pieces() {
        source.read_piece(p, &mut buf).unwrap();
        target.write_piece(p, &[bytes::Bytes::copy_from_slice(&buf)]).unwrap();
        copied.set(p.get(), true);
        target.piece_completed(p, &copied).unwrap();
    }
    for f in layout.files() {
        let copy = target_dir.path().join(&f.path);
        if f.pad {
            assert!(!copy.exists(), "pad file {copy:?} created");
        } else {
            assert_eq!(
                std::fs::read(&copy).unwrap(),
                std::fs::read(source_root.join(&f.path)).unwrap()
            );
        }
    }
}

#[test]
fn mktorrent_multi_file_torrent() {
    let dir = tempfile::tempdir().unwrap();
    write_sources(dir.path());
    let torrent = dir.path().join("t.torrent");
    let out = Command::new("mktorrent")
        .args(["-l", "15", "-o"])
        .arg(&torrent)
        .arg(dir.path().join("t"))
        .output();
    match out {
        Ok(out) => assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr)),
        Err(e) => panic!("cannot run mktorrent (install it: scripts/setup.sh): {e}"),
    }
    verify_and_copy(&std::fs::read(torrent).unwrap(), dir.path());
}

#[test]
fn libtorrent_hybrid_torrent_with_pad_and_empty_files() {
    let dir = tempfile::tempdir().unwrap();
    write_sources(dir.path());
    std::fs::write(dir.path().join("t/empty"), b"").unwrap();
    let script = "import libtorrent as lt, sys\n\
        fs = lt.file_storage(); lt.add_files(fs, sys.argv[1] + '/t')\n\
        t = lt.create_torrent(fs, 16384); lt.set_piece_hashes(t, sys.argv[1])\n\
        sys.stdout.buffer.write(lt.bencode(t.generate()))\n";
    let probe = Command::new("/usr/bin/python3").args(["-c", "import libtorrent"]).output();
    assert!(
        probe.as_ref().is_ok_and(|p| p.status.success()),
        "python3-libtorrent is not installed (scripts/setup.sh): {probe:?}"
    );
    let out = Command::new("/usr/bin/python3").args(["-c", script]).arg(dir.path()).output();
    let out = out.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = out.stdout;
    let meta = Metainfo::from_bytes(&out).unwrap();
    assert!(meta.info.files.iter().any(|f| f.pad), "expected pad files in a hybrid torrent");
    verify_and_copy(&out, dir.path());
}
