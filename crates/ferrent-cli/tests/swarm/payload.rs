//! Deterministic test payloads, `.torrent` files made by `mktorrent`, and content checks.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{peers_dir, PYTHON};

/// Bytes generated per write.
const CHUNK: usize = 1 << 16;

/// One file of a payload.
#[derive(Clone, Debug)]
pub struct PayloadFile {
    /// Path relative to the payload's parent directory (starts with the torrent name).
    pub rel: PathBuf,
    /// Length in bytes.
    pub len: u64,
    /// SHA-256 of the content.
    pub sha256: [u8; 32],
}

/// Files of pseudo-random content under `parent/name`, as a torrent's content.
#[derive(Clone, Debug)]
pub struct Payload {
    /// The directory holding `name` (what clients call the save path).
    pub parent: PathBuf,
    /// The torrent's name: the file (single-file) or top directory (multi-file).
    pub name: String,
    /// The files, in the order `mktorrent` lists them (sorted by path).
    pub files: Vec<PayloadFile>,
}

impl Payload {
    /// A single-file payload `parent/name` of `len` bytes.
    pub fn single(parent: &Path, name: &str, len: u64, seed: u64) -> Payload {
        let file = write_file(parent, Path::new(name), len, seed);
        Payload { parent: parent.to_owned(), name: name.to_owned(), files: vec![file] }
    }

    /// A multi-file payload `parent/name/<path>` for each `(path, len)`; paths may nest.
    pub fn multi(parent: &Path, name: &str, files: &[(&str, u64)], seed: u64) -> Payload {
        let mut sorted: Vec<(&str, u64)> = files.to_vec();
        sorted.sort();
        let files = sorted
            .iter()
            .enumerate()
            .map(|(i, (path, len))| {
                let rel = Path::new(name).join(path);
                write_file(parent, &rel, *len, seed.wrapping_add(i as u64 + 1))
            })
            .collect();
        Payload { parent: parent.to_owned(), name: name.to_owned(), files }
    }

    /// The standard multi-file layout for 32 KiB pieces: nested directories, a file smaller than
    /// a piece, and piece 1 (32..64 KiB) spanning four files (40 KiB, 5 KiB, 3 KiB, 30 KiB).
    pub fn spanning(parent: &Path, name: &str, seed: u64) -> Payload {
        Payload::multi(
            parent,
            name,
            &[
                ("a/01-forty.bin", 40 << 10),
                ("a/b/02-five.bin", 5 << 10),
                ("a/b/03-three.bin", 3 << 10),
                ("c/04-thirty.bin", 30 << 10),
                ("c/d/e/05-large.bin", (2 << 20) + 12_345),
                ("m/06-medium.bin", (1 << 20) + 777),
                ("s/07-small.bin", 100_000),
            ],
            seed,
        )
    }

    /// `count` files of a few KiB under `parent/name/dNN/` with long names: a torrent whose
    /// info dictionary spans several 16 KiB metadata pieces (BEP 9) while the payload stays
    /// small (about 3.3 KiB per file).
    pub fn many(parent: &Path, name: &str, count: usize, seed: u64) -> Payload {
        let files: Vec<(String, u64)> = (0..count)
            .map(|i| {
                let path =
                    format!("d{:02}/file-{i:04}-with-a-long-name-to-fill-the-info.bin", i % 16);
                (path, 3000 + (7 * i as u64) % 701)
            })
            .collect();
        let borrowed: Vec<(&str, u64)> = files.iter().map(|(p, l)| (p.as_str(), *l)).collect();
        Payload::multi(parent, name, &borrowed, seed)
    }

    /// `parent/name`: the file or top directory.
    pub fn target(&self) -> PathBuf {
        self.parent.join(&self.name)
    }

    /// Sum of the file lengths.
    pub fn total_len(&self) -> u64 {
        self.files.iter().map(|f| f.len).sum()
    }

    /// Checks that file `index` exists under `parent` with the expected content.
    pub fn file_matches(&self, parent: &Path, index: usize) -> Result<(), String> {
        let file = &self.files[index];
        let path = parent.join(&file.rel);
        let (len, digest) = hash_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if len != file.len {
            return Err(format!("{}: {len} bytes, expected {}", path.display(), file.len));
        }
        if digest != file.sha256 {
            return Err(format!(
                "{}: SHA-256 {} differs from the source",
                path.display(),
                hex::encode(digest)
            ));
        }
        Ok(())
    }

    /// Panics unless every file exists under `parent` with the expected content and no
    /// `.part` file is left anywhere under `parent`.
    pub fn assert_complete_in(&self, parent: &Path) {
        let errors: Vec<String> =
            (0..self.files.len()).filter_map(|i| self.file_matches(parent, i).err()).collect();
        assert!(
            errors.is_empty(),
            "downloaded content differs from the source:\n{}",
            errors.join("\n")
        );
        let parts = files_with_suffix(parent, ".part");
        assert!(parts.is_empty(), "'.part' files left after completion: {parts:?}");
    }
}

/// Facts about a `.torrent` as libtorrent reads it (`lt_peer.py info`).
#[derive(Clone, Debug, Deserialize)]
pub struct TorrentInfo {
    /// SHA-1 info hash, lowercase hex.
    pub info_hash: String,
    /// The torrent's name.
    pub name: String,
    /// Bytes per piece.
    pub piece_length: u64,
    /// Number of pieces.
    pub num_pieces: u32,
    /// Sum of the file lengths.
    pub total_size: u64,
    /// BEP 27 private flag.
    pub private: bool,
    /// Announce URLs, tier by tier.
    pub trackers: Vec<String>,
    /// Files in torrent order.
    pub files: Vec<TorrentFile>,
}

/// One file of a torrent.
#[derive(Clone, Debug, Deserialize)]
pub struct TorrentFile {
    /// Path inside the torrent, starting with the torrent name for multi-file torrents.
    pub path: String,
    /// Length in bytes.
    pub size: u64,
    /// Offset of the file's first byte in the torrent's byte stream.
    pub offset: u64,
}

/// Whether a torrent carries the BEP 27 private flag (which rules out the DHT, PEX and LSD).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Privacy {
    /// `private=1`: peers come from the trackers (and `--peer`) only.
    Private,
    /// No private flag.
    Public,
}

/// A `.torrent` file and its facts.
#[derive(Clone, Debug)]
pub struct Torrent {
    /// Where the `.torrent` is.
    pub path: PathBuf,
    /// Its facts.
    pub info: TorrentInfo,
}

impl Torrent {
    /// Runs `mktorrent` on `payload` (private flag set, pieces of `2^piece_log2` bytes), one
    /// announce tier per entry of `tiers` (each a comma-separated list of URLs).
    pub fn make(payload: &Payload, out: &Path, piece_log2: u32, tiers: &[String]) -> Torrent {
        Torrent::make_with(payload, out, piece_log2, tiers, Privacy::Private)
    }

    /// [`Torrent::make`] with the private flag as `privacy` says.
    pub fn make_with(
        payload: &Payload,
        out: &Path,
        piece_log2: u32,
        tiers: &[String],
        privacy: Privacy,
    ) -> Torrent {
        Torrent::mktorrent(payload, out, piece_log2, tiers, privacy, &[])
    }

    /// A public torrent of `payload` with no tracker and these BEP 19 web seeds (`url-list`).
    pub fn make_web_seeded(
        payload: &Payload,
        out: &Path,
        piece_log2: u32,
        web_seeds: &[String],
    ) -> Torrent {
        Torrent::mktorrent(payload, out, piece_log2, &[], Privacy::Public, web_seeds)
    }

    fn mktorrent(
        payload: &Payload,
        out: &Path,
        piece_log2: u32,
        tiers: &[String],
        privacy: Privacy,
        web_seeds: &[String],
    ) -> Torrent {
        let mut cmd = Command::new("mktorrent");
        if privacy == Privacy::Private {
            cmd.arg("-p");
        }
        cmd.arg("-d").arg(format!("-l{piece_log2}")).arg("-o").arg(out);
        for tier in tiers {
            cmd.arg("-a").arg(tier);
        }
        for url in web_seeds {
            cmd.arg("-w").arg(url);
        }
        cmd.arg(payload.target());
        run_ok("mktorrent", &mut cmd);
        let info = run_ok(
            "lt_peer.py info",
            Command::new(PYTHON).arg(peers_dir().join("lt_peer.py")).arg("info").arg(out),
        );
        let info: TorrentInfo =
            serde_json::from_slice(&info).unwrap_or_else(|e| panic!("lt_peer.py info output: {e}"));
        let listed: Vec<(String, u64)> =
            info.files.iter().map(|f| (f.path.clone(), f.size)).collect();
        let ours: Vec<(String, u64)> =
            payload.files.iter().map(|f| (f.rel.to_string_lossy().into_owned(), f.len)).collect();
        assert_eq!(listed, ours, "the torrent's file list differs from the payload's");
        assert_eq!(info.private, privacy == Privacy::Private, "mktorrent's private flag");
        Torrent { path: out.to_owned(), info }
    }

    /// A magnet link for this torrent: `xt` (v1 info hash), `dn`, and one `x.pe` per peer.
    pub fn magnet(&self, peers: &[SocketAddr]) -> String {
        let mut uri = format!(
            "magnet:?xt=urn:btih:{}&dn={}",
            self.info.info_hash,
            uri_escape(&self.info.name)
        );
        for peer in peers {
            uri.push_str(&format!("&x.pe={}", uri_escape(&peer.to_string())));
        }
        uri
    }

    /// The byte range `[start, end)` of piece `index` in the torrent's byte stream.
    pub fn piece_range(&self, index: u32) -> (u64, u64) {
        let start = u64::from(index) * self.info.piece_length;
        (start, (start + self.info.piece_length).min(self.info.total_size))
    }

    /// Copies `payload` under `parent`, zeroing every piece for which `keep` is false, so a
    /// client checking the copy finds exactly the kept pieces.
    pub fn partial_copy(&self, payload: &Payload, parent: &Path, keep: impl Fn(u32) -> bool) {
        for (file, meta) in payload.files.iter().zip(&self.info.files) {
            let dest = parent.join(&file.rel);
            std::fs::create_dir_all(dest.parent().expect("payload files have a parent"))
                .expect("create directories for a partial copy");
            let mut data =
                std::fs::read(payload.parent.join(&file.rel)).expect("read payload file");
            for index in 0..self.info.num_pieces {
                if keep(index) {
                    continue;
                }
                let (start, end) = self.piece_range(index);
                let lo = start.max(meta.offset);
                let hi = end.min(meta.offset + meta.size);
                if lo < hi {
                    data[(lo - meta.offset) as usize..(hi - meta.offset) as usize].fill(0);
                }
            }
            std::fs::write(&dest, data).expect("write partial copy");
        }
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn uri_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every file under `dir` (recursively) whose name ends with `suffix`.
pub fn files_with_suffix(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                found.push(path);
            }
        }
    }
    found
}

/// Length and SHA-256 of a file.
pub fn hash_file(path: &Path) -> std::io::Result<(u64, [u8; 32])> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut len = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok((len, hasher.finalize().into()));
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
}

fn write_file(parent: &Path, rel: &Path, len: u64, seed: u64) -> PayloadFile {
    let path = parent.join(rel);
    std::fs::create_dir_all(path.parent().expect("payload paths have a parent"))
        .unwrap_or_else(|e| panic!("create directories for {}: {e}", path.display()));
    let mut out = BufWriter::new(
        File::create(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display())),
    );
    let mut rng = SplitMix64(seed);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut left = len;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        for word in buf[..n].chunks_mut(8) {
            word.copy_from_slice(&rng.next().to_le_bytes()[..word.len()]);
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).expect("write payload");
        left -= n as u64;
    }
    out.flush().expect("flush payload");
    PayloadFile { rel: rel.to_owned(), len, sha256: hasher.finalize().into() }
}

/// The SplitMix64 generator: tiny, fast and deterministic.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Runs `cmd`, panicking with its output unless it succeeds; returns its stdout.
pub fn run_ok(what: &str, cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {what} ({cmd:?}): {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
