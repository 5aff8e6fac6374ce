//! Measures `Storage::check_existing` on data in the page cache.
//!
//! `cargo run --release -p ferrent-storage --example check_speed -- [MiB] [files]` writes that
//! much data (default 1024 MiB in 4 files) under a temporary directory, reads it once to warm
//! the cache, then times the check on 1 and 2 threads.

use std::time::Instant;

use ferrent_core::Lengths;
use ferrent_storage::{Layout, LayoutFile, Storage};
use sha1::{Digest, Sha1};

/// CPU seconds (user + system) used by this process so far.
fn cpu_seconds() -> f64 {
    // SAFETY: an all-zero `rusage` is valid, and getrusage only writes into it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage`.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>().expect("a number"));
    let mib = args.next().unwrap_or(1024);
    let file_count = args.next().unwrap_or(4).max(1);
    let total = mib << 20;
    let piece_length = 256 << 10;
    let dir = tempfile::tempdir().expect("temporary directory");
    let file_len = total / file_count;
    let files: Vec<LayoutFile> = (0..file_count)
        .map(|i| LayoutFile {
            path: format!("speed/f{i}").into(),
            length: if i + 1 == file_count { total - file_len * i } else { file_len },
            offset: file_len * i,
            pad: false,
        })
        .collect();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut data = vec![0u8; total as usize];
    for chunk in data.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
    std::fs::create_dir_all(dir.path().join("speed")).expect("mkdir");
    for f in &files {
        let range = f.offset as usize..(f.offset + f.length) as usize;
        std::fs::write(dir.path().join(&f.path), &data[range]).expect("write");
    }
    let (start, cpu) = (Instant::now(), cpu_seconds());
    let hashes: Vec<[u8; 20]> =
        data.chunks(piece_length as usize).map(|p| Sha1::digest(p).into()).collect();
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    println!(
        "SHA-1 alone, 1 thread: {secs:.3} s wall, {cpu:.3} s CPU, {:.0} MiB/s",
        mib as f64 / secs
    );
    drop(data);
    let layout =
        Layout::new(files, Lengths::new(total, piece_length).expect("geometry")).expect("layout");
    let storage = Storage::open(dir.path(), layout).expect("storage");
    for threads in [1, 1, 2] {
        let (start, cpu) = (Instant::now(), cpu_seconds());
        let have = storage.check_existing(&hashes, threads, &|_| {}).expect("check");
        let secs = start.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu;
        assert!(have.is_full());
        println!(
            "{mib} MiB, {threads} thread(s): {secs:.3} s wall, {cpu:.3} s CPU, {:.0} MiB/s",
            mib as f64 / secs
        );
    }
}
