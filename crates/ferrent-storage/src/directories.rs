//! Download directories shared by many torrents: one allocation per directory rather than
//! one per torrent, which counts when a daemon holds thousands of torrents in one place.

use parking_lot::Mutex;
use std::path::Path;
use std::sync::Arc;

/// Hands out one shared `Arc<Path>` per distinct directory.
#[derive(Debug, Default)]
pub struct Directories {
    known: Mutex<Vec<Arc<Path>>>,
}

impl Directories {
    /// `dir` as the `Arc` every other holder of the same path shares. Directories nobody
    /// holds any more are forgotten on the way.
    pub fn share(&self, dir: &Path) -> Arc<Path> {
        let mut known = self.known.lock();
        known.retain(|d| Arc::strong_count(d) > 1);
        if let Some(d) = known.iter().find(|d| ***d == *dir) {
            return d.clone();
        }
        let d = Arc::<Path>::from(dir);
        known.push(d.clone());
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_paths_share_one_allocation_until_nobody_holds_it() {
        let dirs = Directories::default();
        let a = dirs.share(Path::new("/data/a"));
        let again = dirs.share(Path::new("/data/a"));
        assert!(Arc::ptr_eq(&a, &again));
        let b = dirs.share(Path::new("/data/b"));
        assert!(!Arc::ptr_eq(&a, &b));
        drop((a, again));
        dirs.share(Path::new("/data/c"));
        assert_eq!(dirs.known.lock().len(), 2, "/data/a was forgotten");
    }
}
