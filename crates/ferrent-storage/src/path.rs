//! Validation of the relative paths a torrent asks for. Pure: nothing here touches the disk.
//!
//! The raw bytes of the path are split on `/` by hand instead of using
//! [`Path::components`], which silently drops empty and `.` components.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::error::{PathProblem, StorageError};

/// The suffix of a file that is not complete yet.
pub const PART_SUFFIX: &str = ".part";

/// Longest file or directory name most file systems accept.
const NAME_MAX: usize = 255;

/// A relative path that passed [`validate`], split for `openat`-style walking.
#[derive(Debug, Clone)]
pub(crate) struct SafePath {
    /// Directory components, outermost first.
    pub dirs: Vec<CString>,
    /// The file's final name.
    pub name: CString,
}

impl SafePath {
    /// The file's name while it is incomplete: `name` + [`PART_SUFFIX`]. Made when needed
    /// (opening or renaming) rather than kept for every file of every torrent.
    pub fn part_name(&self) -> CString {
        let mut part = self.name.as_bytes().to_vec();
        part.extend_from_slice(PART_SUFFIX.as_bytes());
        // Neither the checked name nor the suffix holds a NUL byte.
        CString::new(part).unwrap_or_default()
    }

    /// The file's name on disk: the `.part` name while incomplete (`part`), else the final one.
    pub fn leaf(&self, part: bool) -> Cow<'_, CStr> {
        if part {
            Cow::Owned(self.part_name())
        } else {
            Cow::Borrowed(&self.name)
        }
    }
}

/// Checks one relative path from a torrent: not empty, not absolute, and no component that is
/// empty, `.`, `..`, contains NUL or `\`, starts with a drive letter or is too long.
pub fn validate_relative(path: &Path) -> Result<(), StorageError> {
    split(path).map(drop).map_err(|reason| StorageError::UnsafePath { path: path.into(), reason })
}

/// Validates `path` and splits it into C strings.
pub(crate) fn split(path: &Path) -> Result<SafePath, PathProblem> {
    let bytes = path.as_os_str().as_bytes();
    if bytes.is_empty() {
        return Err(PathProblem::Empty);
    }
    if bytes.starts_with(b"/") {
        return Err(PathProblem::Absolute);
    }
    let mut components = bytes.split(|&b| b == b'/').peekable();
    let mut dirs = Vec::new();
    while let Some(component) = components.next() {
        let is_name = components.peek().is_none();
        check_component(component, if is_name { NAME_MAX - PART_SUFFIX.len() } else { NAME_MAX })?;
        // `check_component` refused NUL bytes, so these cannot fail.
        let c = CString::new(component).map_err(|_| PathProblem::Nul)?;
        if is_name {
            return Ok(SafePath { dirs, name: c });
        }
        dirs.push(c);
    }
    Err(PathProblem::Empty)
}

fn check_component(c: &[u8], max_len: usize) -> Result<(), PathProblem> {
    match c {
        [] => Err(PathProblem::EmptyComponent),
        b"." => Err(PathProblem::CurrentDir),
        b".." => Err(PathProblem::ParentDir),
        _ if c.contains(&0) => Err(PathProblem::Nul),
        _ if c.contains(&b'\\') => Err(PathProblem::Backslash),
        [letter, b':', ..] if letter.is_ascii_alphabetic() => Err(PathProblem::DriveLetter),
        _ if c.len() > max_len => Err(PathProblem::TooLong),
        _ => Ok(()),
    }
}

/// Checks that no two of the given (already validated) paths can collide on disk: no
/// duplicates, no file that is also another file's directory, and no file named like another
/// file's `.part` name. Returns the index of the offending path and the problem.
pub(crate) fn check_collisions<'a>(
    paths: impl Iterator<Item = (usize, &'a Path)> + Clone,
) -> Result<(), (usize, PathProblem)> {
    let mut files: HashSet<&Path> = HashSet::new();
    let mut dirs: HashSet<&Path> = HashSet::new();
    let mut parts: HashSet<PathBuf> = HashSet::new();
    for (index, path) in paths.clone() {
        if !files.insert(path) {
            return Err((index, PathProblem::Duplicate));
        }
        dirs.extend(path.ancestors().skip(1).filter(|a| !a.as_os_str().is_empty()));
        let mut part = path.as_os_str().to_owned();
        part.push(PART_SUFFIX);
        parts.insert(part.into());
    }
    for (index, path) in paths {
        let mut part = path.as_os_str().to_owned();
        part.push(PART_SUFFIX);
        let part = Path::new(&part);
        if dirs.contains(path) || dirs.contains(part) {
            return Err((index, PathProblem::FileIsDirectory));
        }
        if parts.contains(path) || files.contains(part) {
            return Err((index, PathProblem::PartNameCollision));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(p: &str) -> Option<PathProblem> {
        split(Path::new(p)).err()
    }

    #[test]
    fn accepts_ordinary_paths() {
        let s = split(Path::new("name/sub dir/file: title.mkv")).unwrap();
        assert_eq!(s.dirs.len(), 2);
        assert_eq!(s.name.to_bytes(), b"file: title.mkv");
        assert_eq!(s.part_name().to_bytes(), b"file: title.mkv.part");
        assert!(split(Path::new("..name")).is_ok());
        assert!(split(Path::new(".hidden/x...")).is_ok());
    }

    #[test]
    fn refuses_escapes_and_oddities() {
        assert_eq!(problem(""), Some(PathProblem::Empty));
        assert_eq!(problem("/etc/passwd"), Some(PathProblem::Absolute));
        assert_eq!(problem("a/../../b"), Some(PathProblem::ParentDir));
        assert_eq!(problem(".."), Some(PathProblem::ParentDir));
        assert_eq!(problem("a/./b"), Some(PathProblem::CurrentDir));
        assert_eq!(problem("a//b"), Some(PathProblem::EmptyComponent));
        assert_eq!(problem("a/b/"), Some(PathProblem::EmptyComponent));
        assert_eq!(problem("a/b\\..\\c"), Some(PathProblem::Backslash));
        assert_eq!(problem("C:/x"), Some(PathProblem::DriveLetter));
        assert_eq!(problem("a/c:x"), Some(PathProblem::DriveLetter));
        let long = "x".repeat(251);
        assert_eq!(problem(&long), Some(PathProblem::TooLong));
        assert!(split(Path::new(&format!("{long}/y"))).is_ok());
        let with_nul = std::ffi::OsStr::from_bytes(b"a/b\0c");
        assert_eq!(split(Path::new(with_nul)).err(), Some(PathProblem::Nul));
    }

    #[test]
    fn finds_collisions() {
        let check = |paths: &[&str]| {
            check_collisions(paths.iter().enumerate().map(|(i, p)| (i, Path::new(*p))))
        };
        assert_eq!(check(&["t/a", "t/b", "t/c/d"]), Ok(()));
        assert_eq!(check(&["t/a", "t/a"]), Err((1, PathProblem::Duplicate)));
        assert_eq!(check(&["t/a", "t/a/b"]), Err((0, PathProblem::FileIsDirectory)));
        assert_eq!(check(&["t/a/b", "t/a"]), Err((1, PathProblem::FileIsDirectory)));
        assert_eq!(check(&["t/a.part/b", "t/a"]), Err((1, PathProblem::FileIsDirectory)));
        assert_eq!(check(&["t/a", "t/a.part"]), Err((0, PathProblem::PartNameCollision)));
        assert_eq!(check(&["t/a.part", "t/a"]), Err((0, PathProblem::PartNameCollision)));
    }
}
