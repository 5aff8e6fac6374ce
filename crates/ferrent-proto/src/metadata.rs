//! BEP 9 ut_metadata: messages and the assembly of an info dictionary from peers.

use crate::extension::ExtensionError;
use bytes::Bytes;
use ferrent_bencode::{decode_prefix, OwnedValue, Value};
use sha1::{Digest, Sha1};

/// Metadata travels in pieces of this size.
pub const METADATA_PIECE: usize = 16 * 1024;
/// Info dictionaries larger than this are refused (a hostile `metadata_size`).
pub const MAX_METADATA_SIZE: u64 = 16 * 1024 * 1024;

/// A ut_metadata message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataMessage {
    /// Asks for piece `piece`.
    Request {
        /// Piece index.
        piece: u32,
    },
    /// Piece `piece` of an info dictionary of `total_size` bytes.
    Data {
        /// Piece index.
        piece: u32,
        /// Size of the whole info dictionary.
        total_size: u64,
        /// The piece's bytes.
        data: Bytes,
    },
    /// The sender will not send piece `piece`.
    Reject {
        /// Piece index.
        piece: u32,
    },
}

impl MetadataMessage {
    /// Parses a ut_metadata payload.
    pub fn decode(payload: &Bytes) -> Result<Self, ExtensionError> {
        const MSG: &str = "ut_metadata message";
        let bad = |field| ExtensionError::BadField { message: MSG, field };
        let (dict, used) =
            decode_prefix(payload).map_err(|_| ExtensionError::NotADict { message: MSG })?;
        let int = |key: &[u8]| dict.get(key).and_then(Value::as_int);
        let piece = int(b"piece").and_then(|p| u32::try_from(p).ok()).ok_or(bad("piece"))?;
        match int(b"msg_type") {
            Some(0) => Ok(Self::Request { piece }),
            Some(1) => {
                let total_size = int(b"total_size")
                    .and_then(|s| u64::try_from(s).ok())
                    .ok_or(bad("total_size"))?;
                Ok(Self::Data { piece, total_size, data: payload.slice(used..) })
            }
            Some(2) => Ok(Self::Reject { piece }),
            _ => Err(bad("msg_type")),
        }
    }

    /// Encodes the message.
    pub fn encode(&self) -> Vec<u8> {
        let (kind, piece) = match self {
            Self::Request { piece } => (0, piece),
            Self::Data { piece, .. } => (1, piece),
            Self::Reject { piece } => (2, piece),
        };
        let mut dict = OwnedValue::dict([
            ("msg_type", OwnedValue::Int(kind)),
            ("piece", OwnedValue::Int(i64::from(*piece))),
        ]);
        if let Self::Data { total_size, .. } = self {
            dict = dict.with("total_size", *total_size as i64);
        }
        let mut out = dict.encode();
        if let Self::Data { data, .. } = self {
            out.extend_from_slice(data);
        }
        out
    }
}

/// Why assembling metadata failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// The advertised size is zero or over [`MAX_METADATA_SIZE`].
    #[error("metadata size {0} is out of range")]
    BadSize(u64),
    /// A piece had the wrong index, size or total.
    #[error("metadata piece {0} has the wrong size or total")]
    BadPiece(u32),
    /// All pieces arrived but their SHA-1 is not the info hash.
    #[error("metadata does not match the info hash")]
    HashMismatch,
}

/// Collects the pieces of an info dictionary and checks them against the info hash.
#[derive(Debug)]
pub struct MetadataAssembler {
    info_hash: [u8; 20],
    size: u64,
    pieces: Vec<Option<Bytes>>,
    requested: Vec<bool>,
}

impl MetadataAssembler {
    /// Starts assembling `size` bytes that must hash to `info_hash`.
    pub fn new(info_hash: [u8; 20], size: u64) -> Result<Self, MetadataError> {
        if size == 0 || size > MAX_METADATA_SIZE {
            return Err(MetadataError::BadSize(size));
        }
        let count = (size as usize).div_ceil(METADATA_PIECE);
        Ok(Self { info_hash, size, pieces: vec![None; count], requested: vec![false; count] })
    }

    /// The size being assembled.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// A piece nobody was asked for yet, or (all asked) one still missing.
    pub fn next_request(&mut self) -> Option<u32> {
        let fresh = self.requested.iter().position(|r| !r);
        let index = fresh.or_else(|| self.pieces.iter().position(Option::is_none))?;
        self.requested[index] = true;
        Some(index as u32)
    }

    /// A request for `piece` was rejected or lost: it may be asked of someone else.
    pub fn release(&mut self, piece: u32) {
        if let Some(r) = self.requested.get_mut(piece as usize) {
            *r = false;
        }
    }

    /// Takes a received piece. Returns the whole verified info dictionary once complete.
    pub fn receive(
        &mut self,
        piece: u32,
        total_size: u64,
        data: Bytes,
    ) -> Result<Option<Vec<u8>>, MetadataError> {
        let index = piece as usize;
        let expected = if index + 1 == self.pieces.len() {
            self.size as usize - index * METADATA_PIECE
        } else {
            METADATA_PIECE
        };
        if total_size != self.size || index >= self.pieces.len() || data.len() != expected {
            return Err(MetadataError::BadPiece(piece));
        }
        self.pieces[index] = Some(data);
        if self.pieces.iter().any(Option::is_none) {
            return Ok(None);
        }
        let mut whole = Vec::with_capacity(self.size as usize);
        for p in self.pieces.iter().flatten() {
            whole.extend_from_slice(p);
        }
        if <[u8; 20]>::from(Sha1::digest(&whole)) != self.info_hash {
            self.pieces.fill(None);
            self.requested.fill(false);
            return Err(MetadataError::HashMismatch);
        }
        Ok(Some(whole))
    }
}

/// The bytes of metadata piece `piece` of `info`, if it exists.
pub fn metadata_piece(info: &Bytes, piece: u32) -> Option<Bytes> {
    let start = (piece as usize).checked_mul(METADATA_PIECE)?;
    (start < info.len()).then(|| info.slice(start..(start + METADATA_PIECE).min(info.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        for m in [
            MetadataMessage::Request { piece: 2 },
            MetadataMessage::Reject { piece: 0 },
            MetadataMessage::Data { piece: 1, total_size: 20000, data: Bytes::from_static(b"xyz") },
        ] {
            assert_eq!(MetadataMessage::decode(&Bytes::from(m.encode())).unwrap(), m);
        }
        assert!(MetadataMessage::decode(&Bytes::from_static(b"d8:msg_typei7e5:piecei0ee")).is_err());
        assert!(MetadataMessage::decode(&Bytes::from_static(b"garbage")).is_err());
    }

    #[test]
    fn assembles_verifies_and_retries() {
        let info: Vec<u8> = (0..40_000u32).map(|i| i as u8).collect();
        let hash: [u8; 20] = Sha1::digest(&info).into();
        let info = Bytes::from(info);
        assert!(MetadataAssembler::new(hash, MAX_METADATA_SIZE + 1).is_err());
        let mut asm = MetadataAssembler::new(hash, info.len() as u64).unwrap();
        let total = info.len() as u64;
        assert_eq!(asm.next_request(), Some(0));
        assert_eq!(asm.next_request(), Some(1));
        assert_eq!(asm.next_request(), Some(2));
        assert_eq!(
            asm.receive(0, total, Bytes::from_static(b"short")),
            Err(MetadataError::BadPiece(0))
        );
        asm.receive(0, total, metadata_piece(&info, 0).unwrap()).unwrap();
        asm.receive(1, total, metadata_piece(&info, 1).unwrap()).unwrap();
        let mut bad = metadata_piece(&info, 2).unwrap().to_vec();
        bad[0] ^= 1;
        assert_eq!(asm.receive(2, total, bad.into()), Err(MetadataError::HashMismatch));
        for p in 0..3 {
            asm.receive(p, total, metadata_piece(&info, p).unwrap()).unwrap_or_default();
        }
        let mut asm = MetadataAssembler::new(hash, total).unwrap();
        let mut done = None;
        for p in 0..3 {
            done = asm.receive(p, total, metadata_piece(&info, p).unwrap()).unwrap();
        }
        assert_eq!(done.as_deref(), Some(&info[..]));
        assert!(metadata_piece(&info, 3).is_none());
    }
}
