//! The files a user sees: every file of the layout but BEP 47 pad files. Public file indices
//! (priorities, details, readers) count only these.

use ferrent_storage::LayoutFile;

/// Maps public file indices to layout indices.
#[derive(Debug)]
pub(crate) struct VisibleFiles {
    count: usize,
    /// The layout index of each visible file; `None` when no file is padding, so that the
    /// common torrent stores nothing.
    map: Option<Box<[usize]>>,
}

impl VisibleFiles {
    /// The visible files of a layout.
    pub(crate) fn of(files: &[LayoutFile]) -> Self {
        if files.iter().all(|f| !f.pad) {
            return Self { count: files.len(), map: None };
        }
        let map: Box<[usize]> =
            files.iter().enumerate().filter(|(_, f)| !f.pad).map(|(i, _)| i).collect();
        Self { count: map.len(), map: Some(map) }
    }

    /// How many files a user sees.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// The layout index of visible file `index`.
    pub(crate) fn get(&self, index: usize) -> Option<usize> {
        match &self.map {
            _ if index >= self.count => None,
            Some(map) => map.get(index).copied(),
            None => Some(index),
        }
    }

    /// The layout indices of the visible files, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.count).filter_map(|i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn file(pad: bool) -> LayoutFile {
        LayoutFile { path: PathBuf::from("f"), length: 1, offset: 0, pad }
    }

    #[test]
    fn pad_files_are_skipped_and_plain_layouts_store_no_map() {
        let plain = VisibleFiles::of(&[file(false), file(false)]);
        assert!(plain.map.is_none());
        assert_eq!(plain.iter().collect::<Vec<_>>(), [0, 1]);
        assert_eq!(plain.get(2), None);
        let padded = VisibleFiles::of(&[file(false), file(true), file(false)]);
        assert_eq!(padded.len(), 2);
        assert_eq!(padded.iter().collect::<Vec<_>>(), [0, 2]);
        assert_eq!(padded.get(1), Some(2));
        assert_eq!(padded.get(2), None);
    }
}
