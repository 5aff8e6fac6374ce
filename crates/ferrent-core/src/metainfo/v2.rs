//! BEP 52: the v2 file tree, its piece-aligned layout, hybrid consistency and piece layers.

use std::collections::{BTreeMap, HashMap};

use ferrent_bencode::{Dict, Value};
use sha2::{Digest, Sha256};

use super::error::{At, MetainfoError, Problem};
use super::info::{parse_attrs, Attrs, FileEntry, Info};
use super::{fields, path};
use crate::geometry::BLOCK_SIZE;

type Result<T> = std::result::Result<T, MetainfoError>;

/// A file read from a v2 file tree, before layout.
pub(crate) struct TreeFile {
    path: Vec<String>,
    length: u64,
    pieces_root: Option<[u8; 32]>,
    attrs: Attrs,
}

/// Reads the file tree in key order; returns the files and whether the torrent is
/// single-file (one top-level file named like the torrent).
pub(crate) fn parse_file_tree(
    tree: &Value<'_>,
    name: &str,
    at: &At<'_>,
) -> Result<(Vec<TreeFile>, bool)> {
    let mut files = Vec::new();
    let mut walker = Walker { prefix: Vec::new(), out: &mut files, components: 0 };
    walker.walk(fields::dict(tree, at)?, at)?;
    let single = matches!(files.as_slice(), [only] if only.path.len() == 1 && only.path[0] == name);
    Ok((files, single))
}

/// Most path components, summed over all files, that a file tree may expand to. Each
/// file repeats its directories' names, so a small, deep tree could otherwise claim
/// gigabytes; v1 lists are bounded by the decoder's item limit instead.
pub(crate) const MAX_TREE_COMPONENTS: usize = 1 << 21;

struct Walker<'o> {
    prefix: Vec<String>,
    out: &'o mut Vec<TreeFile>,
    components: usize,
}

impl Walker<'_> {
    /// Depth-first walk; recursion is bounded by the bencode decoder's nesting limit.
    fn walk(&mut self, dir: &Dict<'_>, at: &At<'_>) -> Result<()> {
        if dir.is_empty() {
            return Err(at.err(Problem::EmptyDirectory));
        }
        for (key, child) in dir.iter() {
            let child_at = at.name(key);
            let name = std::str::from_utf8(key).map_err(|_| child_at.err(Problem::NotUtf8))?;
            path::check_component(name).map_err(|p| child_at.err(p))?;
            let node = fields::dict(child, &child_at)?;
            self.prefix.push(name.to_owned());
            match node.get(b"") {
                Some(file) => {
                    if node.len() != 1 {
                        return Err(child_at.err(Problem::FileAndDirectory));
                    }
                    self.components += self.prefix.len();
                    if self.components > MAX_TREE_COMPONENTS {
                        let max = MAX_TREE_COMPONENTS;
                        return Err(child_at.err(Problem::TooManyComponents { max }));
                    }
                    let file_at = child_at.name(b"");
                    let file = fields::dict(file, &file_at)?;
                    self.out.push(parse_tree_file(file, self.prefix.clone(), &file_at)?);
                }
                None => self.walk(node, &child_at)?,
            }
            self.prefix.pop();
        }
        Ok(())
    }
}

fn parse_tree_file(d: &Dict<'_>, path: Vec<String>, at: &At<'_>) -> Result<TreeFile> {
    let len_at = at.key("length");
    let length = fields::uint(fields::required(d, "length", &len_at)?, &len_at)?;
    let pieces_root = if length > 0 {
        let root_at = at.key("pieces root");
        Some(fields::hash::<32>(fields::required(d, "pieces root", &root_at)?, &root_at)?)
    } else {
        None
    };
    Ok(TreeFile { path, length, pieces_root, attrs: parse_attrs(d, at)? })
}

/// Lays v2-only files out as BEP 52 does: every non-empty file starts on a piece boundary.
/// Like libtorrent, a synthesized pad file named `.pad/<length>` follows each non-empty file
/// that does not end on a boundary (except the last), so file indices agree with it.
pub(crate) fn lay_out(
    files: Vec<TreeFile>,
    piece_length: u64,
    at: &At<'_>,
) -> Result<Vec<FileEntry>> {
    let last_data = files.iter().rposition(|f| f.length > 0);
    let mut out = Vec::with_capacity(files.len() * 2);
    let mut offset = 0u64;
    for (i, file) in files.into_iter().enumerate() {
        let length = file.length;
        let mut entry = FileEntry::new(file.path, length, offset, file.attrs);
        entry.pieces_root = file.pieces_root;
        out.push(entry);
        offset = offset.checked_add(length).ok_or_else(|| at.err(Problem::TotalTooLarge))?;
        let gap = (piece_length - offset % piece_length) % piece_length;
        if length > 0 && gap > 0 && Some(i) != last_data {
            let pad = Attrs { pad: true, executable: false, hidden: false, symlink_path: None };
            out.push(FileEntry::new(vec![".pad".into(), gap.to_string()], gap, offset, pad));
            offset = offset.checked_add(gap).ok_or_else(|| at.err(Problem::TotalTooLarge))?;
        }
    }
    Ok(out)
}

/// Checks that a hybrid torrent's v1 file list describes the v2 tree (pad files aside), with
/// every non-empty file piece-aligned, and copies the v2 roots into the v1 entries.
pub(crate) fn check_hybrid(
    v1: &mut [FileEntry],
    tree: &[TreeFile],
    piece_length: u64,
    at: &At<'_>,
) -> Result<()> {
    let mismatch = |detail: String| at.err(Problem::HybridMismatch(detail));
    let real = v1.iter().filter(|f| !f.pad).count();
    if real != tree.len() {
        return Err(mismatch(format!("{real} files in v1, {} in v2", tree.len())));
    }
    let mut tree_files = tree.iter();
    for (i, entry) in v1.iter_mut().enumerate().filter(|(_, f)| !f.pad) {
        let Some(t) = tree_files.next() else { break };
        if entry.path != t.path {
            return Err(mismatch(format!(
                "file {i} is {:?} in v1 but {:?} in v2",
                entry.path.join("/"),
                t.path.join("/")
            )));
        }
        if entry.length != t.length {
            return Err(mismatch(format!(
                "file {i} is {} bytes in v1 but {} in v2",
                entry.length, t.length
            )));
        }
        if entry.length > 0 && entry.offset % piece_length != 0 {
            return Err(mismatch(format!(
                "file {i} starts at byte {}, not on a piece boundary",
                entry.offset
            )));
        }
        entry.pieces_root = t.pieces_root;
    }
    Ok(())
}

/// Reads `piece layers` and checks that every file longer than one piece has a layer of the
/// right length that hashes up to its pieces root. Layers no file needs are dropped.
pub(crate) fn parse_piece_layers(
    value: Option<&Value<'_>>,
    info: &Info,
) -> Result<BTreeMap<[u8; 32], Vec<u8>>> {
    let at = At::Root("piece layers");
    let mut given: HashMap<&[u8], &[u8]> = HashMap::new();
    if let Some(value) = value {
        for (key, layer) in fields::dict(value, &at)?.iter() {
            given.insert(key, fields::bytes(layer, &at.name(key))?);
        }
    }
    let mut out = BTreeMap::new();
    for (i, file) in info.files.iter().enumerate() {
        let Some(root) = file.pieces_root.filter(|_| file.length > info.piece_length) else {
            continue;
        };
        let pieces = file.length.div_ceil(info.piece_length);
        let Some(layer) = given.get(&root[..]) else {
            return Err(at.err(Problem::PieceLayerMissing { file: i, pieces }));
        };
        let root_hex = hex::encode(root);
        let layer_at = at.name(root_hex.as_bytes());
        let expected = pieces * 32;
        if layer.len() as u64 != expected {
            return Err(layer_at.err(Problem::PieceLayerLength {
                file: i,
                expected,
                found: layer.len(),
            }));
        }
        if piece_layer_root(layer, info.piece_length) != root {
            return Err(layer_at.err(Problem::PieceLayerMismatch(i)));
        }
        out.insert(root, layer.to_vec());
    }
    Ok(out)
}

fn hash_pair(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    Sha256::new().chain_update(left).chain_update(right).finalize().into()
}

/// The Merkle root over a piece layer (concatenated 32-byte hashes, at least one), padding
/// the layer to a power of two with the hash of a piece's worth of zero leaves.
pub(crate) fn piece_layer_root(layer: &[u8], piece_length: u64) -> [u8; 32] {
    let mut pad = [0u8; 32];
    let mut span = u64::from(BLOCK_SIZE);
    while span < piece_length {
        pad = hash_pair(&pad, &pad);
        span *= 2;
    }
    let mut level: Vec<[u8; 32]> =
        layer.chunks_exact(32).map(|c| c.try_into().unwrap_or([0; 32])).collect();
    let mut width = level.len().next_power_of_two();
    while width > 1 {
        level =
            level.chunks(2).map(|pair| hash_pair(&pair[0], pair.get(1).unwrap_or(&pad))).collect();
        pad = hash_pair(&pad, &pad);
        width /= 2;
    }
    level.first().copied().unwrap_or(pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    #[test]
    fn piece_layer_root_pads_with_zero_subtrees() {
        // Piece length of two blocks: a piece-level pad is hash(zero leaf, zero leaf).
        let zero = [0u8; 32];
        let pad = hash_pair(&zero, &zero);
        let (a, b, c) = (h(b"a"), h(b"b"), h(b"c"));
        let layer = [a, b, c].concat();
        let expected = hash_pair(&hash_pair(&a, &b), &hash_pair(&c, &pad));
        assert_eq!(piece_layer_root(&layer, 2 * u64::from(BLOCK_SIZE)), expected);
        // Exactly a power of two: no padding.
        assert_eq!(piece_layer_root(&[a, b].concat(), 1 << 20), hash_pair(&a, &b));
        // Five pieces of one block each: padded to eight with zero leaves.
        let layer = [a, b, c, a, b].concat();
        let left = hash_pair(&hash_pair(&a, &b), &hash_pair(&c, &a));
        let right = hash_pair(&hash_pair(&b, &zero), &hash_pair(&zero, &zero));
        assert_eq!(piece_layer_root(&layer, u64::from(BLOCK_SIZE)), hash_pair(&left, &right));
    }
}
