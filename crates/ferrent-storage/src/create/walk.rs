//! Finding the files that go into a new torrent, in a stable order.

use std::cmp::Ordering;
use std::fs;
use std::path::{Path, PathBuf};

use super::CreateError;

/// One regular file of the payload.
#[derive(Debug, Clone)]
pub(crate) struct InputFile {
    /// Where the file is on disk.
    pub disk_path: PathBuf,
    /// Its path inside the torrent, one element per directory level (empty for a
    /// single-file torrent, whose only file is named by the torrent name).
    pub components: Vec<String>,
    /// Its length in bytes when it was listed.
    pub length: u64,
}

/// How files of a directory are ordered in the torrent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// By the whole relative path as bytes, `/`-separated, as mktorrent sorts (so
    /// `a.txt` comes before `a/x`); v1 torrents use it so their info hash matches
    /// mktorrent's for the same input.
    FullPath,
    /// Component by component, which is the order of a BEP 52 `file tree` (so `a/x`
    /// comes before `a.txt`); v2 and hybrid torrents must list files in this order.
    Components,
}

/// The files to share and the torrent's name.
#[derive(Debug, Clone)]
pub(crate) struct Payload {
    /// The torrent name: the last component of the root path.
    pub name: String,
    /// True when the root is a single file (a single-file torrent).
    pub single_file: bool,
    /// The files, in torrent order.
    pub files: Vec<InputFile>,
}

/// Lists the payload under `root`.
///
/// The root itself may be a symlink (it is followed, since the user named it); inside a
/// directory, symlinks and special files (FIFOs, sockets, devices) are skipped with a
/// warning and never followed, so a walk cannot loop or escape the directory. Names
/// starting with `.` are skipped (files and whole directories) unless `include_hidden`.
pub(crate) fn collect(
    root: &Path,
    include_hidden: bool,
    order: Order,
) -> Result<Payload, CreateError> {
    let meta = fs::metadata(root)
        .map_err(|source| CreateError::Stat { path: root.to_path_buf(), source })?;
    let name = torrent_name(root)?;
    if meta.is_file() {
        let file =
            InputFile { disk_path: root.to_path_buf(), components: Vec::new(), length: meta.len() };
        return Ok(Payload { name, single_file: true, files: vec![file] });
    }
    if !meta.is_dir() {
        return Err(CreateError::NotAFileOrDirectory { path: root.to_path_buf() });
    }
    let mut files = Vec::new();
    walk_dir(root, &mut Vec::new(), include_hidden, &mut files)?;
    if files.is_empty() {
        return Err(CreateError::NoFiles { path: root.to_path_buf() });
    }
    match order {
        Order::FullPath => files.sort_by(|a, b| compare_full_path(&a.components, &b.components)),
        Order::Components => files.sort_by(|a, b| a.components.cmp(&b.components)),
    }
    Ok(Payload { name, single_file: false, files })
}

/// The torrent name for `root`: its last component, resolving `.` and `..` if needed.
pub(crate) fn torrent_name(root: &Path) -> Result<String, CreateError> {
    let resolved;
    let last = match root.file_name() {
        Some(name) => name,
        None => {
            resolved = fs::canonicalize(root)
                .map_err(|source| CreateError::Stat { path: root.to_path_buf(), source })?;
            resolved.file_name().ok_or_else(|| CreateError::NoName { path: root.to_path_buf() })?
        }
    };
    last.to_str()
        .map(str::to_owned)
        .ok_or_else(|| CreateError::NonUtf8Name { path: root.to_path_buf() })
}

fn walk_dir(
    dir: &Path,
    prefix: &mut Vec<String>,
    include_hidden: bool,
    out: &mut Vec<InputFile>,
) -> Result<(), CreateError> {
    let entries = fs::read_dir(dir)
        .map_err(|source| CreateError::ReadDir { path: dir.to_path_buf(), source })?;
    for entry in entries {
        let entry =
            entry.map_err(|source| CreateError::ReadDir { path: dir.to_path_buf(), source })?;
        let path = entry.path();
        let name = entry
            .file_name()
            .into_string()
            .map_err(|_| CreateError::NonUtf8Name { path: path.clone() })?;
        if !include_hidden && name.starts_with('.') {
            continue;
        }
        // `DirEntry::file_type` does not follow symlinks.
        let kind =
            entry.file_type().map_err(|source| CreateError::Stat { path: path.clone(), source })?;
        if kind.is_dir() {
            prefix.push(name);
            walk_dir(&path, prefix, include_hidden, out)?;
            prefix.pop();
        } else if kind.is_file() {
            let length = entry
                .metadata()
                .map_err(|source| CreateError::Stat { path: path.clone(), source })?
                .len();
            let mut components = prefix.clone();
            components.push(name);
            out.push(InputFile { disk_path: path, components, length });
        } else if kind.is_symlink() {
            tracing::warn!(path = %path.display(), "skipping symlink (links are not followed)");
        } else {
            tracing::warn!(path = %path.display(), "skipping special file");
        }
    }
    Ok(())
}

/// Compares two relative paths as their `/`-joined byte strings, without joining them.
fn compare_full_path(a: &[String], b: &[String]) -> Ordering {
    joined_bytes(a).cmp(joined_bytes(b))
}

/// The bytes of `parts` joined with `/`.
fn joined_bytes(parts: &[String]) -> impl Iterator<Item = u8> + '_ {
    parts.iter().enumerate().flat_map(|(i, part)| {
        let sep: &[u8] = if i == 0 { b"" } else { b"/" };
        sep.iter().chain(part.as_bytes()).copied()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(path: &str) -> Vec<String> {
        path.split('/').map(str::to_owned).collect()
    }

    #[test]
    fn full_path_order_is_mktorrent_order() {
        let mut paths = [parts("b"), parts("a/x"), parts("a.txt"), parts("a/b/c")];
        paths.sort_by(|a, b| compare_full_path(a, b));
        let joined: Vec<String> = paths.iter().map(|p| p.join("/")).collect();
        let mut expected = joined.clone();
        expected.sort();
        assert_eq!(joined, expected);
        assert_eq!(joined, ["a.txt", "a/b/c", "a/x", "b"]);
    }

    #[test]
    fn component_order_is_file_tree_order() {
        let mut paths = [parts("b"), parts("a.txt"), parts("a/x")];
        paths.sort();
        assert_eq!(paths, [parts("a/x"), parts("a.txt"), parts("b")]);
    }

    #[test]
    fn walk_skips_hidden_and_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("payload");
        fs::create_dir_all(root.join("sub/.cache")).unwrap();
        fs::write(root.join("sub/one"), b"1").unwrap();
        fs::write(root.join("sub/.cache/x"), b"x").unwrap();
        fs::write(root.join(".hidden"), b"h").unwrap();
        fs::write(root.join("two"), b"22").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("two"), root.join("link")).unwrap();

        let payload = collect(&root, false, Order::FullPath).unwrap();
        assert_eq!(payload.name, "payload");
        assert!(!payload.single_file);
        let listed: Vec<(String, u64)> =
            payload.files.iter().map(|f| (f.components.join("/"), f.length)).collect();
        assert_eq!(listed, [("sub/one".to_owned(), 1), ("two".to_owned(), 2)]);

        let all = collect(&root, true, Order::FullPath).unwrap();
        let names: Vec<String> = all.files.iter().map(|f| f.components.join("/")).collect();
        assert_eq!(names, [".hidden", "sub/.cache/x", "sub/one", "two"]);
    }

    #[test]
    fn walk_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let err = collect(&missing, false, Order::FullPath).unwrap_err();
        assert!(matches!(err, CreateError::Stat { ref path, .. } if path == &missing), "{err}");
        assert!(err.to_string().contains("missing"));

        let empty = dir.path().join("empty");
        fs::create_dir_all(empty.join("only/.hidden-dir")).unwrap();
        let err = collect(&empty, false, Order::Components).unwrap_err();
        assert!(matches!(err, CreateError::NoFiles { ref path } if path == &empty), "{err}");
    }
}
