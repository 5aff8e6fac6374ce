//! Validation of names that become file system paths.
//!
//! A torrent is untrusted input: every component must name exactly one entry inside the
//! download directory on every platform, so traversal (`..`), separators, absolute paths,
//! drive letters and NUL bytes are refused rather than sanitized.

use ferrent_bencode::Value;

use super::error::{At, MetainfoError, PathProblem, Problem};
use super::fields;

/// Checks one path component.
pub(crate) fn check_component(name: &str) -> Result<(), PathProblem> {
    match name {
        "" => return Err(PathProblem::Empty),
        "." => return Err(PathProblem::Dot),
        ".." => return Err(PathProblem::DotDot),
        _ => {}
    }
    if name.contains(['/', '\\']) {
        return Err(PathProblem::Separator(name.to_owned()));
    }
    if name.contains('\0') {
        return Err(PathProblem::Nul(name.to_owned()));
    }
    let b = name.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Err(PathProblem::DriveLetter(name.to_owned()));
    }
    Ok(())
}

/// A validated component read from `value`.
pub(crate) fn component(value: &Value<'_>, at: &At<'_>) -> Result<String, MetainfoError> {
    let name = fields::utf8(value, at)?;
    check_component(name).map_err(|p| at.err(p))?;
    Ok(name.to_owned())
}

/// A validated, non-empty list of components read from `value`.
pub(crate) fn components(value: &Value<'_>, at: &At<'_>) -> Result<Vec<String>, MetainfoError> {
    let items = fields::list(value, at)?;
    if items.is_empty() {
        return Err(at.err(Problem::Path(PathProblem::NoComponents)));
    }
    items.iter().enumerate().map(|(i, item)| component(item, &at.index(i))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components() {
        assert_eq!(check_component("a.txt"), Ok(()));
        assert_eq!(check_component(".hidden"), Ok(()));
        assert_eq!(check_component("..."), Ok(()));
        assert_eq!(check_component("ab:c"), Ok(()));
        assert_eq!(check_component(""), Err(PathProblem::Empty));
        assert_eq!(check_component("."), Err(PathProblem::Dot));
        assert_eq!(check_component(".."), Err(PathProblem::DotDot));
        assert_eq!(check_component("/etc"), Err(PathProblem::Separator("/etc".into())));
        assert_eq!(check_component("a\\b"), Err(PathProblem::Separator("a\\b".into())));
        assert_eq!(check_component("a\0"), Err(PathProblem::Nul("a\0".into())));
        assert_eq!(check_component("C:"), Err(PathProblem::DriveLetter("C:".into())));
        assert_eq!(check_component("z:x"), Err(PathProblem::DriveLetter("z:x".into())));
    }
}
