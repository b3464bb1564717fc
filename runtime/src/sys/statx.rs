//! `statx(2)` and its `struct statx`, re-exported from [`file`](super::file).

use super::arch::nr;
use super::call::{call5, retry_eintr};
use super::errno::Errno;
use std::ffi::CStr;
use std::os::fd::RawFd;

/// Want `stx_mode & S_IFMT` (the file type).
pub const STATX_TYPE: u32 = 0x001;
/// Want `stx_mode & !S_IFMT` (the permission bits).
pub const STATX_MODE: u32 = 0x002;
/// Want `stx_nlink`.
pub const STATX_NLINK: u32 = 0x004;
/// Want `stx_uid`.
pub const STATX_UID: u32 = 0x008;
/// Want `stx_gid`.
pub const STATX_GID: u32 = 0x010;
/// Want `stx_atime`.
pub const STATX_ATIME: u32 = 0x020;
/// Want `stx_mtime`.
pub const STATX_MTIME: u32 = 0x040;
/// Want `stx_ctime`.
pub const STATX_CTIME: u32 = 0x080;
/// Want `stx_ino`.
pub const STATX_INO: u32 = 0x100;
/// Want `stx_size`.
pub const STATX_SIZE: u32 = 0x200;
/// Want `stx_blocks`.
pub const STATX_BLOCKS: u32 = 0x400;
/// Everything `stat(2)` reports.
pub const STATX_BASIC_STATS: u32 = 0x7ff;
/// Want `stx_btime` (creation time; not every filesystem has it).
pub const STATX_BTIME: u32 = 0x800;

/// `struct statx_timestamp`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatxTimestamp {
    /// Seconds since the Unix epoch.
    pub tv_sec: i64,
    /// Nanoseconds, 0..1_000_000_000.
    pub tv_nsec: u32,
    /// Reserved.
    pub __reserved: i32,
}

/// `struct statx`, 256 bytes, as the kernel lays it out. Fields the kernel did not fill (see
/// `stx_mask`) are zero.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Statx {
    /// Which fields were filled (`STATX_*`).
    pub stx_mask: u32,
    /// Preferred block size for I/O, in bytes.
    pub stx_blksize: u32,
    /// File attributes (`STATX_ATTR_*`).
    pub stx_attributes: u64,
    /// Number of hard links.
    pub stx_nlink: u32,
    /// Owner's user ID.
    pub stx_uid: u32,
    /// Owner's group ID.
    pub stx_gid: u32,
    /// File type and permission bits, as `st_mode`.
    pub stx_mode: u16,
    /// Padding.
    pub __spare0: u16,
    /// Inode number.
    pub stx_ino: u64,
    /// Size, in bytes.
    pub stx_size: u64,
    /// Space allocated, in 512-byte blocks.
    pub stx_blocks: u64,
    /// Which bits of `stx_attributes` this filesystem supports.
    pub stx_attributes_mask: u64,
    /// Last access.
    pub stx_atime: StatxTimestamp,
    /// Creation (with `STATX_BTIME` in `stx_mask`).
    pub stx_btime: StatxTimestamp,
    /// Last status change.
    pub stx_ctime: StatxTimestamp,
    /// Last modification.
    pub stx_mtime: StatxTimestamp,
    /// Major number of the device this file is (device files).
    pub stx_rdev_major: u32,
    /// Minor number of the device this file is (device files).
    pub stx_rdev_minor: u32,
    /// Major number of the device the file is on.
    pub stx_dev_major: u32,
    /// Minor number of the device the file is on.
    pub stx_dev_minor: u32,
    /// Mount ID (`STATX_MNT_ID`).
    pub stx_mnt_id: u64,
    /// Memory alignment `O_DIRECT` needs, in bytes (`STATX_DIOALIGN`).
    pub stx_dio_mem_align: u32,
    /// File offset alignment `O_DIRECT` needs, in bytes (`STATX_DIOALIGN`).
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
