//! The info dictionary: name, piece geometry and the file list (v1, v2 and hybrid).

use std::path::PathBuf;

use ferrent_bencode::{Dict, Value};

use super::error::{At, MetainfoError, Problem};
use super::{fields, path, v2};
use crate::geometry::{Lengths, LengthsError};

type Result<T> = std::result::Result<T, MetainfoError>;

/// The validated info dictionary of a torrent.
///
/// Built only by [`Metainfo::from_bytes`](crate::Metainfo::from_bytes) and
/// [`Metainfo::from_info_bytes`](crate::Metainfo::from_info_bytes), which guarantee the
/// invariants documented on each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// Suggested name: the file name of a single-file torrent, else the directory holding the
    /// files. A single valid path component (from `name.utf-8` when present).
    pub name: String,
    /// Bytes per piece: a power of two from 16 KiB to 2 GiB.
    pub piece_length: u64,
    /// v1 SHA-1 piece hashes, one per piece of the v1 byte stream; empty for v2-only torrents.
    pub pieces: Vec<[u8; 20]>,
    /// Where the `pieces` string lies in the info dictionary's raw bytes, so that the
    /// hashes can be read in place; empty for v2-only torrents.
    pub pieces_span: std::ops::Range<usize>,
    /// Files in stream order. They tile the byte stream `0..total_length()` without gaps;
    /// pad files (BEP 47) fill the gaps that piece-aligned layouts need, and are
    /// synthesized for v2-only torrents so both kinds look alike.
    pub files: Vec<FileEntry>,
    /// BEP 27 private flag: no DHT, PEX or local discovery.
    pub private: bool,
    /// `meta version` (BEP 52): `Some(2)` for v2 and hybrid torrents, `None` for v1.
    pub meta_version: Option<u64>,
    /// True when the torrent is one file stored as `DIR/name`; otherwise files live under
    /// `DIR/name/`.
    pub single_file: bool,
}

/// One file of a torrent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Components relative to the torrent root: `[name]` for a single-file torrent, else
    /// relative to the `name` directory. Each component is validated: non-empty, not `.` or
    /// `..`, free of `/`, `\`, NUL and drive letters.
    pub path: Vec<String>,
    /// Length in bytes.
    pub length: u64,
    /// Where the file starts in the torrent's byte stream (piece-aligned for v2 files).
    pub offset: u64,
    /// A BEP 47 pad file: zeros that are never written to disk.
    pub pad: bool,
    /// BEP 47 `x` attribute.
    pub executable: bool,
    /// BEP 47 `h` attribute.
    pub hidden: bool,
    /// BEP 47 symlink target (attribute `l`), validated like `path`.
    pub symlink_path: Option<Vec<String>>,
    /// BEP 52 Merkle root of the file's 16 KiB blocks; `None` for v1-only and empty files.
    pub pieces_root: Option<[u8; 32]>,
}

impl FileEntry {
    /// The byte range this file covers in the torrent's stream.
    pub fn range(&self) -> std::ops::Range<u64> {
        self.offset..self.offset + self.length
    }
}

impl Info {
    /// Total length of the byte stream, pad files included.
    pub fn total_length(&self) -> u64 {
        self.files.last().map_or(0, |f| f.offset + f.length)
    }

    /// Piece geometry of the byte stream.
    ///
    /// # Panics
    /// Only if the public fields were changed to describe an impossible geometry; parsing
    /// guarantees a valid one.
    pub fn lengths(&self) -> Lengths {
        Lengths::new(self.total_length(), self.piece_length)
            .expect("piece geometry validated when the info dictionary was parsed")
    }

    /// True when the torrent has v1 piece hashes (v1 or hybrid).
    pub fn has_v1(&self) -> bool {
        !self.pieces.is_empty()
    }

    /// True when the torrent has a v2 file tree (v2 or hybrid).
    pub fn has_v2(&self) -> bool {
        self.meta_version == Some(2)
    }

    /// Where `file` lives relative to the download directory: `name` for a single-file
    /// torrent, else `name/path...`.
    pub fn relative_path(&self, file: &FileEntry) -> PathBuf {
        let mut out = PathBuf::new();
        if !self.single_file {
            out.push(&self.name);
        }
        out.extend(&file.path);
        out
    }

    /// Parses and validates an info dictionary.
    pub(crate) fn parse(value: &Value<'_>) -> Result<Info> {
        let at = At::Root("info");
        let d = fields::dict(value, &at)?;
        let name = parse_name(d, &at)?;

        let pl_at = at.key("piece length");
        let raw_pl = fields::int(fields::required(d, "piece length", &pl_at)?, &pl_at)?;
        let piece_length = u64::try_from(raw_pl)
            .ok()
            .filter(|&pl| Lengths::new(0, pl).is_ok())
            .ok_or_else(|| pl_at.err(Problem::BadPieceLength(raw_pl)))?;

        let private = match d.get(b"private") {
            Some(v) => fields::int(v, &at.key("private"))? == 1,
            None => false,
        };
        let meta_version = match d.get(b"meta version") {
            None => None,
            Some(v) => {
                let mv_at = at.key("meta version");
                match fields::int(v, &mv_at)? {
                    2 => Some(2),
                    other => return Err(mv_at.err(Problem::UnsupportedMetaVersion(other))),
                }
            }
        };

        let v1 = match d.get(b"pieces") {
            Some(pieces) => Some((parse_v1_files(d, &name, &at)?, pieces)),
            None => None,
        };
        let v2 = match meta_version {
            Some(_) => {
                let tree_at = at.key("file tree");
                let tree = fields::required(d, "file tree", &tree_at)?;
                Some(v2::parse_file_tree(tree, &name, &tree_at)?)
            }
            None => None,
        };

        let (files, single_file, pieces) = match (v1, v2) {
            (None, None) => return Err(at.key("pieces").err(Problem::Missing)),
            (Some(((files, single), pieces)), None) => (files, single, Some(pieces)),
            (None, Some((tree_files, single))) => {
                (v2::lay_out(tree_files, piece_length, &at.key("file tree"))?, single, None)
            }
            (Some(((mut files, single), pieces)), Some((tree_files, _))) => {
                v2::check_hybrid(&mut files, &tree_files, piece_length, &at)?;
                (files, single, Some(pieces))
            }
        };

        let pieces_span = pieces
            .and_then(|p| {
                let content = p.as_bytes()?;
                let start = p.end() - content.len() - value.offset();
                Some(start..start + content.len())
            })
            .unwrap_or(0..0);
        let mut info = Info {
            name,
            piece_length,
            pieces: Vec::new(),
            pieces_span,
            files,
            private,
            meta_version,
            single_file,
        };
        let total = info.total_length();
        if total == 0 {
            return Err(at.err(Problem::EmptyTorrent));
        }
        let expected = match Lengths::new(total, piece_length) {
            Ok(l) => u64::from(l.piece_count()),
            Err(LengthsError::TooManyPieces(n)) => return Err(at.err(Problem::TooManyPieces(n))),
            Err(LengthsError::BadPieceLength(_)) => {
                return Err(pl_at.err(Problem::BadPieceLength(raw_pl)))
            }
        };
        if let Some(pieces) = pieces {
            info.pieces = parse_pieces(pieces, expected, &at.key("pieces"))?;
        }
        Ok(info)
    }
}

fn parse_name(d: &Dict<'_>, at: &At<'_>) -> Result<String> {
    if let Some(v) = d.get(b"name.utf-8") {
        return path::component(v, &at.key("name.utf-8"));
    }
    let name_at = at.key("name");
    path::component(fields::required(d, "name", &name_at)?, &name_at)
}

fn parse_pieces(value: &Value<'_>, expected: u64, at: &At<'_>) -> Result<Vec<[u8; 20]>> {
    let bytes = fields::bytes(value, at)?;
    if bytes.len() % 20 != 0 {
        return Err(at.err(Problem::PiecesNotMultipleOf20(bytes.len())));
    }
    let found = (bytes.len() / 20) as u64;
    if found != expected {
        return Err(at.err(Problem::PieceCount { expected, found }));
    }
    Ok(bytes.chunks_exact(20).map(|c| c.try_into().unwrap_or([0; 20])).collect())
}

/// BEP 47 attributes of a file (or of a single-file info dictionary).
pub(crate) struct Attrs {
    pub(crate) pad: bool,
    pub(crate) executable: bool,
    pub(crate) hidden: bool,
    pub(crate) symlink_path: Option<Vec<String>>,
}

pub(crate) fn parse_attrs(d: &Dict<'_>, at: &At<'_>) -> Result<Attrs> {
    let attr = match d.get(b"attr") {
        Some(v) => fields::bytes(v, &at.key("attr"))?,
        None => b"",
    };
    let symlink_path = if attr.contains(&b'l') {
        let link_at = at.key("symlink path");
        Some(path::components(fields::required(d, "symlink path", &link_at)?, &link_at)?)
    } else {
        None
    };
    Ok(Attrs {
        pad: attr.contains(&b'p'),
        executable: attr.contains(&b'x'),
        hidden: attr.contains(&b'h'),
        symlink_path,
    })
}

impl FileEntry {
    pub(crate) fn new(path: Vec<String>, length: u64, offset: u64, attrs: Attrs) -> Self {
        FileEntry {
            path,
            length,
            offset,
            pad: attrs.pad,
            executable: attrs.executable,
            hidden: attrs.hidden,
            symlink_path: attrs.symlink_path,
            pieces_root: None,
        }
    }
}

/// The v1 file list (`length` or `files`), with offsets; and whether it is single-file.
fn parse_v1_files(d: &Dict<'_>, name: &str, at: &At<'_>) -> Result<(Vec<FileEntry>, bool)> {
    match (d.get(b"length"), d.get(b"files")) {
        (Some(_), Some(_)) => Err(at.err(Problem::Conflicting("length", "files"))),
        (None, None) => Err(at.key("files").err(Problem::Missing)),
        (Some(length), None) => {
            let length = fields::uint(length, &at.key("length"))?;
            let attrs = parse_attrs(d, at)?;
            Ok((vec![FileEntry::new(vec![name.to_owned()], length, 0, attrs)], true))
        }
        (None, Some(list)) => {
            let list_at = at.key("files");
            let items = fields::list(list, &list_at)?;
            let mut files = Vec::with_capacity(items.len());
            let mut offset = 0u64;
            for (i, item) in items.iter().enumerate() {
                let file_at = list_at.index(i);
                let fd = fields::dict(item, &file_at)?;
                let len_at = file_at.key("length");
                let length = fields::uint(fields::required(fd, "length", &len_at)?, &len_at)?;
                let path = match fd.get(b"path.utf-8") {
                    Some(v) => path::components(v, &file_at.key("path.utf-8"))?,
                    None => {
                        let path_at = file_at.key("path");
                        path::components(fields::required(fd, "path", &path_at)?, &path_at)?
                    }
                };
                let attrs = parse_attrs(fd, &file_at)?;
                files.push(FileEntry::new(path, length, offset, attrs));
                offset =
                    offset.checked_add(length).ok_or_else(|| len_at.err(Problem::TotalTooLarge))?;
            }
            check_unique_paths(&files, &list_at)?;
            Ok((files, false))
        }
    }
}

/// Refuses two files with the same path, and a file whose path is another's directory.
/// Pad files are ignored: they are never stored.
fn check_unique_paths(files: &[FileEntry], list_at: &At<'_>) -> Result<()> {
    let mut order: Vec<usize> = (0..files.len()).filter(|&i| !files[i].pad).collect();
    // Creators usually list files sorted already; sort only when they did not.
    if !order.windows(2).all(|w| files[w[0]].path < files[w[1]].path) {
        order.sort_unstable_by(|&a, &b| files[a].path.cmp(&files[b].path).then(a.cmp(&b)));
    }
    // Paths that extend a given path sort right after it, so adjacent pairs suffice.
    for pair in order.windows(2) {
        let (a, b) = (&files[pair[0]], &files[pair[1]]);
        if a.path == b.path {
            let later = pair[0].max(pair[1]);
            let earlier = pair[0].min(pair[1]);
            return Err(list_at.index(later).key("path").err(Problem::DuplicatePath(earlier)));
        }
        if b.path.starts_with(&a.path) {
            return Err(list_at.index(pair[0]).key("path").err(Problem::FileIsDirectory(pair[1])));
        }
    }
    Ok(())
}
