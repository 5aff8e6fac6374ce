//! BEP 52 merkle trees: SHA-256 over 16 KiB blocks, padded with zero leaves.

use sha2::{Digest, Sha256};

/// The size of a merkle leaf block (BEP 52).
pub(crate) const LEAF_SIZE: usize = 16 * 1024;

/// A SHA-256 digest.
pub(crate) type Hash32 = [u8; 32];

/// Hashes two child nodes into their parent.
fn parent(left: &Hash32, right: &Hash32) -> Hash32 {
    let mut hasher = Sha256::new();
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root of a subtree of `2^height` leaves that all lie past the end of a file (all
/// leaves are zero hashes).
pub(crate) fn zero_subtree(height: u32) -> Hash32 {
    let mut node = [0u8; 32];
    for _ in 0..height {
        node = parent(&node, &node);
    }
    node
}

/// Reduces `layer` to its root in place, padding it with `pad` up to `width` nodes.
///
/// `width` must be a power of two no smaller than `layer.len()`; `layer` must not be
/// empty. `pad` is the hash of a node of this layer that lies past the end of the file.
pub(crate) fn root_of_layer(layer: &mut Vec<Hash32>, width: usize, pad: Hash32) -> Hash32 {
    debug_assert!(width.is_power_of_two() && width >= layer.len() && !layer.is_empty());
    let mut pad = pad;
    let mut width = width;
    while width > 1 {
        if layer.len() % 2 == 1 {
            layer.push(pad);
        }
        let pairs = layer.len() / 2;
        for i in 0..pairs {
            layer[i] = parent(&layer[2 * i], &layer[2 * i + 1]);
        }
        layer.truncate(pairs);
        pad = parent(&pad, &pad);
        width /= 2;
    }
    layer.first().copied().unwrap_or(pad)
}

/// Hashes `data` (one piece of a file, or a whole file smaller than a piece) into the
/// root of a subtree of `width` leaves; `scratch` is reused between calls.
///
/// `width` must be a power of two with `width * LEAF_SIZE >= data.len()`, and `data`
/// must not be empty.
pub(crate) fn subtree_root(data: &[u8], width: usize, scratch: &mut Vec<Hash32>) -> Hash32 {
    scratch.clear();
    scratch.extend(data.chunks(LEAF_SIZE).map(|block| -> Hash32 { Sha256::digest(block).into() }));
    root_of_layer(scratch, width, [0u8; 32])
}

/// The number of leaves of the tree over a file of `len` bytes: the block count rounded
/// up to a power of two (at least one).
pub(crate) fn leaf_width(len: u64) -> usize {
    let blocks = len.div_ceil(LEAF_SIZE as u64).max(1);
    usize::try_from(blocks.next_power_of_two()).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(data: &[u8]) -> Hash32 {
        Sha256::digest(data).into()
    }

    #[test]
    fn single_block_root_is_its_hash() {
        let data = vec![5u8; 1000];
        let mut scratch = Vec::new();
        assert_eq!(subtree_root(&data, 1, &mut scratch), leaf(&data));
    }

    #[test]
    fn three_blocks_pad_with_a_zero_leaf() {
        let data: Vec<u8> = (0..3 * LEAF_SIZE - 7).map(|i| (i % 251) as u8).collect();
        let blocks: Vec<&[u8]> = data.chunks(LEAF_SIZE).collect();
        let expected = parent(
            &parent(&leaf(blocks[0]), &leaf(blocks[1])),
            &parent(&leaf(blocks[2]), &[0u8; 32]),
        );
        let mut scratch = Vec::new();
        assert_eq!(subtree_root(&data, 4, &mut scratch), expected);
        // A wider tree (a short last piece) pads with whole zero subtrees.
        let wide = parent(&expected, &zero_subtree(2));
        assert_eq!(subtree_root(&data, 8, &mut scratch), wide);
    }

    #[test]
    fn layers_combine_like_leaves() {
        let a = leaf(b"a");
        let b = leaf(b"b");
        let c = leaf(b"c");
        let pad = zero_subtree(3);
        let expected = parent(&parent(&a, &b), &parent(&c, &pad));
        assert_eq!(root_of_layer(&mut vec![a, b, c], 4, pad), expected);
        assert_eq!(root_of_layer(&mut vec![a], 1, pad), a);
        assert_eq!(root_of_layer(&mut vec![a], 2, pad), parent(&a, &pad));
    }

    #[test]
    fn leaf_widths() {
        assert_eq!(leaf_width(0), 1);
        assert_eq!(leaf_width(1), 1);
        assert_eq!(leaf_width(LEAF_SIZE as u64), 1);
        assert_eq!(leaf_width(LEAF_SIZE as u64 + 1), 2);
        assert_eq!(leaf_width(5 * LEAF_SIZE as u64), 8);
    }
}
