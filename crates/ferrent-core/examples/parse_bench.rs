//! Times `Metainfo::from_bytes` on generated torrents with many files and prints one JSON line.
//!
//! ```text
//! cargo run --release -p ferrent-core --example parse_bench [FILES] [RUNS]
//! {"bench":"metainfo_parse","files":50000,"runs":9,"v1_bytes":...,"median_ms":...,
//!  "v1_decode_ms":...,"v2_bytes":...,"v2_median_ms":...}
//! ```
//! `median_ms` is the full parse of a v1 multi-file torrent (`v1_decode_ms` of that: the
//! bencode decoding alone); `v2_median_ms` a v2-only torrent with the same files in a
//! nested file tree.

use std::time::Instant;

use ferrent_bencode::OwnedValue;
use ferrent_core::Metainfo;

const PIECE_LENGTH: i64 = 1 << 16;

/// File `i`: its path components and a length between 1 and 64 KiB.
fn file(i: usize) -> (Vec<String>, i64) {
    let path = vec![
        format!("dir{:03}", i / 1000),
        format!("sub{:02}", (i / 50) % 20),
        format!("file-{i:06}.dat"),
    ];
    let length = 1 + ((i as i64).wrapping_mul(7919) % PIECE_LENGTH);
    (path, length)
}

fn v1_torrent(count: usize) -> Vec<u8> {
    let mut total = 0;
    let files = (0..count).map(|i| {
        let (path, length) = file(i);
        total += length;
        OwnedValue::dict([
            ("length", OwnedValue::from(length)),
            ("path", OwnedValue::list(path.into_iter().map(OwnedValue::from))),
        ])
    });
    let files = OwnedValue::list(files);
    let pieces = (total as u64).div_ceil(PIECE_LENGTH as u64) as usize;
    let info = OwnedValue::dict([
        ("name", OwnedValue::from("bench")),
        ("piece length", OwnedValue::from(PIECE_LENGTH)),
        ("pieces", OwnedValue::from(vec![0xabu8; pieces * 20])),
        ("files", files),
    ]);
    OwnedValue::dict([
        ("announce", OwnedValue::from("http://127.0.0.1:6969/announce")),
        ("info", info),
    ])
    .encode()
}

fn v2_torrent(count: usize) -> Vec<u8> {
    // Every file fits one piece, so no piece layers are needed.
    let mut tree = OwnedValue::dict::<&str>([]);
    for i in 0..count {
        let (path, length) = file(i);
        let mut node = &mut tree;
        for component in &path {
            let OwnedValue::Dict(map) = node else { unreachable!("tree nodes are dicts") };
            node = map
                .entry(component.clone().into_bytes())
                .or_insert_with(|| OwnedValue::dict::<&str>([]));
        }
        let mut root = [0u8; 32];
        root[..8].copy_from_slice(&(i as u64).to_be_bytes());
        *node = OwnedValue::dict([(
            "",
            OwnedValue::dict([
                ("length", OwnedValue::from(length)),
                ("pieces root", OwnedValue::from(&root[..])),
            ]),
        )]);
    }
    let info = OwnedValue::dict([
        ("name", OwnedValue::from("bench")),
        ("piece length", OwnedValue::from(PIECE_LENGTH)),
        ("meta version", OwnedValue::from(2)),
        ("file tree", tree),
    ]);
    OwnedValue::dict([("info", info)]).encode()
}

/// Median wall time of `runs` calls of `f`, in milliseconds.
fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Median time of a full parse, checking the result once.
fn parse_ms(bytes: &[u8], runs: usize, files: usize) -> f64 {
    let m = Metainfo::from_bytes(bytes).expect("generated torrent is valid");
    assert_eq!(m.info.files.iter().filter(|f| !f.pad).count(), files);
    median_ms(runs, || drop(Metainfo::from_bytes(bytes)))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let files: usize = args.next().map_or(50_000, |a| a.parse().expect("FILES is a number"));
    let runs: usize = args.next().map_or(9, |a| a.parse().expect("RUNS is a number")).max(1);
    let v1 = v1_torrent(files);
    let v2 = v2_torrent(files);
    let v1_ms = parse_ms(&v1, runs, files);
    let v2_ms = parse_ms(&v2, runs, files);
    let decode_ms = median_ms(runs, || drop(ferrent_bencode::decode(&v1)));
    println!(
        "{{\"bench\":\"metainfo_parse\",\"files\":{files},\"runs\":{runs},\"v1_bytes\":{},\
         \"median_ms\":{v1_ms:.3},\"v1_decode_ms\":{decode_ms:.3},\"v2_bytes\":{},\"v2_median_ms\":{v2_ms:.3}}}",
        v1.len(),
        v2.len()
    );
}
