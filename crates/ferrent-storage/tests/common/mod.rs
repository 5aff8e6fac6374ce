//! Shared helpers: build a layout from a file list, make test data, write it piece by piece.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::Path;

use bytes::Bytes;
use ferrent_core::{Bitfield, Lengths, PieceIndex, BLOCK_SIZE};
use ferrent_storage::{Layout, LayoutFile, Storage};
use sha1::{Digest, Sha1};

/// The smallest piece length allowed.
pub const P: u64 = 16384;

/// A file of a test torrent: path, length, pad flag.
pub type Spec<'a> = (&'a str, u64, bool);

/// Builds a layout from consecutive files.
pub fn layout(specs: &[Spec<'_>], piece_len: u64) -> Layout {
    let mut offset = 0;
    let files = specs
        .iter()
        .map(|&(path, length, pad)| {
            let f = LayoutFile { path: path.into(), length, offset, pad };
            offset += length;
            f
        })
        .collect();
    Layout::new(files, Lengths::new(offset, piece_len).unwrap()).unwrap()
}

/// Deterministic pseudo-random bytes (xorshift), zeros in pad-file ranges.
pub fn stream(layout: &Layout, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut data: Vec<u8> = (0..layout.lengths().total())
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    for f in layout.files().iter().filter(|f| f.pad) {
        data[f.offset as usize..(f.offset + f.length) as usize].fill(0);
    }
    data
}

/// The SHA-1 of every piece of `data`.
pub fn hashes(layout: &Layout, data: &[u8]) -> Vec<[u8; 20]> {
    let lengths = layout.lengths();
    lengths.pieces().map(|p| Sha1::digest(piece_bytes(lengths, data, p)).into()).collect()
}

/// The bytes of piece `p` in `data`.
pub fn piece_bytes(lengths: Lengths, data: &[u8], p: PieceIndex) -> &[u8] {
    let start = lengths.piece_offset(p) as usize;
    &data[start..start + lengths.piece_len(p) as usize]
}

/// Piece `p` of `data` cut into 16 KiB blocks.
pub fn blocks(lengths: Lengths, data: &[u8], p: PieceIndex) -> Vec<Bytes> {
    piece_bytes(lengths, data, p).chunks(BLOCK_SIZE as usize).map(Bytes::copy_from_slice).collect()
}

/// Writes the given pieces (in that order), starting from an empty have-set, and reports
/// completion after each.
pub fn write_all(storage: &Storage, data: &[u8], order: impl IntoIterator<Item = u32>) -> Bitfield {
    let mut have = Bitfield::new(storage.layout().lengths().piece_count());
    write_pieces(storage, data, order, &mut have);
    have
}

/// Writes the given pieces (in that order), adding each to `have` and reporting completion.
pub fn write_pieces(
    storage: &Storage,
    data: &[u8],
    order: impl IntoIterator<Item = u32>,
    have: &mut Bitfield,
) {
    let lengths = storage.layout().lengths();
    for index in order {
        let p = lengths.piece(index).unwrap();
        storage.write_piece(p, &blocks(lengths, data, p)).unwrap();
        have.set(index, true);
        storage.piece_completed(p, have).unwrap();
    }
}

/// Writes every non-pad file of `layout` under `root` directly, under `.part` names if asked.
pub fn put_files(root: &Path, layout: &Layout, data: &[u8], part: bool) {
    for f in layout.files().iter().filter(|f| !f.pad) {
        let mut path = root.join(&f.path).into_os_string();
        if part {
            path.push(".part");
        }
        let path = Path::new(&path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &data[f.offset as usize..(f.offset + f.length) as usize]).unwrap();
    }
}

/// A fixed permutation of `0..n` (multiplying by a unit modulo n).
pub fn shuffled(n: u32) -> Vec<u32> {
    let step = (1..).map(|k| 7919 * k).find(|s| gcd(*s, n.max(1)) == 1).unwrap();
    (0..n).map(|i| (u64::from(i) * u64::from(step) % u64::from(n.max(1))) as u32).collect()
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}
