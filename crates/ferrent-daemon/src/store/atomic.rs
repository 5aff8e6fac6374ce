//! Crash-safe file replacement: write a temporary file, fsync it, rename it over the
//! target, fsync the directory. A reader sees the old content or the new, never a mix.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The suffix of temporary files; leftovers from a crash are deleted at start-up.
pub(crate) const TMP_SUFFIX: &str = ".tmp";

/// Replaces `dir/name` with `bytes` atomically and durably (mode 0600).
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!(".{name}.{:016x}{TMP_SUFFIX}", rand::random::<u64>()));
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, dir.join(name))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    sync_dir(dir)
}

/// Makes renames and deletions in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        write_atomic(dir.path(), "a.json", b"one").unwrap();
        write_atomic(dir.path(), "a.json", b"two").unwrap();
        assert_eq!(std::fs::read(dir.path().join("a.json")).unwrap(), b"two");
        let names: Vec<_> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.json")]);
        let mode = std::fs::metadata(dir.path().join("a.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_failed_write_keeps_the_old_content() {
        let dir = tempfile::tempdir().unwrap();
        write_atomic(dir.path(), "a.json", b"old").unwrap();
        // A directory in the way makes the rename fail.
        std::fs::create_dir(dir.path().join("b.json")).unwrap();
        std::fs::write(dir.path().join("b.json/x"), b"").unwrap();
        assert!(write_atomic(dir.path(), "b.json", b"new").is_err());
        assert_eq!(std::fs::read(dir.path().join("a.json")).unwrap(), b"old");
        let leftovers = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(TMP_SUFFIX));
        assert_eq!(leftovers.count(), 0);
    }
}
