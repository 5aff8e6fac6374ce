//! Download directories requested through the API, confined to the configured root.
//!
//! A request may name a directory relative to the root or an absolute one inside it. `..`
//! components are refused outright, and the deepest existing ancestor is resolved through
//! symbolic links and must still be inside the (resolved) root.

use std::path::{Component, Path, PathBuf};

/// Why a requested download directory was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// It has a `..` component.
    #[error("download_dir {0:?} has a `..` component")]
    ParentComponent(String),
    /// It lies outside the download root.
    #[error("download_dir {requested:?} is outside the download root {root}")]
    OutsideRoot {
        /// What was asked for.
        requested: String,
        /// The root.
        root: String,
    },
    /// It is not valid (e.g. contains a NUL byte).
    #[error("download_dir {0:?} is not a valid path")]
    Invalid(String),
}

/// Resolves `requested` (empty: the root itself) to a directory inside `root`.
pub fn confine(root: &Path, requested: &str) -> Result<PathBuf, PathError> {
    if requested.contains('\0') {
        return Err(PathError::Invalid(requested.to_string()));
    }
    let asked = Path::new(requested);
    if asked.components().any(|c| c == Component::ParentDir) {
        return Err(PathError::ParentComponent(requested.to_string()));
    }
    let outside = || PathError::OutsideRoot {
        requested: requested.to_string(),
        root: root.display().to_string(),
    };
    let joined = if asked.is_absolute() {
        if !asked.starts_with(root) {
            return Err(outside());
        }
        asked.to_path_buf()
    } else {
        root.join(asked)
    };
    let joined: PathBuf = joined.components().filter(|c| *c != Component::CurDir).collect();
    // Follow symbolic links in whatever part already exists.
    let real_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut existing = joined.as_path();
    while !existing.exists() {
        match existing.parent() {
            Some(parent) => existing = parent,
            None => break,
        }
    }
    if let Ok(real) = existing.canonicalize() {
        if !real.starts_with(&real_root) {
            return Err(outside());
        }
    }
    Ok(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute_paths_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        assert_eq!(confine(r, "").unwrap(), r);
        assert_eq!(confine(r, "movies/new").unwrap(), r.join("movies/new"));
        assert_eq!(confine(r, "./a/./b").unwrap(), r.join("a/b"));
        let inside = r.join("x");
        assert_eq!(confine(r, inside.to_str().unwrap()).unwrap(), inside);
    }

    #[test]
    fn escapes_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        assert!(matches!(confine(r, "../x"), Err(PathError::ParentComponent(_))));
        assert!(matches!(confine(r, "a/../../x"), Err(PathError::ParentComponent(_))));
        assert!(matches!(confine(r, "/etc"), Err(PathError::OutsideRoot { .. })));
        let sibling = format!("{}-other", r.display());
        assert!(matches!(confine(r, &sibling), Err(PathError::OutsideRoot { .. })));
        assert!(matches!(confine(r, "a\0b"), Err(PathError::Invalid(_))));
    }

    #[test]
    fn symbolic_links_out_of_the_root_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), root.path().join("link")).unwrap();
        let err = confine(root.path(), "link/sub").unwrap_err();
        assert!(matches!(err, PathError::OutsideRoot { .. }), "{err}");
        std::os::unix::fs::symlink(root.path().join("real"), root.path().join("inner")).unwrap();
        std::fs::create_dir(root.path().join("real")).unwrap();
        assert!(confine(root.path(), "inner/sub").is_ok());
    }
}
