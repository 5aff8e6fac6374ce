//! Thousands of files through a small open-file cache. One test in this binary so that the
//! descriptor count is not disturbed by other tests.

mod common;

use common::*;
use ferrent_storage::Storage;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn thousands_of_files_with_eight_descriptors() {
    let dir = tempfile::tempdir().unwrap();
    // 3000 files of 1..=4000 bytes in 30 directories; many share a piece.
    let paths: Vec<(String, u64)> = (0..3000u64)
        .map(|i| (format!("many/d{}/f{i}.bin", i % 30), 1 + (i * 7919) % 4000))
        .collect();
    let specs: Vec<Spec<'_>> = paths.iter().map(|(p, l)| (p.as_str(), *l, false)).collect();
    let layout = layout(&specs, P);
    let data = stream(&layout, 41);
    let hashes = hashes(&layout, &data);
    let limit = 8;
    let storage = Storage::open_with_limit(dir.path().into(), layout.clone(), limit).unwrap();
    let before = open_fds();
    let pieces = layout.lengths().piece_count();
    write_all(&storage, &data, shuffled(pieces));
    assert!(
        open_fds() <= before + limit + 1,
        "{} descriptors open, limit {limit}",
        open_fds() - before
    );

    for f in layout.files() {
        let on_disk = std::fs::read(dir.path().join(&f.path)).unwrap();
        assert_eq!(on_disk, data[f.offset as usize..(f.offset + f.length) as usize]);
    }
    let mut parts = 0;
    for d in std::fs::read_dir(dir.path().join("many")).unwrap() {
        for f in std::fs::read_dir(d.unwrap().path()).unwrap() {
            parts += usize::from(f.unwrap().path().extension().is_some_and(|e| e == "part"));
        }
    }
    assert_eq!(parts, 0, "every file was renamed");

    let storage = Storage::open_with_limit(dir.path().into(), layout, limit).unwrap();
    assert!(storage.check_existing(&hashes, 2, &|_| {}).unwrap().is_full());
    let mut buf = Vec::new();
    for p in shuffled(pieces).into_iter().take(50) {
        let p = storage.layout().lengths().piece(p).unwrap();
        storage.read_piece(p, &mut buf).unwrap();
        assert_eq!(buf, piece_bytes(storage.layout().lengths(), &data, p));
    }
    assert!(open_fds() <= before + 2 * (limit + 1), "root and cached files only");
}
