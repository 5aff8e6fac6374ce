//! [`Storage`]: piece reads and writes on a torrent's files, and completing files.

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use ferrent_core::{Bitfield, BlockRef, PieceIndex};

use crate::error::StorageError;
use crate::files::{Access, FileTable};
use crate::layout::Layout;

/// How many files [`Storage::open`] keeps open at most.
pub const DEFAULT_MAX_OPEN_FILES: usize = 128;

/// A torrent's data on disk under one download directory. Every `&self` method may be called
/// from several threads at once; all I/O is positional and blocking.
pub struct Storage {
    files: FileTable,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("root", &self.files.root())
            .field("files", &self.layout().files().len())
            .finish_non_exhaustive()
    }
}

impl Storage {
    /// Prepares storage for `layout` under the download directory `root`, re-validating every
    /// path. Nothing is created or opened until the first read or write.
    pub fn open(root: &Path, layout: Layout) -> Result<Self, StorageError> {
        Self::open_with_limit(Arc::from(root), layout, DEFAULT_MAX_OPEN_FILES)
    }

    /// Like [`Storage::open`], with a download directory that many torrents can share (one
    /// allocation for all of them).
    pub fn open_shared(root: Arc<Path>, layout: Layout) -> Result<Self, StorageError> {
        Self::open_with_limit(root, layout, DEFAULT_MAX_OPEN_FILES)
    }

    /// Like [`Storage::open_shared`], keeping at most `max_open_files` (at least one) files
    /// open.
    pub fn open_with_limit(
        root: Arc<Path>,
        layout: Layout,
        max_open_files: usize,
    ) -> Result<Self, StorageError> {
        Ok(Self { files: FileTable::new(root, layout, max_open_files)? })
    }

    /// The download directory.
    pub fn root(&self) -> &Path {
        self.files.root()
    }

    /// The file layout.
    pub fn layout(&self) -> &Layout {
        self.files.layout()
    }

    /// The final path of file `file` on disk, or `None` for a pad file or an index out of range.
    pub fn file_path(&self, file: usize) -> Option<PathBuf> {
        let f = self.layout().files().get(file)?;
        (!f.pad).then(|| self.files.final_path(file))
    }

    /// Writes a whole, verified piece given as consecutive blocks (usually 16 KiB each; any
    /// split works). Missing directories and `<file>.part` files are created, sparse, on the
    /// way. Pad-file ranges are skipped. A failure leaves every other piece's bytes untouched.
    pub fn write_piece(&self, piece: PieceIndex, blocks: &[Bytes]) -> Result<(), StorageError> {
        let piece_len = self.piece_len(piece, 0, 0)?;
        let got: u64 = blocks.iter().map(|b| b.len() as u64).sum();
        if got != u64::from(piece_len) {
            return Err(StorageError::WrongLength {
                piece: piece.get(),
                expected: piece_len.into(),
                got,
            });
        }
        for segment in self.layout().segments(piece, 0, piece_len) {
            if segment.pad {
                continue;
            }
            let file = self.files.get(segment.file, Access::Write)?;
            // `segments` stays inside the piece, which `blocks` covers exactly; the blocks
            // go to the file by vectored writes, without being copied together first.
            let slices = slices_of(blocks, segment.buf_range());
            crate::sys::write_all_vectored_at(&file, slices, segment.file_offset)
                .map_err(|e| StorageError::io(self.files.current_path(segment.file), "write", e))?;
        }
        Ok(())
    }

    /// Reads `block` into `buf`, whose length must be `block.len`. Pad-file ranges read as
    /// zeros.
    pub fn read_block(&self, block: BlockRef, buf: &mut [u8]) -> Result<(), StorageError> {
        self.piece_len(block.piece, block.offset, block.len)?;
        if buf.len() as u64 != u64::from(block.len) {
            return Err(StorageError::WrongLength {
                piece: block.piece.get(),
                expected: block.len.into(),
                got: buf.len() as u64,
            });
        }
        self.read_range(block.piece, block.offset, buf)
    }

    /// Reads the whole of `piece` into `buf`, replacing its contents.
    pub fn read_piece(&self, piece: PieceIndex, buf: &mut Vec<u8>) -> Result<(), StorageError> {
        let len = self.piece_len(piece, 0, 0)?;
        // A reused buffer of the right size is overwritten as it is, without zeroing it
        // first: every byte is read (or zero-filled for padding) below.
        buf.resize(len as usize, 0);
        self.read_range(piece, 0, buf)
    }

    /// Hashes the data already on disk (final names first, then `.part`, looked up afresh)
    /// and returns the pieces that match `hashes`. Pieces whose files are missing or too short are not read.
    /// Runs on `threads` threads with large sequential reads; `progress` receives the number
    /// of pieces checked so far, from any of those threads. Cached descriptors are closed
    /// first, so changes made to the disk meanwhile are seen; call it while nothing writes to
    /// this storage.
    pub fn check_existing(
        &self,
        hashes: &[[u8; 20]],
        threads: usize,
        progress: &(dyn Fn(u32) + Sync),
    ) -> Result<Bitfield, StorageError> {
        crate::check::check_existing(self, hashes, threads, progress)
    }

    /// To be called once `piece` is verified and written, with the full set of verified
    /// pieces: every file touched by `piece` whose pieces are now all present gets its final
    /// name (`<file>.part` is renamed; a zero-length file is created).
    pub fn piece_completed(&self, piece: PieceIndex, have: &Bitfield) -> Result<(), StorageError> {
        self.complete_files_in(self.layout().files_of_piece(piece), have)
    }

    /// The files (layout indices) that `piece` finished: every file it touches whose pieces
    /// are all in `have`. Pure bookkeeping, no I/O: call [`Storage::complete_file`] on each
    /// afterwards (this split lets a caller decide under its own lock, then do the I/O
    /// outside it).
    pub fn files_finished_by(&self, piece: PieceIndex, have: &Bitfield) -> Vec<usize> {
        self.layout()
            .files_of_piece(piece)
            .filter(|&index| self.file_is_complete(index, have))
            .collect()
    }

    /// Gives file `index` its final name (see [`Storage::piece_completed`]).
    pub fn complete_file(&self, index: usize) -> Result<(), StorageError> {
        self.files.complete(index)
    }

    /// Like [`Storage::piece_completed`] for every file: gives each file whose pieces are all
    /// in `have` its final name. Call it after [`Storage::check_existing`] on resume, and for a
    /// torrent made only of empty files.
    pub fn complete_files(&self, have: &Bitfield) -> Result<(), StorageError> {
        self.complete_files_in(0..self.layout().files().len(), have)
    }

    /// Flushes the data of every file written since the last call to the disk (`fdatasync`).
    pub fn sync(&self) -> Result<(), StorageError> {
        self.files.sync()
    }

    fn complete_files_in(
        &self,
        files: std::ops::Range<usize>,
        have: &Bitfield,
    ) -> Result<(), StorageError> {
        for index in files {
            if self.file_is_complete(index, have) {
                self.files.complete(index)?;
            }
        }
        Ok(())
    }

    /// Whether file `index` is a real file (not padding) whose pieces are all in `have`.
    fn file_is_complete(&self, index: usize, have: &Bitfield) -> bool {
        self.layout()
            .files()
            .get(index)
            .is_some_and(|file| !file.pad && have.all_in(self.layout().pieces_of_file(index)))
    }

    /// Reads `file_offset..+buf.len()` of file `file`.
    pub(crate) fn read_file_at(
        &self,
        file: usize,
        file_offset: u64,
        buf: &mut [u8],
    ) -> Result<(), StorageError> {
        let handle = self.files.get(file, Access::Read)?;
        handle.read_exact_at(buf, file_offset).map_err(|e| {
            let path = self.files.current_path(file);
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                let len = handle.metadata().map(|m| m.len()).unwrap_or(0);
                StorageError::ShortFile { path, len, needed: file_offset + buf.len() as u64 }
            } else {
                StorageError::io(path, "read", e)
            }
        })
    }

    /// Closes every cached descriptor (the download directory's too) and frees the cache,
    /// keeping what is known of the files' names; the next read or write opens what it
    /// needs again. For a torrent with nothing to do for a while.
    pub fn release_files(&self) {
        self.files.release();
    }

    /// Closes every cached file and looks names up afresh: the disk may have changed.
    pub(crate) fn forget_open_files(&self) {
        self.files.forget();
    }

    /// The length of file `file` on disk, `None` if it is under neither name.
    pub(crate) fn existing_len(&self, file: usize) -> Result<Option<u64>, StorageError> {
        self.files.existing_len(file)
    }

    fn read_range(
        &self,
        piece: PieceIndex,
        offset: u32,
        buf: &mut [u8],
    ) -> Result<(), StorageError> {
        // Callers checked that the range lies inside the piece, so it fits a u32.
        for segment in self.layout().segments(piece, offset, buf.len() as u32) {
            let Some(out) = buf.get_mut(segment.buf_range()) else { continue };
            if segment.pad {
                out.fill(0);
            } else {
                self.read_file_at(segment.file, segment.file_offset, out)?;
            }
        }
        Ok(())
    }

    /// The length of `piece`, after checking that it belongs to this torrent and that `len`
    /// bytes at `offset` lie inside it.
    fn piece_len(&self, piece: PieceIndex, offset: u32, len: u32) -> Result<u32, StorageError> {
        let lengths = self.layout().lengths();
        let out_of_range = StorageError::OutOfRange { piece: piece.get(), offset, len };
        let piece = lengths.piece(piece.get()).ok_or(out_of_range)?;
        let piece_len = lengths.piece_len(piece);
        match offset.checked_add(len) {
            Some(end) if end <= piece_len => Ok(piece_len),
            _ => Err(StorageError::OutOfRange { piece: piece.get(), offset, len }),
        }
    }
}

/// The parts of `blocks` (consecutive buffers) that cover `range` of their concatenation.
fn slices_of(blocks: &[Bytes], range: std::ops::Range<usize>) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    for block in blocks {
        let end = start + block.len();
        let (from, to) = (range.start.max(start), range.end.min(end));
        if from < to {
            out.push(&block[from - start..to - start]);
        }
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn storage_is_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<super::Storage>();
    }
}
