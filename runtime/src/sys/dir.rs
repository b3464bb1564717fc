//! Reading directories: `getdents64`, and the records it fills a buffer with.
//!
//! `EINTR`: getdents64 is retried (an interrupted call moved no directory position, so making
//! it again reads the same entries).

use super::arch::nr;
use super::call::{call3, retry_eintr};
use super::errno::Errno;
use std::ffi::CStr;
use std::os::fd::RawFd;

// `d_type` values: what an entry is, when the file system says. Each is the `S_IF*` file
// type of `st_mode` shifted right by 12 bits.
/// The file system does not say what the entry is: ask statx.
pub const DT_UNKNOWN: u8 = 0;
/// A named pipe.
pub const DT_FIFO: u8 = 1;
/// A character device.
pub const DT_CHR: u8 = 2;
/// A directory.
pub const DT_DIR: u8 = 4;
/// A block device.
pub const DT_BLK: u8 = 6;
/// A regular file.
pub const DT_REG: u8 = 8;
/// A symbolic link.
pub const DT_LNK: u8 = 10;
/// A Unix socket.
pub const DT_SOCK: u8 = 12;

/// `getdents64(2)`: fills `ptr..ptr+len` with directory records (see [`entries`]) from the
/// directory `fd`'s position on, and moves the position past them. Returns how many bytes it
/// filled; 0 is the end of the directory. `EINVAL` if `len` is too small for the next record.
/// Retries `EINTR`.
///
/// # Safety
/// `ptr` must be valid for writes of `len` bytes until the call returns.
pub unsafe fn getdents64_raw(fd: RawFd, ptr: *mut u8, len: usize) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees ptr..ptr+len is writable.
    retry_eintr(|| unsafe { call3(nr::GETDENTS64, fd as usize, ptr as usize, len) })
}

/// `getdents64(2)` into the spare capacity of `buf` (after its length, which grows by what
/// was filled). Retries `EINTR`.
pub fn getdents64(fd: RawFd, buf: &mut Vec<u8>) -> Result<usize, Errno> {
    let init = buf.len();
    let room = buf.capacity() - init;
    // SAFETY: the spare capacity is writable for `room` bytes.
    let n = unsafe { getdents64_raw(fd, buf.as_mut_ptr().add(init), room)? };
    // SAFETY: the kernel initialized n <= room bytes after the old length.
    unsafe { buf.set_len(init + n.min(room)) };
    Ok(n)
}

/// One record of a getdents64 buffer.
#[derive(Clone, Copy, Debug)]
pub struct DirEntry<'a> {
    /// The inode number.
    pub ino: u64,
    /// What the entry is (`DT_*`), or `DT_UNKNOWN`.
    pub kind: u8,
    /// The entry's name (no `/`, never empty).
    pub name: &'a CStr,
}

/// The records of a buffer filled by getdents64 (`struct linux_dirent64`: `d_ino` u64,
/// `d_off` i64, `d_reclen` u16, `d_type` u8, then the NUL-terminated name, padded). `.` and
/// `..` are included, as the kernel gives them. A record that does not fit the buffer (a
/// corrupted length) ends the iteration.
pub fn entries(buf: &[u8]) -> impl Iterator<Item = DirEntry<'_>> {
    const NAME_AT: usize = 19;
    let mut at = 0;
    std::iter::from_fn(move || {
        let rec = buf.get(at..)?;
        if rec.len() < NAME_AT {
            return None;
        }
        let ino = u64::from_ne_bytes(rec[0..8].try_into().ok()?);
        let reclen = u16::from_ne_bytes(rec[16..18].try_into().ok()?) as usize;
        if reclen <= NAME_AT || reclen > rec.len() {
            return None;
        }
        let kind = rec[18];
        let name = CStr::from_bytes_until_nul(&rec[NAME_AT..reclen]).ok()?;
        at += reclen;
        Some(DirEntry { ino, kind, name })
    })
}
