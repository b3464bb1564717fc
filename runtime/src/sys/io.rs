//! Byte I/O on any descriptor: read, write, the vectored and positional forms, pipes, and
//! descriptor control (fcntl, dup3, lseek).
//!
//! Every function here retries `EINTR` (nothing was transferred when a call reports it) and
//! returns short counts as they are: the loops that finish a transfer live a level up.
//! The `*_raw` forms take pointers and are `unsafe`; the others borrow slices.

use super::arch::nr;
use super::call::{call2, call3, call4, call5, retry_eintr};
use super::errno::Errno;
use super::fd::OwnedFd;
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::RawFd;

/// `struct iovec`: a pointer and a length (the same layout as `IoSlice` on Linux). Raw, so it
/// can describe memory that is not initialized yet (the spare capacity a read fills).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct IoVec {
    /// Start of the memory.
    pub base: *mut u8,
    /// Its length in bytes.
    pub len: usize,
}

/// `read(2)` into `len` bytes at `ptr`.
///
/// # Safety
/// `ptr` must be valid for writes of `len` bytes until the call returns.
pub unsafe fn read_raw(fd: RawFd, ptr: *mut u8, len: usize) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees ptr..ptr+len is writable.
    retry_eintr(|| unsafe { call3(nr::READ, fd as usize, ptr as usize, len) })
}

/// `read(2)`.
pub fn read(fd: RawFd, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the slice is valid for writes of its length.
    unsafe { read_raw(fd, buf.as_mut_ptr(), buf.len()) }
}

/// `write(2)` of `len` bytes at `ptr`.
///
/// # Safety
/// `ptr` must be valid for reads of `len` bytes until the call returns.
pub unsafe fn write_raw(fd: RawFd, ptr: *const u8, len: usize) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees the bytes are readable; write stores to no user memory.
    retry_eintr(|| unsafe { call3(nr::WRITE, fd as usize, ptr as usize, len) })
}

/// `write(2)`.
pub fn write(fd: RawFd, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: the slice is valid for reads of its length.
    unsafe { write_raw(fd, buf.as_ptr(), buf.len()) }
}

/// `pread64(2)`: reads at `offset` without moving the file offset.
///
/// # Safety
/// As [`read_raw`].
pub unsafe fn pread_raw(fd: RawFd, ptr: *mut u8, len: usize, offset: u64) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees ptr..ptr+len is writable.
    retry_eintr(|| unsafe { call4(nr::PREAD64, fd as usize, ptr as usize, len, offset as usize) })
}

/// `pread64(2)`.
pub fn pread(fd: RawFd, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
    // SAFETY: the slice is valid for writes of its length.
    unsafe { pread_raw(fd, buf.as_mut_ptr(), buf.len(), offset) }
}

/// `pwrite64(2)`: writes at `offset` without moving the file offset.
///
/// # Safety
/// As [`write_raw`].
pub unsafe fn pwrite_raw(
    fd: RawFd,
    ptr: *const u8,
    len: usize,
    offset: u64,
) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees the bytes are readable.
    retry_eintr(|| unsafe {
        call4(
            nr::PWRITE64,
            fd as usize,
            ptr as usize,
            len,
            offset as usize,
        )
    })
}

/// `pwrite64(2)`.
pub fn pwrite(fd: RawFd, buf: &[u8], offset: u64) -> Result<usize, Errno> {
    // SAFETY: the slice is valid for reads of its length.
    unsafe { pwrite_raw(fd, buf.as_ptr(), buf.len(), offset) }
}

/// `readv(2)` into `cnt` iovecs at `iov`.
///
/// # Safety
/// `iov` must point to `cnt` iovecs, each valid for writes of its length, until the call returns.
pub unsafe fn readv_raw(fd: RawFd, iov: *const IoVec, cnt: usize) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees the iovecs and their memory.
    retry_eintr(|| unsafe { call3(nr::READV, fd as usize, iov as usize, cnt) })
}

/// `readv(2)`.
pub fn readv(fd: RawFd, bufs: &mut [IoSliceMut<'_>]) -> Result<usize, Errno> {
    // SAFETY: IoSliceMut is ABI-compatible with struct iovec, and each is valid for writes.
    unsafe { readv_raw(fd, bufs.as_ptr().cast(), bufs.len()) }
}

/// `writev(2)` from `cnt` iovecs at `iov`.
///
/// # Safety
/// `iov` must point to `cnt` iovecs, each valid for reads of its length, until the call returns.
pub unsafe fn writev_raw(fd: RawFd, iov: *const IoVec, cnt: usize) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees the iovecs and their memory; writev stores to no user memory.
    retry_eintr(|| unsafe { call3(nr::WRITEV, fd as usize, iov as usize, cnt) })
}

/// `writev(2)`.
pub fn writev(fd: RawFd, bufs: &[IoSlice<'_>]) -> Result<usize, Errno> {
    // SAFETY: IoSlice is ABI-compatible with struct iovec, and each is valid for reads.
    unsafe { writev_raw(fd, bufs.as_ptr().cast(), bufs.len()) }
}

/// `preadv(2)` at `offset`.
///
/// # Safety
/// As [`readv_raw`].
pub unsafe fn preadv_raw(
    fd: RawFd,
    iov: *const IoVec,
    cnt: usize,
    offset: u64,
) -> Result<usize, Errno> {
    // The kernel takes the offset split in two longs; on 64-bit the high half is ignored.
    // SAFETY: the caller guarantees the iovecs and their memory.
    retry_eintr(|| unsafe {
        call5(
            nr::PREADV,
            fd as usize,
            iov as usize,
            cnt,
            offset as usize,
            (offset >> 32) as usize,
        )
    })
}

/// `preadv(2)`.
pub fn preadv(fd: RawFd, bufs: &mut [IoSliceMut<'_>], offset: u64) -> Result<usize, Errno> {
    // SAFETY: IoSliceMut is ABI-compatible with struct iovec, and each is valid for writes.
    unsafe { preadv_raw(fd, bufs.as_ptr().cast(), bufs.len(), offset) }
}

/// `pwritev(2)` at `offset`.
///
/// # Safety
/// As [`writev_raw`].
pub unsafe fn pwritev_raw(
    fd: RawFd,
    iov: *const IoVec,
    cnt: usize,
    offset: u64,
) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees the iovecs and their memory.
    retry_eintr(|| unsafe {
        call5(
            nr::PWRITEV,
            fd as usize,
            iov as usize,
            cnt,
            offset as usize,
            (offset >> 32) as usize,
        )
    })
}

/// `pwritev(2)`.
pub fn pwritev(fd: RawFd, bufs: &[IoSlice<'_>], offset: u64) -> Result<usize, Errno> {
    // SAFETY: IoSlice is ABI-compatible with struct iovec, and each is valid for reads.
    unsafe { pwritev_raw(fd, bufs.as_ptr().cast(), bufs.len(), offset) }
}

/// `O_CLOEXEC` for pipe2, dup3 and openat.
pub const O_CLOEXEC: u32 = 0o2000000;
/// `O_NONBLOCK`.
pub const O_NONBLOCK: u32 = 0o4000;

/// `pipe2(2)`, always `O_CLOEXEC`; `nonblocking` adds `O_NONBLOCK`. Returns (read end, write end).
pub fn pipe(nonblocking: bool) -> Result<(OwnedFd, OwnedFd), Errno> {
    let mut fds = [-1i32; 2];
    let flags = O_CLOEXEC | if nonblocking { O_NONBLOCK } else { 0 };
    // SAFETY: fds is a writable array of two ints, as pipe2 expects.
    unsafe { call2(nr::PIPE2, fds.as_mut_ptr() as usize, flags as usize) }?;
    // SAFETY: pipe2 succeeded, so both are new descriptors that only we hold.
    unsafe { Ok((OwnedFd::from_raw(fds[0]), OwnedFd::from_raw(fds[1]))) }
}

/// `dup3(2)` of `old` onto `new`, always `O_CLOEXEC`. Retries `EINTR`.
///
/// # Safety
/// If `new` is open, dup3 silently closes it and reuses the number: the caller must own `new`
/// (and give up that ownership), or know it is not open. Otherwise another owner would later
/// close a descriptor that is no longer its own.
pub unsafe fn dup3(old: RawFd, new: RawFd) -> Result<OwnedFd, Errno> {
    // SAFETY: dup3 takes no pointers.
    let fd =
        retry_eintr(|| unsafe { call3(nr::DUP3, old as usize, new as usize, O_CLOEXEC as usize) })?;
    // SAFETY: dup3 succeeded: `fd` now refers to a descriptor the caller asked to own.
    Ok(unsafe { OwnedFd::from_raw(fd as RawFd) })
}

/// `fcntl` commands used by coreloop.
pub mod fcntl_cmd {
    /// Duplicate to the lowest free number at or above the argument, close-on-exec.
    pub const F_DUPFD_CLOEXEC: u32 = 1030;
    /// Read the descriptor flags (`FD_CLOEXEC`).
    pub const F_GETFD: u32 = 1;
    /// Set the descriptor flags.
    pub const F_SETFD: u32 = 2;
    /// Read the file status flags (`O_APPEND`, `O_NONBLOCK`, ...).
    pub const F_GETFL: u32 = 3;
    /// Set the file status flags.
    pub const F_SETFL: u32 = 4;
    /// The close-on-exec descriptor flag.
    pub const FD_CLOEXEC: usize = 1;
}

/// `fcntl(2)` with an integer argument: only F_GETFD, F_SETFD, F_GETFL, F_SETFL and
/// F_DUPFD_CLOEXEC; any other command (some take pointers the kernel would write through) is
/// refused with `EINVAL` without a syscall. Retries `EINTR`.
///
/// An fd returned by F_DUPFD_CLOEXEC is the caller's to own (wrap it with `OwnedFd::from_raw`).
pub fn fcntl(fd: RawFd, cmd: u32, arg: usize) -> Result<usize, Errno> {
    use fcntl_cmd::*;
    if !matches!(cmd, F_GETFD | F_SETFD | F_GETFL | F_SETFL | F_DUPFD_CLOEXEC) {
        return Err(Errno::EINVAL);
    }
    // SAFETY: the commands allowed above take an integer, not a pointer.
    retry_eintr(|| unsafe { call3(nr::FCNTL, fd as usize, cmd as usize, arg) })
}

/// Whence values for [`lseek`].
pub mod whence {
    /// Offset from the start of the file.
    pub const SEEK_SET: u32 = 0;
    /// Offset from the current position.
    pub const SEEK_CUR: u32 = 1;
    /// Offset from the end of the file.
    pub const SEEK_END: u32 = 2;
}

/// `lseek(2)`. Returns the new offset.
pub fn lseek(fd: RawFd, offset: i64, whence: u32) -> Result<u64, Errno> {
    // SAFETY: lseek takes no pointers.
    unsafe { call3(nr::LSEEK, fd as usize, offset as usize, whence as usize) }.map(|o| o as u64)
}
