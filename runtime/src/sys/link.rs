//! Links: `linkat`, `symlinkat`, `readlinkat`.
//!
//! `EINTR`: readlinkat is retried (it only reads). linkat and symlinkat are not: if one
//! completed before the interruption was reported, a retry would fail with `EEXIST` and hide
//! the success.

use super::arch::nr;
use super::call::{call3, call4, call5, retry_eintr};
use super::errno::Errno;
use std::ffi::CStr;
use std::os::fd::RawFd;

/// Follow `old` if it is a symbolic link (for [`linkat`]).
pub const AT_SYMLINK_FOLLOW: u32 = 0x400;

/// `linkat(2)`: makes `new` (relative to `new_dirfd`) another name for `old` (relative to
/// `old_dirfd`); `flags` 0 or [`AT_SYMLINK_FOLLOW`]. Not retried on `EINTR`.
pub fn linkat(
    old_dirfd: RawFd,
    old: &CStr,
    new_dirfd: RawFd,
    new: &CStr,
    flags: u32,
) -> Result<(), Errno> {
    // SAFETY: both paths are NUL-terminated and borrowed for the call; linkat stores to no
    // user memory.
    unsafe {
        call5(
            nr::LINKAT,
            old_dirfd as usize,
            old.as_ptr() as usize,
            new_dirfd as usize,
            new.as_ptr() as usize,
            flags as usize,
        )
    }
    .map(drop)
}

/// `symlinkat(2)`: makes `link` (relative to `dirfd`) a symbolic link whose content is
/// `target` (not checked: it may name nothing). Not retried on `EINTR`.
pub fn symlinkat(target: &CStr, dirfd: RawFd, link: &CStr) -> Result<(), Errno> {
    // SAFETY: both paths are NUL-terminated and borrowed for the call; symlinkat stores to
    // no user memory.
    unsafe {
        call3(
            nr::SYMLINKAT,
            target.as_ptr() as usize,
            dirfd as usize,
            link.as_ptr() as usize,
        )
    }
    .map(drop)
}

/// `readlinkat(2)`: the content of the symbolic link `path` (relative to `dirfd`), written to
/// `ptr..ptr+len` without a NUL; returns its length. A return equal to `len` may mean the
/// content was cut: ask again with more room. Retries `EINTR`.
///
/// # Safety
/// `path` must point to a NUL-terminated string, and `ptr` must be valid for writes of `len`
/// bytes, until the call returns.
pub unsafe fn readlinkat_raw(
    dirfd: RawFd,
    path: *const u8,
    ptr: *mut u8,
    len: usize,
) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees path and ptr..ptr+len.
    retry_eintr(|| unsafe {
        call4(
            nr::READLINKAT,
            dirfd as usize,
            path as usize,
            ptr as usize,
            len,
        )
    })
}

/// `readlinkat(2)` into the spare capacity of `buf` (after its length, which grows by what
/// was written). Retries `EINTR`.
pub fn readlinkat(dirfd: RawFd, path: &CStr, buf: &mut Vec<u8>) -> Result<usize, Errno> {
    let init = buf.len();
    let room = buf.capacity() - init;
    // SAFETY: path is NUL-terminated and borrowed; the spare capacity is writable for room.
    let n = unsafe {
        readlinkat_raw(
            dirfd,
            path.as_ptr().cast(),
            buf.as_mut_ptr().add(init),
            room,
        )?
    };
    // SAFETY: the kernel initialized n <= room bytes after the old length.
    unsafe { buf.set_len(init + n.min(room)) };
    Ok(n)
}
