//! Files and directories: `openat`, `statx`, `fsync`, `fdatasync`, `ftruncate`, `fallocate`,
//! `fchmodat`, `mkdirat`, `unlinkat`, `renameat2`. (Directory reading is in `dir`, links in
//! `link`.)
//!
//! Paths are `&CStr`; [`cstr_path`] turns a `&Path` into one and reports an interior NUL as
//! `EINVAL`, which `std::io::Error` (and so `coreloop-net`/`coreloop-fs`) reports as
//! `ErrorKind::InvalidInput`.
//!
//! `EINTR`: openat, statx, fsync, fdatasync, ftruncate, fallocate and fchmodat are retried (repeating
//! them after an interruption is harmless). mkdirat, unlinkat and renameat2 are not: if one
//! completed before the interruption was reported, a retry would fail with `EEXIST` or
//! `ENOENT` and hide the success.

use super::arch::nr;
use super::call::{call1, call2, call3, call4, call5, retry_eintr};
use super::errno::Errno;
use super::fd::OwnedFd;
use std::ffi::{CStr, CString};
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub use super::io::{O_CLOEXEC, O_NONBLOCK};

/// Open for reading only.
pub const O_RDONLY: u32 = 0;
/// Open for writing only.
pub const O_WRONLY: u32 = 0o1;
/// Open for reading and writing.
pub const O_RDWR: u32 = 0o2;
/// Create the file if it does not exist (with the `mode` given).
pub const O_CREAT: u32 = 0o100;
/// With `O_CREAT`: fail with `EEXIST` if the file exists.
pub const O_EXCL: u32 = 0o200;
/// Do not make a terminal the controlling terminal.
pub const O_NOCTTY: u32 = 0o400;
/// Truncate an existing regular file to length 0.
pub const O_TRUNC: u32 = 0o1000;
/// Every write goes to the end of the file.
pub const O_APPEND: u32 = 0o2000;
/// Each write returns once its data (not all metadata) is durable.
pub const O_DSYNC: u32 = 0o10000;
/// Bypass the page cache (alignment rules apply).
pub const O_DIRECT: u32 = 0o40000;
/// Allow files over 2 GiB (implied on 64-bit).
pub const O_LARGEFILE: u32 = 0o100000;
/// Fail with `ENOTDIR` unless the path is a directory.
pub const O_DIRECTORY: u32 = 0o200000;
/// Fail with `ELOOP` if the last component is a symlink.
pub const O_NOFOLLOW: u32 = 0o400000;
/// Do not update the access time on reads.
pub const O_NOATIME: u32 = 0o1000000;
/// Each write returns once its data and metadata are durable.
pub const O_SYNC: u32 = 0o4010000;
/// A descriptor that only names a path (no I/O).
pub const O_PATH: u32 = 0o10000000;
/// Includes `O_DIRECTORY`, as the kernel requires.
pub const O_TMPFILE: u32 = 0o20000000 | O_DIRECTORY;

/// The "current directory" dirfd for the `*at` calls.
pub const AT_FDCWD: RawFd = -100;
/// Do not follow a symlink in the last component.
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
/// `unlinkat`: remove a directory, not a file.
pub const AT_REMOVEDIR: u32 = 0x200;
/// An empty path means the descriptor itself.
pub const AT_EMPTY_PATH: u32 = 0x1000;
/// `statx`: do whatever `stat` does about syncing with a remote filesystem.
pub const AT_STATX_SYNC_AS_STAT: u32 = 0;
/// `statx`: sync attributes with the server (network filesystems).
pub const AT_STATX_FORCE_SYNC: u32 = 0x2000;
/// `statx`: use cached attributes, do not sync.
pub const AT_STATX_DONT_SYNC: u32 = 0x4000;

/// `renameat2`: fail with `EEXIST` instead of replacing the target.
pub const RENAME_NOREPLACE: u32 = 1;
/// `renameat2`: swap the two paths atomically.
pub const RENAME_EXCHANGE: u32 = 2;

/// `fallocate`: do not change the file size.
pub const FALLOC_FL_KEEP_SIZE: u32 = 0x01;
/// `fallocate`: deallocate the range (with `FALLOC_FL_KEEP_SIZE`).
pub const FALLOC_FL_PUNCH_HOLE: u32 = 0x02;
/// `fallocate`: make the range read as zeros.
pub const FALLOC_FL_ZERO_RANGE: u32 = 0x10;

pub use super::statx::*;

/// `path` as a NUL-terminated string. `EINVAL` if it holds a NUL byte.
pub fn cstr_path(path: &Path) -> Result<CString, Errno> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)
}

/// `openat(2)` of the NUL-terminated path at `path`; `O_CLOEXEC` is always added. Retries
/// `EINTR`.
///
/// # Safety
/// `path` must point to a NUL-terminated string that stays valid until the call returns.
pub unsafe fn openat_raw(
    dirfd: RawFd,
    path: *const u8,
    flags: u32,
    mode: u32,
) -> Result<OwnedFd, Errno> {
    // SAFETY: the caller guarantees path; openat stores to no user memory.
    let fd = retry_eintr(|| unsafe {
        call4(
            nr::OPENAT,
            dirfd as usize,
            path as usize,
            (flags | O_CLOEXEC) as usize,
            mode as usize,
        )
    })?;
    // SAFETY: a new descriptor that only we hold.
    Ok(unsafe { OwnedFd::from_raw(fd as RawFd) })
}

/// `openat(2)`; `O_CLOEXEC` is always added, `mode` matters with `O_CREAT`/`O_TMPFILE`.
/// Retries `EINTR`.
pub fn openat(dirfd: RawFd, path: &CStr, flags: u32, mode: u32) -> Result<OwnedFd, Errno> {
    // SAFETY: a CStr is NUL-terminated and borrowed for the whole call.
    unsafe { openat_raw(dirfd, path.as_ptr().cast(), flags, mode) }
}

/// `fsync(2)`. Retries `EINTR`.
pub fn fsync(fd: RawFd) -> Result<(), Errno> {
    // SAFETY: fsync takes no pointers.
    retry_eintr(|| unsafe { call1(nr::FSYNC, fd as usize) }).map(drop)
}

/// `fdatasync(2)`. Retries `EINTR`.
pub fn fdatasync(fd: RawFd) -> Result<(), Errno> {
    // SAFETY: fdatasync takes no pointers.
    retry_eintr(|| unsafe { call1(nr::FDATASYNC, fd as usize) }).map(drop)
}

/// `ftruncate(2)` to `len` bytes. Retries `EINTR`.
pub fn ftruncate(fd: RawFd, len: u64) -> Result<(), Errno> {
    // SAFETY: ftruncate takes no pointers.
    retry_eintr(|| unsafe { call2(nr::FTRUNCATE, fd as usize, len as usize) }).map(drop)
}

/// `fallocate(2)` of `len` bytes at `offset`; `mode` 0 allocates and extends the file, or
/// `FALLOC_FL_*`. Retries `EINTR`.
pub fn fallocate(fd: RawFd, mode: u32, offset: u64, len: u64) -> Result<(), Errno> {
    // SAFETY: fallocate takes no pointers.
    retry_eintr(|| unsafe {
        call4(
            nr::FALLOCATE,
            fd as usize,
            mode as usize,
            offset as usize,
            len as usize,
        )
    })
    .map(drop)
}

/// `fchmodat(2)`: sets the permission bits (and set-id and sticky bits) of `path` (relative
/// to `dirfd`) to `mode & 0o7777`, following a symbolic link. Retries `EINTR`.
pub fn fchmodat(dirfd: RawFd, path: &CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: path is NUL-terminated and borrowed for the call; fchmodat stores to no user
    // memory. (The syscall has no flags argument; glibc's AT_SYMLINK_NOFOLLOW emulation is
    // not this.)
    retry_eintr(|| unsafe {
        call3(
            nr::FCHMODAT,
            dirfd as usize,
            path.as_ptr() as usize,
            (mode & 0o7777) as usize,
        )
    })
    .map(drop)
}

/// `mkdirat(2)`. Not retried on `EINTR` (see the module docs).
pub fn mkdirat(dirfd: RawFd, path: &CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: path is NUL-terminated and borrowed for the call; mkdirat stores to no user
    // memory.
    unsafe {
        call3(
            nr::MKDIRAT,
            dirfd as usize,
            path.as_ptr() as usize,
            mode as usize,
        )
    }
    .map(drop)
}

/// `unlinkat(2)`: removes a file, or with `AT_REMOVEDIR` an empty directory. Not retried on
/// `EINTR` (see the module docs).
pub fn unlinkat(dirfd: RawFd, path: &CStr, flags: u32) -> Result<(), Errno> {
    // SAFETY: path is NUL-terminated and borrowed for the call; unlinkat stores to no user
    // memory.
    unsafe {
        call3(
            nr::UNLINKAT,
            dirfd as usize,
            path.as_ptr() as usize,
            flags as usize,
        )
    }
    .map(drop)
}

/// `renameat2(2)`; `flags` 0, `RENAME_NOREPLACE` (fail with `EEXIST` rather than replace) or
/// `RENAME_EXCHANGE` (swap the two). Not retried on `EINTR` (see the module docs).
pub fn renameat2(
    old_dirfd: RawFd,
    old: &CStr,
    new_dirfd: RawFd,
    new: &CStr,
    flags: u32,
) -> Result<(), Errno> {
    // SAFETY: both paths are NUL-terminated and borrowed for the call.
    unsafe {
        call5(
            nr::RENAMEAT2,
            old_dirfd as usize,
            old.as_ptr() as usize,
            new_dirfd as usize,
            new.as_ptr() as usize,
            flags as usize,
        )
    }
    .map(drop)
}
