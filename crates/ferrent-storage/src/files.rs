//! The files of one torrent on disk: which name each lives under (`.part` or final), a bounded
//! cache of open descriptors, and the safe walk from the download directory to each file.
//!
//! One mutex guards the name table and the cache, and is held while a file is opened, created
//! or renamed, so that no reader can open a `.part` name that a rename is about to remove.
//! Reads and writes themselves happen outside the lock on a shared `Arc<File>` with positional
//! I/O, so several threads can work on the same file at once.

use std::collections::HashMap;
use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::error::{PathProblem, StorageError};
use crate::layout::Layout;
use crate::path::{self, SafePath};
use crate::sys::{self, Kind};

/// Whether a caller needs to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Reading only: nothing is created; a file under neither name is [`StorageError::Missing`].
    Read,
    /// Reading and writing: directories and the `.part` file are created as needed.
    Write,
}

/// Which name a file lives under, as far as we know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Name {
    /// Not looked at yet, or found under neither name.
    Unknown,
    /// `<file>.part`: incomplete.
    Part,
    /// The final name: complete, or existing data found there.
    Final,
}

struct Slot {
    file: Arc<File>,
    writable: bool,
    last_used: u64,
}

/// What is known of one file.
#[derive(Debug, Clone, Copy)]
struct FileState {
    name: Name,
    /// Written since the last [`FileTable::sync`].
    dirty: bool,
}

struct Inner {
    root: Option<OwnedFd>,
    files: Vec<FileState>,
    open: HashMap<usize, Slot>,
    clock: u64,
}

/// See the module documentation.
pub(crate) struct FileTable {
    root: Arc<Path>,
    layout: Layout,
    /// `None` for pad files, which are never on disk.
    paths: Vec<Option<SafePath>>,
    max_open: usize,
    inner: Mutex<Inner>,
}

impl FileTable {
    /// Re-validates every non-pad path of `layout` and prepares the table. Touches nothing.
    pub(crate) fn new(
        root: Arc<Path>,
        layout: Layout,
        max_open: usize,
    ) -> Result<Self, StorageError> {
        let files = layout.files();
        let paths = files
            .iter()
            .map(|f| {
                (!f.pad)
                    .then(|| path::split(&f.path))
                    .transpose()
                    .map_err(|reason| StorageError::UnsafePath { path: f.path.clone(), reason })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let unknown = FileState { name: Name::Unknown, dirty: false };
        let inner =
            Inner { root: None, files: vec![unknown; files.len()], open: HashMap::new(), clock: 0 };
        Ok(Self { root, layout, paths, max_open: max_open.max(1), inner: Mutex::new(inner) })
    }

    /// The files' layout.
    pub(crate) fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The length of file `index`.
    fn length(&self, index: usize) -> u64 {
        self.layout.files().get(index).map_or(0, |f| f.length)
    }

    /// The download directory.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// An open descriptor for file `index`, from the cache or freshly opened.
    pub(crate) fn get(&self, index: usize, access: Access) -> Result<Arc<File>, StorageError> {
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        inner.clock += 1;
        let clock = inner.clock;
        if let Some(slot) = inner.open.get_mut(&index) {
            if slot.writable || access == Access::Read {
                slot.last_used = clock;
                if access == Access::Write {
                    inner.files[index].dirty = true;
                }
                return Ok(slot.file.clone());
            }
        }
        let file = Arc::new(match access {
            Access::Read => self.open_read(inner, index)?,
            Access::Write => self.open_write(inner, index)?,
        });
        let writable = access == Access::Write;
        if writable {
            inner.files[index].dirty = true;
        }
        if inner.open.len() >= self.max_open && !inner.open.contains_key(&index) {
            let oldest = inner.open.iter().min_by_key(|(_, s)| s.last_used).map(|(&i, _)| i);
            if let Some(oldest) = oldest {
                inner.open.remove(&oldest);
            }
        }
        inner.open.insert(index, Slot { file: file.clone(), writable, last_used: clock });
        Ok(file)
    }

    /// The length of file `index` on disk under its current name, or `None` if it is under
    /// neither name.
    pub(crate) fn existing_len(&self, index: usize) -> Result<Option<u64>, StorageError> {
        match self.get(index, Access::Read) {
            Ok(file) => file
                .metadata()
                .map(|m| Some(m.len()))
                .map_err(|e| StorageError::io(self.current_path(index), "stat", e)),
            Err(StorageError::Missing { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Forgets what is known about the disk: closes every cached descriptor (the download
    /// directory's too) and looks each file's name up afresh on next use. Files written since
    /// the last [`FileTable::sync`] stay on its list.
    pub(crate) fn forget(&self) {
        let mut inner = self.inner.lock();
        inner.open.clear();
        inner.files.iter_mut().for_each(|f| f.name = Name::Unknown);
        inner.root = None;
    }

    /// Closes every cached descriptor, the download directory's too, and frees the cache;
    /// names stay known.
    pub(crate) fn release(&self) {
        let mut inner = self.inner.lock();
        inner.open = HashMap::new();
        inner.root = None;
    }

    /// Gives file `index` its final name: renames `<file>.part`, or creates the file if it is
    /// empty. Does nothing if it already has its final name.
    pub(crate) fn complete(&self, index: usize) -> Result<(), StorageError> {
        let mut inner = self.inner.lock();
        let Some(sp) = self.safe_path(index)? else { return Ok(()) };
        if inner.files[index].name == Name::Final {
            return Ok(());
        }
        let dir = self.walk(&mut inner, index, true)?;
        // Unless our data is known to be in `.part`, a regular file under the final name is
        // the data that was verified (final names win, as everywhere else).
        let final_kind = match inner.files[index].name {
            Name::Part => None,
            _ => sys::kind_at(dir.as_fd(), &sp.name)
                .map_err(|e| StorageError::io(self.file_path(index, Name::Final), "stat", e))?,
        };
        if final_kind == Some(Kind::File) {
            // Complete in place; nothing to create or rename (works on read-only media too).
        } else if self.length(index) == 0 {
            let flags = libc::O_WRONLY | libc::O_CREAT;
            self.open_leaf(&dir, index, Name::Final, flags)?;
        } else {
            // `renameat` replaces whatever is at the final name, a planted link included,
            // without following it.
            sys::rename_at(dir.as_fd(), &sp.part_name(), &sp.name).map_err(|e| {
                let path = self.file_path(index, Name::Part);
                match e.raw_os_error() {
                    Some(libc::ENOENT) => StorageError::Missing { path },
                    _ => StorageError::io(path, "rename", e),
                }
            })?;
            tracing::debug!(path = %self.file_path(index, Name::Final).display(), "file complete");
        }
        inner.files[index].name = Name::Final;
        Ok(())
    }

    /// Flushes the data of every file written since the last call to the disk.
    pub(crate) fn sync(&self) -> Result<(), StorageError> {
        let mut to_sync = Vec::new();
        {
            let mut inner = self.inner.lock();
            for index in 0..inner.files.len() {
                if !inner.files[index].dirty {
                    continue;
                }
                inner.files[index].dirty = false;
                let file = match inner.open.get(&index) {
                    Some(slot) => slot.file.clone(),
                    // Evicted since: fsync acts on the file, so any descriptor will do.
                    None => match self.open_read(&mut inner, index) {
                        Ok(file) => Arc::new(file),
                        // Deleted behind our back: nothing left to flush.
                        Err(StorageError::Missing { .. }) => continue,
                        Err(e) => {
                            inner.files[index].dirty = true;
                            return Err(e);
                        }
                    },
                };
                to_sync.push((index, file));
            }
        }
        for (n, (index, file)) in to_sync.iter().enumerate() {
            if let Err(e) = file.sync_data() {
                let mut inner = self.inner.lock();
                for (index, _) in &to_sync[n..] {
                    inner.files[*index].dirty = true;
                }
                drop(inner);
                return Err(StorageError::io(self.current_path(*index), "sync", e));
            }
        }
        Ok(())
    }

    /// The path file `index` has on disk now (its `.part` name while incomplete).
    pub(crate) fn current_path(&self, index: usize) -> PathBuf {
        let name = self.inner.lock().files.get(index).map_or(Name::Unknown, |f| f.name);
        self.file_path(index, name)
    }

    /// The final path of file `index` (the download directory for a pad file).
    pub(crate) fn final_path(&self, index: usize) -> PathBuf {
        self.file_path(index, Name::Final)
    }

    fn file_path(&self, index: usize, name: Name) -> PathBuf {
        let Some(Some(sp)) = self.paths.get(index) else { return self.root.to_path_buf() };
        let leaf = sp.leaf(name == Name::Part);
        self.dir_path(sp, sp.dirs.len()).join(cstr_path(&leaf))
    }

    fn dir_path(&self, sp: &SafePath, depth: usize) -> PathBuf {
        let mut path = self.root.to_path_buf();
        path.extend(sp.dirs.iter().take(depth).map(|c| cstr_path(c)));
        path
    }

    fn safe_path(&self, index: usize) -> Result<Option<&SafePath>, StorageError> {
        match self.paths.get(index) {
            Some(sp) => Ok(sp.as_ref()),
            None => Err(StorageError::Missing { path: self.root.to_path_buf() }),
        }
    }

    fn open_read(&self, inner: &mut Inner, index: usize) -> Result<File, StorageError> {
        let dir = self.walk(inner, index, false)?;
        let order: &[Name] = match inner.files[index].name {
            Name::Part => &[Name::Part],
            Name::Final => &[Name::Final],
            Name::Unknown => &[Name::Final, Name::Part],
        };
        for &name in order {
            if let Some(file) = self.open_leaf(&dir, index, name, libc::O_RDONLY)? {
                inner.files[index].name = name;
                return Ok(file);
            }
        }
        inner.files[index].name = Name::Unknown;
        Err(StorageError::Missing { path: self.file_path(index, Name::Final) })
    }

    fn open_write(&self, inner: &mut Inner, index: usize) -> Result<File, StorageError> {
        let dir = self.walk(inner, index, true)?;
        let existing = match inner.files[index].name {
            Name::Part => None,
            _ => self.open_leaf(&dir, index, Name::Final, libc::O_RDWR)?,
        };
        let (file, name) = match existing {
            Some(file) => (file, Name::Final),
            None => {
                let flags = libc::O_RDWR | libc::O_CREAT;
                let file = self.open_leaf(&dir, index, Name::Part, flags)?;
                let file = file.ok_or_else(|| StorageError::Missing {
                    path: self.file_path(index, Name::Part),
                })?;
                (file, Name::Part)
            }
        };
        inner.files[index].name = name;
        // Sparse: extending allocates nothing. A longer file is left as it is.
        let path = || self.file_path(index, name);
        let len = file.metadata().map_err(|e| StorageError::io(path(), "stat", e))?.len();
        if len < self.length(index) {
            file.set_len(self.length(index)).map_err(|e| StorageError::io(path(), "extend", e))?;
        }
        Ok(file)
    }

    /// Opens `name` of file `index` in `dir`; `None` when it does not exist. Refuses links
    /// and anything but a regular file.
    fn open_leaf(
        &self,
        dir: &OwnedFd,
        index: usize,
        name: Name,
        flags: libc::c_int,
    ) -> Result<Option<File>, StorageError> {
        let Some(sp) = self.safe_path(index)? else { return Ok(None) };
        let leaf = sp.leaf(name == Name::Part);
        let unsafe_path =
            |reason| StorageError::UnsafePath { path: self.file_path(index, name), reason };
        let file = match sys::open_file_at(dir.as_fd(), &leaf, flags) {
            Ok(file) => file,
            Err(e) => {
                return match e.raw_os_error() {
                    Some(libc::ENOENT) => Ok(None),
                    Some(libc::ELOOP) => Err(unsafe_path(PathProblem::Symlink)),
                    Some(libc::EISDIR | libc::ENXIO) => {
                        Err(unsafe_path(PathProblem::NotARegularFile))
                    }
                    _ => Err(StorageError::io(self.file_path(index, name), "open", e)),
                }
            }
        };
        let meta = file
            .metadata()
            .map_err(|e| StorageError::io(self.file_path(index, name), "stat", e))?;
        if !meta.is_file() {
            return Err(unsafe_path(PathProblem::NotARegularFile));
        }
        Ok(Some(file))
    }

    /// Opens the directory that holds file `index`, one component at a time without following
    /// links, creating missing directories when `create` is set.
    fn walk(&self, inner: &mut Inner, index: usize, create: bool) -> Result<OwnedFd, StorageError> {
        let missing = || StorageError::Missing { path: self.file_path(index, Name::Final) };
        let root = self.root_dir(inner, create)?.ok_or_else(missing)?;
        let mut dir =
            root.try_clone().map_err(|e| StorageError::io(self.root.to_path_buf(), "open", e))?;
        let Some(sp) = self.safe_path(index)? else { return Ok(dir) };
        for (depth, component) in sp.dirs.iter().enumerate() {
            let path = || self.dir_path(sp, depth + 1);
            dir = match open_subdir(&dir, component, create) {
                Ok(Some(next)) => next,
                Ok(None) => return Err(missing()),
                Err(Walk::Unsafe(reason)) => {
                    return Err(StorageError::UnsafePath { path: path(), reason })
                }
                Err(Walk::Io(op, e)) => return Err(StorageError::io(path(), op, e)),
            };
        }
        Ok(dir)
    }

    /// The download directory, opened once; created (with its parents) when `create` is set.
    /// The download directory itself is the user's choice, so links in it are followed.
    fn root_dir<'a>(
        &self,
        inner: &'a mut Inner,
        create: bool,
    ) -> Result<Option<&'a OwnedFd>, StorageError> {
        if inner.root.is_none() {
            if create {
                std::fs::create_dir_all(&self.root).map_err(|e| {
                    StorageError::io(self.root.to_path_buf(), "create directory", e)
                })?;
            }
            let opened = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
                .open(&self.root);
            match opened {
                Ok(file) => inner.root = Some(file.into()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(StorageError::io(self.root.to_path_buf(), "open", e)),
            }
        }
        Ok(inner.root.as_ref())
    }
}

enum Walk {
    Unsafe(PathProblem),
    Io(&'static str, io::Error),
}

/// Opens directory `name` in `dir` without following a link; creates it if asked. `None` when
/// it does not exist and `create` is not set.
fn open_subdir(dir: &OwnedFd, name: &CStr, create: bool) -> Result<Option<OwnedFd>, Walk> {
    for attempt in 0..2 {
        match sys::open_dir_at(dir.as_fd(), name) {
            Ok(fd) => return Ok(Some(fd)),
            Err(e) => match e.raw_os_error() {
                Some(libc::ENOENT) if !create => return Ok(None),
                Some(libc::ENOENT) if attempt == 0 => match sys::make_dir_at(dir.as_fd(), name) {
                    // Somebody else may have created it meanwhile: open it on the next turn.
                    Ok(()) => {}
                    Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
                    Err(e) => return Err(Walk::Io("create directory", e)),
                },
                Some(libc::ELOOP | libc::ENOTDIR) => {
                    return Err(Walk::Unsafe(match sys::kind_at(dir.as_fd(), name) {
                        Ok(Some(Kind::Symlink)) => PathProblem::Symlink,
                        _ => PathProblem::NotADirectory,
                    }))
                }
                _ => return Err(Walk::Io("open directory", e)),
            },
        }
    }
    Err(Walk::Io("open directory", io::Error::from(io::ErrorKind::NotFound)))
}

fn cstr_path(c: &CStr) -> &Path {
    use std::os::unix::ffi::OsStrExt;
    Path::new(std::ffi::OsStr::from_bytes(c.to_bytes()))
}
