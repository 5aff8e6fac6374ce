//! The state directory: per torrent `<infohash>.torrent` (the metainfo as added) and
//! `<infohash>.json` (settings and resume data in a checksummed envelope), plus
//! `session.json` for run-time session settings.
//!
//! Writes are atomic (`atomic`). A torrent exists once its `.json` exists: adding writes
//! the `.torrent` first, removing deletes the `.json` first, so a `.torrent` without a
//! `.json` is the trace of an interrupted add or remove and is cleaned up. A state file
//! that fails its checks is renamed `*.corrupt`, reported, and never trusted.

mod atomic;
pub mod record;

pub use record::{RecordError, SessionRecord, StoredResume, TorrentRecord};

use atomic::{sync_dir, write_atomic, TMP_SUFFIX};
use ferrent_core::InfoHashV1;
use std::collections::BTreeMap;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A state-directory operation that failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {path}: {source}")]
pub struct StoreError {
    /// What was being done.
    pub action: &'static str,
    /// The file or directory.
    pub path: PathBuf,
    /// The cause.
    pub source: io::Error,
}

/// Something found wrong in the state directory at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreProblem {
    /// The file.
    pub path: PathBuf,
    /// What was wrong and what was done about it.
    pub message: String,
}

/// A torrent found in the state directory.
#[derive(Debug, Clone)]
pub struct StoredTorrent {
    /// Its info hash.
    pub info_hash: InfoHashV1,
    /// Its record; `None` when the record was corrupt (it was set aside and the torrent
    /// must be rechecked with default settings).
    pub record: Option<TorrentRecord>,
}

/// What [`StateStore::load`] found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Torrents to start, in info-hash order.
    pub torrents: Vec<StoredTorrent>,
    /// Corrupt files set aside and other findings, to report.
    pub problems: Vec<StoreProblem>,
}

/// Why a stored .torrent could not be used.
#[derive(Debug, thiserror::Error)]
pub enum MetainfoProblem {
    /// There is none (a magnet whose metadata never arrived).
    #[error("no .torrent file")]
    Missing,
    /// It could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// It is corrupt; it was renamed `*.corrupt`.
    #[error("{path} is corrupt ({reason}); set aside as .corrupt")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
}

/// The state directory.
#[derive(Debug, Clone)]
pub struct StateStore {
    dir: PathBuf,
}

const RECORD_EXT: &str = "json";
const TORRENT_EXT: &str = "torrent";
const SESSION_FILE: &str = "session.json";
const CORRUPT_SUFFIX: &str = ".corrupt";

impl StateStore {
    /// Opens (creating, mode 0700) the state directory.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|source| {
            StoreError { action: "create directory", path: dir.to_path_buf(), source }
        })?;
        Ok(Self { dir: dir.to_path_buf() })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, info_hash: &InfoHashV1, ext: &str) -> PathBuf {
        self.dir.join(format!("{}.{ext}", info_hash.to_hex()))
    }

    /// Lists the torrents, checking every record (in parallel over `threads`). Deletes
    /// temporary files and orphaned `.torrent` files; sets corrupt records aside.
    pub fn load(&self, threads: usize) -> Result<Loaded, StoreError> {
        let read_dir = |source| StoreError { action: "list", path: self.dir.clone(), source };
        let mut hashes: BTreeMap<InfoHashV1, (bool, bool)> = BTreeMap::new();
        let mut loaded = Loaded::default();
        for entry in std::fs::read_dir(&self.dir).map_err(read_dir)? {
            let entry = entry.map_err(read_dir)?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(TMP_SUFFIX) {
                let _ = std::fs::remove_file(entry.path());
                continue;
            }
            let Some((stem, ext)) = name.rsplit_once('.') else { continue };
            let Some(hash) = parse_hex_hash(stem) else { continue };
            match ext {
                RECORD_EXT => hashes.entry(hash).or_default().0 = true,
                TORRENT_EXT => hashes.entry(hash).or_default().1 = true,
                _ => {}
            }
        }
        let mut with_record = Vec::new();
        for (hash, (has_record, has_torrent)) in hashes {
            if has_record {
                with_record.push((hash, has_torrent));
            } else {
                // An add that never wrote its record, or a remove that got half way.
                let _ = std::fs::remove_file(self.path(&hash, TORRENT_EXT));
            }
        }
        let threads = threads.clamp(1, 16);
        let chunk = with_record.len().div_ceil(threads).max(1);
        let results: Vec<(InfoHashV1, bool, Result<TorrentRecord, String>)> =
            std::thread::scope(|scope| {
                let workers: Vec<_> = with_record
                    .chunks(chunk)
                    .map(|part| {
                        scope.spawn(move || {
                            part.iter()
                                .map(|&(hash, has_torrent)| {
                                    (hash, has_torrent, self.read_record(&hash))
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
            });
        for (info_hash, has_torrent, result) in results {
            match result {
                Ok(record) => {
                    loaded.torrents.push(StoredTorrent { info_hash, record: Some(record) })
                }
                Err(reason) => {
                    let path = self.path(&info_hash, RECORD_EXT);
                    let aside = self.set_aside(&path);
                    let action = if has_torrent {
                        "the torrent is rechecked from disk with default settings"
                    } else {
                        "the torrent is lost: its .torrent file is missing too"
                    };
                    let message = format!(
                        "corrupt state file ({reason}); moved to {}; {action}",
                        aside.display()
                    );
                    loaded.problems.push(StoreProblem { path, message });
                    if has_torrent {
                        loaded.torrents.push(StoredTorrent { info_hash, record: None });
                    }
                }
            }
        }
        Ok(loaded)
    }

    fn read_record(&self, info_hash: &InfoHashV1) -> Result<TorrentRecord, String> {
        let bytes = std::fs::read(self.path(info_hash, RECORD_EXT)).map_err(|e| e.to_string())?;
        let record: TorrentRecord = record::decode(&bytes).map_err(|e| e.to_string())?;
        if record.info_hash != *info_hash {
            return Err(format!("it describes torrent {}", record.info_hash.to_hex()));
        }
        Ok(record)
    }

    fn set_aside(&self, path: &Path) -> PathBuf {
        let mut aside = path.as_os_str().to_owned();
        aside.push(CORRUPT_SUFFIX);
        let aside = PathBuf::from(aside);
        if let Err(e) = std::fs::rename(path, &aside) {
            tracing::error!(path = %path.display(), error = %e, "cannot set a corrupt state file aside");
        }
        let _ = sync_dir(&self.dir);
        aside
    }

    /// Reads and checks a torrent's `.torrent` file. A corrupt one (unparsable, or for
    /// another info hash) is set aside.
    pub fn read_metainfo(
        &self,
        info_hash: &InfoHashV1,
    ) -> Result<(ferrent_core::Metainfo, Vec<u8>), MetainfoProblem> {
        let path = self.path(info_hash, TORRENT_EXT);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(MetainfoProblem::Missing),
            Err(source) => return Err(MetainfoProblem::Read { path, source }),
        };
        let reason = match ferrent_core::Metainfo::from_bytes(&bytes) {
            Ok(m) if m.info_hashes.v1.as_ref() == Some(info_hash) => return Ok((m, bytes)),
            Ok(_) => "its info hash does not match its name".to_string(),
            Err(e) => e.to_string(),
        };
        self.set_aside(&path);
        Err(MetainfoProblem::Corrupt { path, reason })
    }

    /// Saves a torrent's metainfo (before its first record).
    pub fn save_metainfo(
        &self,
        info_hash: &InfoHashV1,
        torrent_bytes: &[u8],
    ) -> Result<(), StoreError> {
        let name = format!("{}.{TORRENT_EXT}", info_hash.to_hex());
        write_atomic(&self.dir, &name, torrent_bytes).map_err(|source| StoreError {
            action: "write",
            path: self.dir.join(name),
            source,
        })
    }

    /// Saves a torrent's record; returns the bytes written.
    pub fn save_record(
        &self,
        info_hash: &InfoHashV1,
        record: &TorrentRecord,
    ) -> Result<usize, StoreError> {
        self.save_encoded(info_hash, &record::encode(record))
    }

    /// Saves an already encoded record (see [`record::encode`]).
    pub fn save_encoded(
        &self,
        info_hash: &InfoHashV1,
        encoded: &[u8],
    ) -> Result<usize, StoreError> {
        let name = format!("{}.{RECORD_EXT}", info_hash.to_hex());
        write_atomic(&self.dir, &name, encoded).map_err(|source| StoreError {
            action: "write",
            path: self.dir.join(name),
            source,
        })?;
        Ok(encoded.len())
    }

    /// Forgets a torrent: record first, then metainfo.
    pub fn remove(&self, info_hash: &InfoHashV1) -> Result<(), StoreError> {
        for ext in [RECORD_EXT, TORRENT_EXT] {
            let path = self.path(info_hash, ext);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => return Err(StoreError { action: "delete", path, source }),
            }
            sync_dir(&self.dir).map_err(|source| StoreError {
                action: "sync",
                path: self.dir.clone(),
                source,
            })?;
        }
        Ok(())
    }

    /// The run-time session settings; default when absent, set aside when corrupt.
    pub fn load_session(&self) -> (SessionRecord, Option<StoreProblem>) {
        let path = self.dir.join(SESSION_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(_) => return (SessionRecord::default(), None),
        };
        match record::decode(&bytes) {
            Ok(record) => (record, None),
            Err(e) => {
                let aside = self.set_aside(&path);
                let message = format!(
                    "corrupt session file ({e}); moved to {}; using the config's limits",
                    aside.display()
                );
                (SessionRecord::default(), Some(StoreProblem { path, message }))
            }
        }
    }

    /// Saves the run-time session settings.
    pub fn save_session(&self, record: &SessionRecord) -> Result<(), StoreError> {
        write_atomic(&self.dir, SESSION_FILE, &record::encode(record)).map_err(|source| {
            StoreError { action: "write", path: self.dir.join(SESSION_FILE), source }
        })
    }

    /// Reads a secret file, creating it with `make()` (mode 0600) when missing, and
    /// tightening its mode to 0600 when others could read it.
    pub fn secret(path: &Path, make: impl FnOnce() -> String) -> Result<String, StoreError> {
        let err = |action, source| StoreError { action, path: path.to_path_buf(), source };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let meta = std::fs::metadata(path).map_err(|e| err("stat", e))?;
                if meta.permissions().mode() & 0o077 != 0 {
                    tracing::warn!(path = %path.display(), "API token file was readable by others; setting mode 0600");
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                        .map_err(|e| err("chmod", e))?;
                }
                Ok(text.trim().to_string())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let dir =
                    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|e| err("create directory for", e))?;
                let secret = make();
                let name =
                    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                write_atomic(dir, &name, format!("{secret}\n").as_bytes())
                    .map_err(|e| err("write", e))?;
                Ok(secret)
            }
            Err(e) => Err(err("read", e)),
        }
    }
}

fn parse_hex_hash(stem: &str) -> Option<InfoHashV1> {
    if stem.len() != 40 {
        return None;
    }
    let bytes: [u8; 20] = hex::decode(stem).ok()?.try_into().ok()?;
    Some(InfoHashV1(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(hash: &InfoHashV1) -> TorrentRecord {
        TorrentRecord {
            info_hash: *hash,
            name: "n".into(),
            added_at: 0,
            download_dir: std::path::Path::new("/d").into(),
            paused: true,
            file_priorities: None,
            upload_limit: 0,
            download_limit: 0,
            magnet: format!("magnet:?xt=urn:btih:{}", hash.to_hex()),
            peers: vec![],
            resume: None,
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn load_sorts_out_good_corrupt_orphaned_and_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(dir.path()).unwrap();
        let (good, torn, orphan, lost) =
            (InfoHashV1([1; 20]), InfoHashV1([2; 20]), InfoHashV1([3; 20]), InfoHashV1([4; 20]));
        store.save_record(&good, &record(&good)).unwrap();
        store.save_metainfo(&torn, b"d4:infod").unwrap();
        let bytes = record::encode(&record(&torn));
        std::fs::write(store.path(&torn, "json"), &bytes[..bytes.len() / 2]).unwrap();
        store.save_metainfo(&orphan, b"x").unwrap();
        std::fs::write(store.path(&lost, "json"), b"{}").unwrap();
        std::fs::write(dir.path().join(".x.json.0123.tmp"), b"partial").unwrap();
        let mut other = record(&good);
        other.info_hash = InfoHashV1([9; 20]);
        let renamed = InfoHashV1([5; 20]);
        store.save_record(&renamed, &other).unwrap();

        let loaded = store.load(4).unwrap();
        let found: Vec<_> =
            loaded.torrents.iter().map(|t| (t.info_hash, t.record.is_some())).collect();
        assert_eq!(found, vec![(good, true), (torn, false)]);
        assert_eq!(loaded.torrents[0].record, Some(record(&good)));
        assert_eq!(loaded.problems.len(), 3, "{:?}", loaded.problems);
        assert!(loaded.problems.iter().any(|p| p.message.contains("describes torrent")));
        let h = |h: &InfoHashV1, ext: &str| format!("{}.{ext}", h.to_hex());
        let mut expected = vec![
            h(&good, "json"),
            h(&torn, "json.corrupt"),
            h(&torn, "torrent"),
            h(&lost, "json.corrupt"),
            h(&renamed, "json.corrupt"),
        ];
        expected.sort();
        assert_eq!(names(dir.path()), expected);
    }

    #[test]
    fn corrupt_metainfo_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(dir.path()).unwrap();
        let hash = InfoHashV1([7; 20]);
        assert!(matches!(store.read_metainfo(&hash), Err(MetainfoProblem::Missing)));
        store.save_metainfo(&hash, b"d4:infoi3ee").unwrap();
        let err = store.read_metainfo(&hash).unwrap_err();
        assert!(matches!(err, MetainfoProblem::Corrupt { .. }), "{err}");
        assert_eq!(names(dir.path()), vec![format!("{}.torrent.corrupt", hash.to_hex())]);
    }

    #[test]
    fn remove_deletes_record_then_metainfo() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(dir.path()).unwrap();
        let hash = InfoHashV1([8; 20]);
        store.save_metainfo(&hash, b"x").unwrap();
        store.save_record(&hash, &record(&hash)).unwrap();
        store.remove(&hash).unwrap();
        assert!(names(dir.path()).is_empty());
        store.remove(&hash).unwrap();
    }

    #[test]
    fn session_record_round_trips_and_survives_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(dir.path()).unwrap();
        assert_eq!(store.load_session(), (SessionRecord::default(), None));
        let rec = SessionRecord {
            upload_limit: 5,
            download_limit: 6,
            config_upload_limit: 0,
            config_download_limit: 0,
        };
        store.save_session(&rec).unwrap();
        assert_eq!(store.load_session(), (rec, None));
        std::fs::write(dir.path().join("session.json"), b"{\"format\":1,").unwrap();
        let (back, problem) = store.load_session();
        assert_eq!(back, SessionRecord::default());
        assert!(problem.is_some());
    }

    #[test]
    fn secrets_are_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/token");
        let first = StateStore::secret(&path, || "s3cret".into()).unwrap();
        assert_eq!(first, "s3cret");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let again = StateStore::secret(&path, || unreachable!("the token exists")).unwrap();
        assert_eq!(again, "s3cret");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
