//! How a torrent's byte stream maps onto files: which file ranges make up a piece and which
//! pieces touch a file. Pure arithmetic, no I/O.

use std::ops::Range;
use std::path::PathBuf;

use ferrent_core::{Lengths, PieceIndex};

use crate::error::{LayoutError, StorageError};
use crate::path;

/// One file of a torrent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutFile {
    /// Path relative to the download directory, including the torrent's name for multi-file
    /// torrents (`name/dir/file`) or just the name for single-file ones. Validated by
    /// [`Layout::new`] unless the file is padding.
    pub path: PathBuf,
    /// Length in bytes.
    pub length: u64,
    /// Offset of the file's first byte in the torrent's byte stream.
    pub offset: u64,
    /// A BEP 47 pad file: never created on disk, reads as zeros.
    pub pad: bool,
}

impl LayoutFile {
    /// Offset just past the file's last byte in the torrent's byte stream.
    pub fn end(&self) -> u64 {
        // `Layout::new` checked that this does not overflow.
        self.offset.saturating_add(self.length)
    }
}

/// A torrent's files and piece geometry, checked to be consistent.
#[derive(Debug, Clone)]
pub struct Layout {
    files: Vec<LayoutFile>,
    lengths: Lengths,
}

/// A run of bytes that lies inside one file: part of a piece or block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Index of the file in [`Layout::files`].
    pub file: usize,
    /// Offset inside the file.
    pub file_offset: u64,
    /// Offset of the segment's first byte from the start of the requested range.
    pub buf_offset: u32,
    /// Length in bytes (never zero).
    pub len: u32,
    /// True when the file is a pad file (reads as zeros, never written).
    pub pad: bool,
}

impl Segment {
    /// The segment's bytes as a range of the requested buffer.
    pub fn buf_range(&self) -> Range<usize> {
        self.buf_offset as usize..self.buf_offset as usize + self.len as usize
    }
}

impl Layout {
    /// Checks that the files are given in stream order, each starting where the previous one
    /// ends, that they add up to `lengths.total()`, and that every non-pad path is a safe
    /// relative path that does not collide with another file's path or `.part` name.
    pub fn new(files: Vec<LayoutFile>, lengths: Lengths) -> Result<Self, StorageError> {
        if files.is_empty() {
            return Err(LayoutError::NoFiles.into());
        }
        let mut expected = 0u64;
        for (index, file) in files.iter().enumerate() {
            if file.offset != expected {
                return Err(LayoutError::NotContiguous {
                    file: index,
                    offset: file.offset,
                    expected,
                }
                .into());
            }
            expected =
                expected.checked_add(file.length).ok_or(LayoutError::Overflow { file: index })?;
            if !file.pad {
                path::split(&file.path).map_err(|reason| StorageError::UnsafePath {
                    path: file.path.clone(),
                    reason,
                })?;
            }
        }
        if expected != lengths.total() {
            return Err(
                LayoutError::LengthMismatch { files: expected, total: lengths.total() }.into()
            );
        }
        let real = files.iter().enumerate().filter(|(_, f)| !f.pad).map(|(i, f)| (i, &*f.path));
        path::check_collisions(real).map_err(|(index, reason)| StorageError::UnsafePath {
            path: files[index].path.clone(),
            reason,
        })?;
        Ok(Self { files, lengths })
    }

    /// The layout of a parsed torrent: `ROOT/name` for a single-file torrent and
    /// `ROOT/name/<path...>` for a multi-file one. Every check of [`Layout::new`] is made
    /// again, since `Info`'s fields are public. BEP 47 symlink entries are never created
    /// (links are never made on disk), like pad files.
    pub fn from_info(info: &ferrent_core::Info) -> Result<Self, StorageError> {
        let mut total = 0u64;
        let mut files = Vec::with_capacity(info.files.len());
        for (index, entry) in info.files.iter().enumerate() {
            total = total.checked_add(entry.length).ok_or(LayoutError::Overflow { file: index })?;
            let is_link = entry.symlink_path.is_some() && entry.length == 0;
            files.push(LayoutFile {
                path: info.relative_path(entry),
                length: entry.length,
                offset: entry.offset,
                pad: entry.pad || is_link,
            });
        }
        let lengths = Lengths::new(total, info.piece_length).map_err(LayoutError::from)?;
        Self::new(files, lengths)
    }

    /// The piece geometry.
    pub fn lengths(&self) -> Lengths {
        self.lengths
    }

    /// The files, in stream order.
    pub fn files(&self) -> &[LayoutFile] {
        &self.files
    }

    /// The file segments covering `len` bytes at `offset` inside `piece`, in order. The range is
    /// clipped to the piece; a piece outside the torrent yields nothing. Zero-length files
    /// never appear.
    pub fn segments(&self, piece: PieceIndex, offset: u32, len: u32) -> Segments<'_> {
        let (start, end) = match self.piece_range(piece) {
            Some(range) => {
                let start = range.start.saturating_add(u64::from(offset)).min(range.end);
                (start, start.saturating_add(u64::from(len)).min(range.end))
            }
            None => (0, 0),
        };
        let next_file = self.files.partition_point(|f| f.end() <= start);
        Segments { files: &self.files, next_file, range_start: start, pos: start, end }
    }

    /// The pieces that hold bytes of file `file`. For a zero-length file this is the empty
    /// range at the piece its offset falls in (the last piece for a file at the very end).
    pub fn pieces_of_file(&self, file: usize) -> Range<u32> {
        let Some(f) = self.files.get(file) else { return 0..0 };
        let piece_len = u64::from(self.lengths.piece_length());
        let count = self.lengths.piece_count();
        // Offsets are at most `total`, so these quotients are at most `count`.
        let first = u32::try_from(f.offset / piece_len).unwrap_or(count).min(count);
        if f.length == 0 {
            let at = first.min(count.saturating_sub(1));
            return at..at;
        }
        let last = u32::try_from((f.end() - 1) / piece_len).unwrap_or(count);
        first..last.saturating_add(1).min(count)
    }

    /// The files that hold bytes of `piece`, plus the zero-length files whose offset falls in
    /// it (for the last piece, also those at the very end of the torrent).
    pub fn files_of_piece(&self, piece: PieceIndex) -> Range<usize> {
        let Some(range) = self.piece_range(piece) else { return 0..0 };
        let is_last = piece.get() + 1 == self.lengths.piece_count();
        let first = self.files.partition_point(|f| {
            !(f.end() > range.start || (f.length == 0 && f.offset >= range.start))
        });
        let end = self
            .files
            .partition_point(|f| f.offset < range.end || (is_last && f.offset == range.end));
        first..end.max(first)
    }

    /// The byte range of `piece` in the torrent's stream, or `None` when it is out of range.
    fn piece_range(&self, piece: PieceIndex) -> Option<Range<u64>> {
        let piece = self.lengths.piece(piece.get())?;
        let start = self.lengths.piece_offset(piece);
        Some(start..start + u64::from(self.lengths.piece_len(piece)))
    }
}

/// Iterator over the [`Segment`]s of a range of a piece; see [`Layout::segments`].
#[derive(Debug, Clone)]
pub struct Segments<'a> {
    files: &'a [LayoutFile],
    next_file: usize,
    range_start: u64,
    pos: u64,
    end: u64,
}

impl Iterator for Segments<'_> {
    type Item = Segment;

    fn next(&mut self) -> Option<Segment> {
        while self.pos < self.end {
            let index = self.next_file;
            let file = self.files.get(index)?;
            self.next_file += 1;
            let seg_end = file.end().min(self.end);
            if seg_end <= self.pos {
                continue; // zero-length file
            }
            // Both differences are below a piece length, which fits a u32.
            let segment = Segment {
                file: index,
                file_offset: self.pos - file.offset,
                buf_offset: (self.pos - self.range_start) as u32,
                len: (seg_end - self.pos) as u32,
                pad: file.pad,
            };
            self.pos = seg_end;
            return Some(segment);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: u64 = 16384;

    fn layout(sizes: &[(&str, u64, bool)], piece_len: u64) -> Result<Layout, StorageError> {
        let mut offset = 0;
        let files = sizes
            .iter()
            .map(|&(p, length, pad)| {
                let f = LayoutFile { path: p.into(), length, offset, pad };
                offset += length;
                f
            })
            .collect();
        Layout::new(files, Lengths::new(offset, piece_len).unwrap())
    }

    #[test]
    fn piece_spanning_three_files() {
        // piece 0 = a (10000) + b (100) + first 6284 bytes of c
        let l = layout(&[("t/a", 10_000, false), ("t/b", 100, false), ("t/c", 30_000, false)], P)
            .unwrap();
        let p0 = l.lengths().piece(0).unwrap();
        let segs: Vec<_> = l.segments(p0, 0, P as u32).collect();
        assert_eq!(segs.len(), 3);
        assert_eq!((segs[0].file, segs[0].file_offset, segs[0].len), (0, 0, 10_000));
        assert_eq!((segs[1].file, segs[1].buf_offset, segs[1].len), (1, 10_000, 100));
        assert_eq!((segs[2].file, segs[2].file_offset, segs[2].len), (2, 0, 6_284));
        assert_eq!(l.files_of_piece(p0), 0..3);
        let p2 = l.lengths().piece(2).unwrap();
        assert_eq!(l.files_of_piece(p2), 2..3);
        assert_eq!(l.pieces_of_file(0), 0..1);
        assert_eq!(l.pieces_of_file(1), 0..1);
        assert_eq!(l.pieces_of_file(2), 0..3);
        // A block in the middle of piece 1 lies entirely in c.
        let p1 = l.lengths().piece(1).unwrap();
        let segs: Vec<_> = l.segments(p1, 100, 200).collect();
        assert_eq!(
            segs,
            vec![Segment {
                file: 2,
                file_offset: P - 10_100 + 100,
                buf_offset: 0,
                len: 200,
                pad: false
            }]
        );
    }

    #[test]
    fn segments_cover_the_range_exactly() {
        let sizes = [
            ("t/a", 1, false),
            ("t/z", 0, false),
            ("t/p", 5000, true),
            ("t/b", 70_000, false),
            ("t/c", 3, false),
        ];
        let l = layout(&sizes, P).unwrap();
        for piece in l.lengths().pieces() {
            let plen = l.lengths().piece_len(piece);
            for (off, len) in [(0, plen), (1, 5000), (plen - 1, 1), (0, u32::MAX)] {
                let segs: Vec<_> = l.segments(piece, off, len).collect();
                let mut expect = 0;
                for s in &segs {
                    assert_eq!(s.buf_offset, expect);
                    assert!(s.len > 0);
                    let f = &l.files()[s.file];
                    assert_eq!(
                        f.offset + s.file_offset,
                        l.lengths().piece_offset(piece) + u64::from(off + s.buf_offset)
                    );
                    assert!(s.file_offset + u64::from(s.len) <= f.length);
                    assert_eq!(s.pad, f.pad);
                    expect += s.len;
                }
                assert_eq!(expect, len.min(plen - off));
            }
        }
    }

    #[test]
    fn zero_length_files_belong_to_a_piece() {
        let l = layout(
            &[("t/z0", 0, false), ("t/a", P + 5, false), ("t/z1", 0, false), ("t/z2", 0, false)],
            P,
        )
        .unwrap();
        let p0 = l.lengths().piece(0).unwrap();
        let p1 = l.lengths().piece(1).unwrap();
        assert_eq!(l.files_of_piece(p0), 0..2);
        assert_eq!(l.files_of_piece(p1), 1..4);
        assert_eq!(l.pieces_of_file(0), 0..0);
        assert_eq!(l.pieces_of_file(3), 1..1);
        assert_eq!(l.pieces_of_file(9), 0..0);
        // A zero-length file exactly on a piece boundary belongs to the later piece only.
        let l = layout(&[("t/a", P, false), ("t/z", 0, false), ("t/b", 1, false)], P).unwrap();
        assert_eq!(l.files_of_piece(l.lengths().piece(0).unwrap()), 0..1);
        assert_eq!(l.files_of_piece(l.lengths().piece(1).unwrap()), 1..3);
        assert_eq!(l.pieces_of_file(1), 1..1);
    }

    #[test]
    fn out_of_range_piece_yields_nothing() {
        let big = layout(&[("t/a", 10 * P, false)], P).unwrap();
        let small = layout(&[("t/a", P, false)], P).unwrap();
        let p9 = big.lengths().piece(9).unwrap();
        assert_eq!(small.segments(p9, 0, 10).count(), 0);
        assert_eq!(small.files_of_piece(p9), 0..0);
    }

    #[test]
    fn refuses_inconsistent_lists() {
        let lengths = Lengths::new(10, P).unwrap();
        let f = |path: &str, offset, length| LayoutFile {
            path: path.into(),
            length,
            offset,
            pad: false,
        };
        assert!(matches!(
            Layout::new(vec![], lengths),
            Err(StorageError::Layout(LayoutError::NoFiles))
        ));
        assert!(matches!(
            Layout::new(vec![f("a", 0, 5), f("b", 6, 4)], lengths),
            Err(StorageError::Layout(LayoutError::NotContiguous {
                file: 1,
                offset: 6,
                expected: 5
            }))
        ));
        assert!(matches!(
            Layout::new(vec![f("a", 0, 5), f("b", 5, 4)], lengths),
            Err(StorageError::Layout(LayoutError::LengthMismatch { files: 9, total: 10 }))
        ));
        assert!(matches!(
            Layout::new(vec![f("a", 0, 5), f("b", 5, u64::MAX)], lengths),
            Err(StorageError::Layout(LayoutError::Overflow { file: 1 }))
        ));
        assert!(matches!(
            Layout::new(vec![f("t/../../x", 0, 10)], lengths),
            Err(StorageError::UnsafePath { reason: crate::PathProblem::ParentDir, .. })
        ));
        assert!(matches!(
            Layout::new(vec![f("t/a", 0, 5), f("t/a", 5, 5)], lengths),
            Err(StorageError::UnsafePath { reason: crate::PathProblem::Duplicate, .. })
        ));
        // Pad files are never created, so their paths are not checked.
        let pad = LayoutFile { path: "/abs/.pad/5".into(), length: 5, offset: 5, pad: true };
        assert!(Layout::new(vec![f("t/a", 0, 5), pad], lengths).is_ok());
    }
}
