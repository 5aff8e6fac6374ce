//! Thin wrappers over the `*at` system calls used to walk the download directory without
//! following symbolic links. Every function works relative to a directory descriptor we hold,
//! so a path component swapped for a link after we opened its parent cannot redirect us.

use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// What a name in a directory is, without following links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// A FIFO, socket or device.
    Other,
}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Opens the directory `name` inside `dir`, refusing a symbolic link (`ELOOP`).
pub(crate) fn open_dir_at(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<OwnedFd> {
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: `name` is a valid NUL-terminated string and `dir` a live descriptor.
    let fd = check(unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags) })?;
    // SAFETY: `openat` just returned this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Creates the directory `name` inside `dir` (mode 0777 less the umask).
pub(crate) fn make_dir_at(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    // SAFETY: as above.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), 0o777) }).map(drop)
}

/// Opens the file `name` inside `dir` with `flags` (`O_RDONLY`, `O_RDWR`, `O_CREAT`...),
/// never following a symbolic link and never blocking on a FIFO. New files get mode 0666 less
/// the umask. The caller must still check that the result is a regular file.
pub(crate) fn open_file_at(
    dir: BorrowedFd<'_>,
    name: &CStr,
    flags: libc::c_int,
) -> io::Result<File> {
    let flags = flags | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_NOCTTY;
    let mode: libc::c_uint = 0o666;
    // SAFETY: as above; the mode argument is read only when O_CREAT is set.
    let fd = check(unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags, mode) })?;
    // SAFETY: `openat` just returned this descriptor and nothing else owns it.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// What `name` inside `dir` is, without following a link; `None` when it does not exist.
pub(crate) fn kind_at(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<Option<Kind>> {
    // SAFETY: an all-zero `stat` is a valid value for this plain C struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above; `st` is a valid, writable `stat`.
    let ret = unsafe {
        libc::fstatat(dir.as_raw_fd(), name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW)
    };
    match check(ret) {
        Ok(_) => Ok(Some(match st.st_mode & libc::S_IFMT {
            libc::S_IFREG => Kind::File,
            libc::S_IFDIR => Kind::Dir,
            libc::S_IFLNK => Kind::Symlink,
            _ => Kind::Other,
        })),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Renames `from` to `to`, both inside `dir`. Neither name is followed if it is a link: an
/// existing `to` (even a link) is replaced, not written through.
pub(crate) fn rename_at(dir: BorrowedFd<'_>, from: &CStr, to: &CStr) -> io::Result<()> {
    let fd = dir.as_raw_fd();
    // SAFETY: as above.
    check(unsafe { libc::renameat(fd, from.as_ptr(), fd, to.as_ptr()) }).map(drop)
}

/// Writes all of `slices`, in order, at `offset` of `file` with `pwritev`, resuming after
/// short writes and retrying on EINTR.
pub(crate) fn write_all_vectored_at(
    file: &File,
    mut slices: Vec<&[u8]>,
    mut offset: u64,
) -> io::Result<()> {
    const MAX_IOV: usize = 512;
    slices.retain(|s| !s.is_empty());
    let mut first = 0;
    while first < slices.len() {
        let iov: Vec<libc::iovec> = slices[first..]
            .iter()
            .take(MAX_IOV)
            .map(|s| libc::iovec { iov_base: s.as_ptr() as *mut libc::c_void, iov_len: s.len() })
            .collect();
        let file_offset = libc::off_t::try_from(offset)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "offset too large"))?;
        // SAFETY: every iovec points into a live borrowed slice of the stated length, and
        // the file descriptor is open for the duration of the call.
        let n = unsafe {
            libc::pwritev(file.as_raw_fd(), iov.as_ptr(), iov.len() as libc::c_int, file_offset)
        };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        let mut written = n as usize;
        offset += written as u64;
        while written > 0 {
            let len = slices[first].len();
            if written >= len {
                written -= len;
                first += 1;
            } else {
                slices[first] = &slices[first][written..];
                written = 0;
            }
        }
    }
    Ok(())
}
