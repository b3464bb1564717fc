//! `statx(2)` and its `struct statx`, re-exported from [`file`](super::file).

use super::arch::nr;
use super::call::{call5, retry_eintr};
use super::errno::Errno;
use std::ffi::CStr;
use std::os::fd::RawFd;

pub const STATX_TYPE: u32 = 0x001;
pub const STATX_MODE: u32 = 0x002;
pub const STATX_NLINK: u32 = 0x004;
pub const STATX_UID: u32 = 0x008;
pub const STATX_GID: u32 = 0x010;
pub const STATX_ATIME: u32 = 0x020;
pub const STATX_MTIME: u32 = 0x040;
pub const STATX_CTIME: u32 = 0x080;
pub const STATX_INO: u32 = 0x100;
pub const STATX_SIZE: u32 = 0x200;
pub const STATX_BLOCKS: u32 = 0x400;
/// Everything `stat(2)` reports.
pub const STATX_BASIC_STATS: u32 = 0x7ff;
pub const STATX_BTIME: u32 = 0x800;

/// `struct statx_timestamp`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatxTimestamp {
    pub tv_sec: i64,
    pub tv_nsec: u32,
    pub __reserved: i32,
}

/// `struct statx`, 256 bytes, as the kernel lays it out. Fields the kernel did not fill (see
/// `stx_mask`) are zero.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Statx {
    /// Which fields were filled (`STATX_*`).
    pub stx_mask: u32,
    pub stx_blksize: u32,
    pub stx_attributes: u64,
    pub stx_nlink: u32,
    pub stx_uid: u32,
    pub stx_gid: u32,
    /// File type and permission bits, as `st_mode`.
    pub stx_mode: u16,
    pub __spare0: u16,
    pub stx_ino: u64,
    pub stx_size: u64,
    pub stx_blocks: u64,
    pub stx_attributes_mask: u64,
    pub stx_atime: StatxTimestamp,
    pub stx_btime: StatxTimestamp,
    pub stx_ctime: StatxTimestamp,
    pub stx_mtime: StatxTimestamp,
    pub stx_rdev_major: u32,
    pub stx_rdev_minor: u32,
    pub stx_dev_major: u32,
    pub stx_dev_minor: u32,
    pub stx_mnt_id: u64,
    pub stx_dio_mem_align: u32,
    pub stx_dio_offset_align: u32,
    /// Newer fields (subvolume, atomic-write limits, ...) and reserved space.
    pub __spare3: [u64; 12],
}

/// `statx(2)` into `buf`. Retries `EINTR`.
///
/// # Safety
/// `path` must point to a NUL-terminated string and `buf` be valid for writes of a `Statx`,
/// until the call returns.
pub unsafe fn statx_raw(
    dirfd: RawFd,
    path: *const u8,
    flags: u32,
    mask: u32,
    buf: *mut Statx,
) -> Result<(), Errno> {
    // SAFETY: the caller guarantees path and buf.
    retry_eintr(|| unsafe {
        call5(
            nr::STATX,
            dirfd as usize,
            path as usize,
            flags as usize,
            mask as usize,
            buf as usize,
        )
    })
    .map(drop)
}

/// `statx(2)`. With `AT_EMPTY_PATH` and an empty `path`, describes `dirfd` itself. Retries
/// `EINTR`.
pub fn statx(dirfd: RawFd, path: &CStr, flags: u32, mask: u32) -> Result<Statx, Errno> {
    let mut buf = Statx::default();
    // SAFETY: path is NUL-terminated and borrowed; buf is a writable Statx; both outlive the
    // call.
    unsafe { statx_raw(dirfd, path.as_ptr().cast(), flags, mask, &mut buf) }?;
    Ok(buf)
}
