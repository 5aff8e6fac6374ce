//! `.torrent` files (BEP 3, 12, 19, 27, 47, 52): parsing, validation and writing back.

mod error;
mod fields;
mod info;
mod path;
mod v2;

use std::collections::BTreeMap;

use ferrent_bencode::{Dict, DictWriter, OwnedValue, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};

pub use error::{MetainfoError, PathProblem, Problem};
pub use info::{FileEntry, Info};

use crate::info_hash::{InfoHashV1, InfoHashV2, InfoHashes};
use crate::magnet::{unique_in_order, Magnet};
use error::At;

type Result<T> = std::result::Result<T, MetainfoError>;

/// A parsed and validated torrent: the info dictionary plus its surrounding metadata.
///
/// ```
/// use ferrent_bencode::OwnedValue;
/// use ferrent_core::Metainfo;
///
/// let info = OwnedValue::dict([
///     ("name", OwnedValue::from("hello.txt")),
///     ("length", OwnedValue::from(5)),
///     ("piece length", OwnedValue::from(16384)),
///     ("pieces", OwnedValue::from(vec![0u8; 20])),
/// ]);
/// let torrent = OwnedValue::dict([
///     ("announce", OwnedValue::from("http://127.0.0.1:6969/announce")),
///     ("info", info),
/// ]);
/// let m = Metainfo::from_bytes(&torrent.encode()).unwrap();
/// assert_eq!(m.info.name, "hello.txt");
/// assert_eq!(m.info.total_length(), 5);
/// assert_eq!(m.trackers, vec![vec!["http://127.0.0.1:6969/announce".to_string()]]);
/// assert!(m.info_hashes.v1.is_some() && m.info_hashes.v2.is_none());
/// assert_eq!(Metainfo::from_bytes(&m.to_torrent_bytes()).unwrap(), m);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metainfo {
    /// The validated info dictionary.
    pub info: Info,
    /// The info dictionary's original bytes, which the info hashes are computed over.
    pub info_bytes: Vec<u8>,
    /// SHA-1 (v1, hybrid) and SHA-256 (v2, hybrid) of `info_bytes`.
    pub info_hashes: InfoHashes,
    /// Tracker tiers (BEP 12). `announce-list` wins when present; otherwise a lone
    /// `announce` forms one tier. Empty URLs and tiers are dropped.
    pub trackers: Vec<Vec<String>>,
    /// Web seed URLs (BEP 19 `url-list`).
    pub web_seeds: Vec<String>,
    /// `creation date`, seconds since the Unix epoch.
    pub creation_date: Option<i64>,
    /// `created by` (invalid UTF-8 replaced).
    pub created_by: Option<String>,
    /// `comment` (invalid UTF-8 replaced; `comment.utf-8` preferred).
    pub comment: Option<String>,
    /// BEP 52 piece layers by pieces root, for every file longer than one piece; each
    /// is verified against its root. Empty when the metainfo came from bare info bytes.
    pub piece_layers: BTreeMap<[u8; 32], Vec<u8>>,
}

impl Metainfo {
    /// Parses and validates a `.torrent` file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Metainfo> {
        let root = ferrent_bencode::decode(bytes)?;
        let top = fields::dict(&root, &At::Root("torrent"))?;
        let info_at = At::Root("info");
        let info_value = fields::required(top, "info", &info_at)?;
        let mut metainfo = Self::from_info_value(info_value, parse_trackers(top)?)?;
        metainfo.web_seeds = parse_web_seeds(top)?;
        metainfo.creation_date = top
            .get(b"creation date")
            .map(|v| fields::int(v, &At::Root("creation date")))
            .transpose()?;
        metainfo.created_by = lossy_text(top, "created by", "created by.utf-8")?;
        metainfo.comment = lossy_text(top, "comment", "comment.utf-8")?;
        if metainfo.info.has_v2() {
            metainfo.piece_layers =
                v2::parse_piece_layers(top.get(b"piece layers"), &metainfo.info)?;
        }
        Ok(metainfo)
    }

    /// Builds a metainfo from a bare info dictionary, as received over BEP 9 after a magnet
    /// link, with the given tracker tiers. v2 piece layers are left empty: they have to be
    /// fetched from peers.
    pub fn from_info_bytes(info_bytes: &[u8], trackers: Vec<Vec<String>>) -> Result<Metainfo> {
        Self::from_info_value(&ferrent_bencode::decode(info_bytes)?, trackers)
    }

    fn from_info_value(value: &Value<'_>, trackers: Vec<Vec<String>>) -> Result<Metainfo> {
        let info = Info::parse(value)?;
        let raw = value.raw();
        let info_hashes = InfoHashes {
            v1: info.has_v1().then(|| InfoHashV1(Sha1::digest(raw).into())),
            v2: info.has_v2().then(|| InfoHashV2(Sha256::digest(raw).into())),
        };
        Ok(Metainfo {
            info,
            info_bytes: raw.to_vec(),
            info_hashes,
            trackers,
            web_seeds: Vec::new(),
            creation_date: None,
            created_by: None,
            comment: None,
            piece_layers: BTreeMap::new(),
        })
    }

    /// Encodes a `.torrent` file, embedding `info_bytes` verbatim so the info hashes stay
    /// the same.
    ///
    /// # Panics
    /// Only if `info_bytes` was replaced by something that is not one bencoded value.
    pub fn to_torrent_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.info_bytes.len() + 512);
        let mut w = DictWriter::new(&mut out);
        let urls: Vec<&String> = self.trackers.iter().flatten().collect();
        if let Some(first) = urls.first() {
            w.entry(b"announce", &OwnedValue::from(first.as_str()));
        }
        if urls.len() > 1 {
            let tiers = self.trackers.iter().map(|tier| {
                OwnedValue::list(tier.iter().map(|url| OwnedValue::from(url.as_str())))
            });
            w.entry(b"announce-list", &OwnedValue::list(tiers));
        }
        if let Some(comment) = &self.comment {
            w.entry(b"comment", &OwnedValue::from(comment.as_str()));
        }
        if let Some(created_by) = &self.created_by {
            w.entry(b"created by", &OwnedValue::from(created_by.as_str()));
        }
        if let Some(date) = self.creation_date {
            w.entry(b"creation date", &OwnedValue::Int(date));
        }
        w.entry_raw(b"info", &self.info_bytes)
            .expect("info_bytes holds the info dictionary this metainfo was parsed from");
        if !self.piece_layers.is_empty() {
            let layers =
                self.piece_layers.iter().map(|(root, layer)| (root, OwnedValue::from(&layer[..])));
            w.entry(b"piece layers", &OwnedValue::dict(layers));
        }
        if !self.web_seeds.is_empty() {
            let seeds = self.web_seeds.iter().map(|url| OwnedValue::from(url.as_str()));
            w.entry(b"url-list", &OwnedValue::list(seeds));
        }
        w.finish();
        out
    }

    /// A magnet link for this torrent: its hashes, name, trackers and web seeds (each URL
    /// once).
    pub fn magnet(&self) -> Magnet {
        Magnet {
            info_hashes: self.info_hashes,
            display_name: Some(self.info.name.clone()),
            trackers: unique_in_order(self.trackers.iter().flatten().cloned()),
            web_seeds: unique_in_order(self.web_seeds.iter().cloned()),
            ..Magnet::default()
        }
    }
}

/// BEP 12 tiers from `announce-list`, else one tier holding `announce`.
fn parse_trackers(top: &Dict<'_>) -> Result<Vec<Vec<String>>> {
    let mut tiers = Vec::new();
    if let Some(list) = top.get(b"announce-list") {
        let at = At::Root("announce-list");
        for (i, tier) in fields::list(list, &at)?.iter().enumerate() {
            let tier_at = at.index(i);
            let mut urls = Vec::new();
            for (j, url) in fields::list(tier, &tier_at)?.iter().enumerate() {
                let url = fields::utf8(url, &tier_at.index(j))?.trim();
                if !url.is_empty() {
                    urls.push(url.to_owned());
                }
            }
            let urls = unique_in_order(urls);
            if !urls.is_empty() {
                tiers.push(urls);
            }
        }
    }
    if tiers.is_empty() {
        if let Some(announce) = top.get(b"announce") {
            let url = fields::utf8(announce, &At::Root("announce"))?.trim();
            if !url.is_empty() {
                tiers.push(vec![url.to_owned()]);
            }
        }
    }
    Ok(tiers)
}

/// BEP 19 `url-list`: one URL or a list of them.
fn parse_web_seeds(top: &Dict<'_>) -> Result<Vec<String>> {
    let at = At::Root("url-list");
    let Some(value) = top.get(b"url-list") else { return Ok(Vec::new()) };
    let urls = match value.as_bytes() {
        Some(_) => vec![fields::utf8(value, &at)?],
        None => fields::list(value, &at)?
            .iter()
            .enumerate()
            .map(|(i, v)| fields::utf8(v, &at.index(i)))
            .collect::<Result<Vec<_>>>()?,
    };
    Ok(urls.into_iter().map(str::trim).filter(|u| !u.is_empty()).map(str::to_owned).collect())
}

/// Free text such as `comment`: the `.utf-8` variant when present, invalid UTF-8 replaced.
fn lossy_text(top: &Dict<'_>, key: &'static str, utf8_key: &'static str) -> Result<Option<String>> {
    let (value, at) = match (top.get(utf8_key.as_bytes()), top.get(key.as_bytes())) {
        (Some(v), _) => (v, At::Root(utf8_key)),
        (None, Some(v)) => (v, At::Root(key)),
        (None, None) => return Ok(None),
    };
    Ok(Some(String::from_utf8_lossy(fields::bytes(value, &at)?).into_owned()))
}
