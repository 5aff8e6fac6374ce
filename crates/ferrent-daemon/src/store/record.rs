//! What is saved per torrent, and the checksummed envelope around every state file.
//!
//! A state file is one JSON object: `{"format":1,"sha256":"<hex>","record":{...}}`, where
//! the digest covers the exact bytes of `record`. A file that does not parse, has another
//! format, or whose digest does not match is corrupt and never trusted.

use data_encoding::BASE64;
use ferrent_core::InfoHashV1;
use ferrent_session::{FileStamp, ResumeData};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// The envelope format written and the only one read.
const FORMAT: u32 = 1;

/// Why a state file was not trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Not a JSON envelope (e.g. torn or truncated).
    #[error("not a state file envelope: {0}")]
    Envelope(String),
    /// Written by another version of the format.
    #[error("unknown state file format {0} (this build reads format {FORMAT})")]
    Format(u32),
    /// The content does not match its checksum.
    #[error("checksum mismatch: the file says {expected}, its content hashes to {actual}")]
    Checksum {
        /// The digest stored in the file.
        expected: String,
        /// The digest of the content.
        actual: String,
    },
    /// The checksum matches but a field is wrong.
    #[error("bad record: {0}")]
    Record(String),
}

#[derive(Deserialize)]
struct Envelope<'a> {
    format: u32,
    sha256: String,
    #[serde(borrow)]
    record: &'a RawValue,
}

/// Wraps `record` in a checksummed envelope.
pub fn encode<T: Serialize>(record: &T) -> Vec<u8> {
    // Serializing plain structs of strings, numbers and vectors cannot fail.
    let body = serde_json::to_string(record).unwrap_or_else(|_| "null".into());
    let digest = hex::encode(Sha256::digest(body.as_bytes()));
    format!("{{\"format\":{FORMAT},\"sha256\":\"{digest}\",\"record\":{body}}}\n").into_bytes()
}

/// Checks the envelope and its checksum, then parses the record.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, RecordError> {
    let envelope: Envelope<'_> =
        serde_json::from_slice(bytes).map_err(|e| RecordError::Envelope(e.to_string()))?;
    if envelope.format != FORMAT {
        return Err(RecordError::Format(envelope.format));
    }
    let actual = hex::encode(Sha256::digest(envelope.record.get().as_bytes()));
    if !actual.eq_ignore_ascii_case(&envelope.sha256) {
        return Err(RecordError::Checksum { expected: envelope.sha256, actual });
    }
    serde_json::from_str(envelope.record.get()).map_err(|e| RecordError::Record(e.to_string()))
}

/// One torrent's settings and resume data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TorrentRecord {
    /// The v1 info hash, hex in the file; must match the file name.
    #[serde(with = "hex_info_hash")]
    pub info_hash: InfoHashV1,
    /// Display name.
    pub name: String,
    /// When it was added, seconds since the Unix epoch.
    pub added_at: u64,
    /// Its download directory (shared with the other torrents stored there).
    #[serde(with = "shared_path")]
    pub download_dir: Arc<Path>,
    /// Paused by the user.
    pub paused: bool,
    /// Per-file priorities (0 = skip); `None` = all normal.
    pub file_priorities: Option<Vec<u8>>,
    /// Upload cap, bytes per second (0 = none).
    pub upload_limit: u64,
    /// Download cap, bytes per second (0 = none).
    pub download_limit: u64,
    /// A magnet link for the torrent: with it the torrent is fetched again from the swarm
    /// when its .torrent file is missing (a magnet added before its metadata arrived, or
    /// a lost file).
    pub magnet: String,
    /// Peers given when it was added.
    pub peers: Vec<SocketAddr>,
    /// Verified pieces and file stamps, when known (in memory only until the torrent starts).
    pub resume: Option<Box<StoredResume>>,
}

/// An info hash as 40 hex characters.
mod hex_info_hash {
    use ferrent_core::InfoHashV1;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(hash: &InfoHashV1, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hash.to_hex())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<InfoHashV1, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        match text.len() {
            40 => InfoHashV1::parse(&text).map_err(serde::de::Error::custom),
            n => Err(serde::de::Error::custom(format!("info hash of {n} characters, not 40 hex"))),
        }
    }
}

/// A path held as an `Arc<Path>`.
mod shared_path {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    pub(super) fn serialize<S: Serializer>(path: &Arc<Path>, s: S) -> Result<S::Ok, S::Error> {
        path.serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<Path>, D::Error> {
        PathBuf::deserialize(d).map(Arc::from)
    }
}

/// [`ResumeData`] with the bitfield in base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResume {
    /// The verified-piece bitfield, base64.
    pub have: String,
    /// Each file's size and mtime when `have` was taken.
    pub files: Vec<Option<FileStamp>>,
}

impl From<&ResumeData> for StoredResume {
    fn from(r: &ResumeData) -> Self {
        Self { have: BASE64.encode(&r.have), files: r.files.clone() }
    }
}

impl StoredResume {
    /// Back to the session's form; `None` when the bitfield is not valid base64.
    pub fn to_resume(&self) -> Option<ResumeData> {
        let have = BASE64.decode(self.have.as_bytes()).ok()?;
        Some(ResumeData { have, files: self.files.clone() })
    }

    /// Verified pieces in the bitfield.
    pub fn have_count(&self) -> u32 {
        BASE64.decode(self.have.as_bytes()).map_or(0, |b| b.iter().map(|x| x.count_ones()).sum())
    }
}

/// Settings of the whole session changed at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SessionRecord {
    /// Upload cap set through the API.
    pub upload_limit: u64,
    /// Download cap set through the API.
    pub download_limit: u64,
    /// The config file's caps when those were set: once the file says something else,
    /// the file wins.
    pub config_upload_limit: u64,
    /// See `config_upload_limit`.
    pub config_download_limit: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> TorrentRecord {
        TorrentRecord {
            info_hash: InfoHashV1([0xab; 20]),
            name: "x".into(),
            added_at: 1,
            download_dir: Path::new("/d").into(),
            paused: false,
            file_priorities: Some(vec![1, 0]),
            upload_limit: 0,
            download_limit: 5,
            magnet: "magnet:?xt=urn:btih:".to_string() + &"ab".repeat(20),
            peers: vec!["127.0.0.1:1".parse().unwrap()],
            resume: Some(Box::new(StoredResume::from(&ResumeData {
                have: vec![0xff, 0x80],
                files: vec![Some(FileStamp { size: 3, mtime_ns: 1_700_000_000_123_456_789 }), None],
            }))),
        }
    }

    #[test]
    fn round_trips() {
        let bytes = encode(&record());
        assert_eq!(decode::<TorrentRecord>(&bytes).unwrap(), record());
        let resume = record().resume.unwrap();
        assert_eq!(resume.have_count(), 9);
        assert_eq!(resume.to_resume().unwrap().have, vec![0xff, 0x80]);
    }

    #[test]
    fn a_bad_info_hash_is_a_bad_record_even_with_a_good_checksum() {
        for bad in ["zz", &"g".repeat(40), &"ab".repeat(21)] {
            let mut value = serde_json::to_value(record()).unwrap();
            value["info_hash"] = serde_json::Value::from(bad);
            let bytes = encode(&value);
            assert!(
                matches!(decode::<TorrentRecord>(&bytes), Err(RecordError::Record(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_truncation_is_detected() {
        let bytes = encode(&record());
        for len in 0..bytes.len() - 1 {
            assert!(
                decode::<TorrentRecord>(&bytes[..len]).is_err(),
                "a torn file of {len} bytes was trusted"
            );
        }
    }

    #[test]
    fn a_changed_byte_is_detected() {
        let bytes = encode(&record());
        let text = String::from_utf8(bytes).unwrap();
        let tampered = text.replace("\"paused\":false", "\"paused\":true ");
        assert_ne!(tampered, text);
        let err = decode::<TorrentRecord>(tampered.as_bytes()).unwrap_err();
        assert!(matches!(err, RecordError::Checksum { .. }), "{err}");
        let other = text.replace("\"format\":1", "\"format\":2");
        assert_eq!(decode::<TorrentRecord>(other.as_bytes()).unwrap_err(), RecordError::Format(2));
    }
}
