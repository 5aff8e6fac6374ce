//! Core BitTorrent types shared by every ferrent crate.
//!
//! * [`InfoHashV1`], [`InfoHashV2`], [`InfoHashes`]: torrent identities (BEP 3, BEP 52).
//! * [`Metainfo`]: a parsed and validated `.torrent` file (v1, v2 and hybrid).
//! * [`Magnet`]: a parsed magnet link (BEP 9, BEP 53).
//! * [`Lengths`], [`PieceIndex`], [`BlockRef`]: piece and block geometry; raw integers from the
//!   network become these validated types before anything else sees them.
//! * [`Bitfield`]: which pieces a peer (or we) have.
//!
//! Nothing here does I/O: every type is built from bytes or strings and is cheap to test.
//!
//! ```
//! use ferrent_core::{Lengths, BLOCK_SIZE};
//! let lengths = Lengths::new(100_000, 32_768).unwrap();
//! assert_eq!(lengths.piece_count(), 4);
//! let last = lengths.piece(3).unwrap();
//! assert_eq!(lengths.piece_len(last), 100_000 - 3 * 32_768);
//! assert_eq!(lengths.nth_block(last, 0).map(|b| b.len), Some(1_696));
//! assert!(lengths.block(last, 0, BLOCK_SIZE).is_none());
//! ```
#![deny(missing_docs)]

mod bitfield;
mod geometry;
mod info_hash;
mod magnet;
mod metainfo;

pub use bitfield::{Bitfield, BitfieldError};
pub use geometry::{BlockRef, Lengths, LengthsError, PieceIndex, BLOCK_SIZE};
pub use info_hash::{InfoHashError, InfoHashV1, InfoHashV2, InfoHashes};
pub use magnet::{Magnet, MagnetError, PeerAddr};
pub use metainfo::{FileEntry, Info, Metainfo, MetainfoError, PathProblem, Problem};
