//! `Metadata`, `FileType`, `Permissions`: what statx(2) says about a file.

use coreloop_runtime::sys::file::{
    STATX_ATIME, STATX_BASIC_STATS, STATX_BTIME, STATX_MTIME, Statx, StatxTimestamp,
};
use std::io;
use std::time::{Duration, SystemTime};

/// The fields coreloop asks statx for.
pub(crate) const STATX_WANTED: u32 = STATX_BASIC_STATS | STATX_BTIME;

const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;

/// Metadata of a file, from statx(2).
#[derive(Clone, Debug)]
pub struct Metadata {
    stx: Statx,
}

impl Metadata {
    pub(crate) fn new(stx: Statx) -> Metadata {
        Metadata { stx }
    }

    /// The size in bytes.
    pub fn len(&self) -> u64 {
        self.stx.stx_size
    }

    /// True if the size is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Regular file, directory, symlink or other.
    pub fn file_type(&self) -> FileType {
        FileType(self.mode() & S_IFMT)
    }

    /// True for a regular file.
    pub fn is_file(&self) -> bool {
        self.file_type().is_file()
    }

    /// True for a directory.
    pub fn is_dir(&self) -> bool {
        self.file_type().is_dir()
    }

    /// True for a symlink (only from [`symlink_metadata`](crate::symlink_metadata);
    /// [`metadata`](crate::metadata) follows links).
    pub fn is_symlink(&self) -> bool {
        self.file_type().is_symlink()
    }

    /// The permission bits (`mode & 0o7777`).
    pub fn permissions(&self) -> Permissions {
        Permissions(self.mode() & 0o7777)
    }

    /// Type and permission bits, as `st_mode`.
    pub fn mode(&self) -> u32 {
        u32::from(self.stx.stx_mode)
    }

    /// Last modification.
    pub fn modified(&self) -> io::Result<SystemTime> {
        self.time(STATX_MTIME, self.stx.stx_mtime, "modification")
    }

    /// Last access.
    pub fn accessed(&self) -> io::Result<SystemTime> {
        self.time(STATX_ATIME, self.stx.stx_atime, "access")
    }

    /// Creation (birth); `Unsupported` where the file system does not record it.
    pub fn created(&self) -> io::Result<SystemTime> {
        self.time(STATX_BTIME, self.stx.stx_btime, "creation")
    }

    /// The inode number.
    pub fn ino(&self) -> u64 {
        self.stx.stx_ino
    }

    /// The device the file is on, encoded as `st_dev` is (glibc's `makedev`).
    pub fn dev(&self) -> u64 {
        makedev(self.stx.stx_dev_major, self.stx.stx_dev_minor)
    }

    /// The number of hard links.
    pub fn nlink(&self) -> u64 {
        u64::from(self.stx.stx_nlink)
    }

    /// The owner's user ID.
    pub fn uid(&self) -> u32 {
        self.stx.stx_uid
    }

    /// The owner's group ID.
    pub fn gid(&self) -> u32 {
        self.stx.stx_gid
    }

    /// The preferred block size for I/O.
    pub fn blksize(&self) -> u64 {
        u64::from(self.stx.stx_blksize)
    }

    /// 512-byte blocks allocated.
    pub fn blocks(&self) -> u64 {
        self.stx.stx_blocks
    }

    /// Everything statx returned.
    pub fn statx(&self) -> &Statx {
        &self.stx
    }

    fn time(&self, bit: u32, ts: StatxTimestamp, what: &str) -> io::Result<SystemTime> {
        if self.stx.stx_mask & bit == 0 {
            let msg = format!("this file system does not report {what} time");
            return Err(io::Error::new(io::ErrorKind::Unsupported, msg));
        }
        let nanos = Duration::from_nanos(u64::from(ts.tv_nsec));
        let t = if ts.tv_sec >= 0 {
            SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(ts.tv_sec as u64) + nanos)
        } else {
            SystemTime::UNIX_EPOCH
                .checked_sub(Duration::from_secs(ts.tv_sec.unsigned_abs()))
                .and_then(|t| t.checked_add(nanos))
        };
        t.ok_or_else(|| io::Error::other(format!("{what} time out of SystemTime's range")))
    }
}

/// glibc's `makedev`, the encoding of `st_dev`.
fn makedev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (u64::from(major), u64::from(minor));
    ((major & 0xffff_f000) << 32)
        | ((major & 0xfff) << 8)
        | ((minor & 0xffff_ff00) << 12)
        | (minor & 0xff)
}

/// The type of a file: regular, directory, symbolic link, or something else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileType(u32);

impl FileType {
    /// The type in a `st_mode`/`stx_mode` value (its `S_IFMT` bits).
    pub(crate) fn from_mode(mode: u32) -> FileType {
        FileType(mode & S_IFMT)
    }

    /// True for a regular file.
    pub fn is_file(&self) -> bool {
        self.0 == S_IFREG
    }

    /// True for a directory.
    pub fn is_dir(&self) -> bool {
        self.0 == S_IFDIR
    }

    /// True for a symbolic link.
    pub fn is_symlink(&self) -> bool {
        self.0 == S_IFLNK
    }
}

/// Permission bits (`mode & 0o7777`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Permissions(u32);

impl Permissions {
    /// Permission bits from a mode (`mode & 0o7777`), for [`set_permissions`](crate::set_permissions).
    pub fn from_mode(mode: u32) -> Permissions {
        Permissions(mode & 0o7777)
    }

    /// Sets the permission bits (`mode & 0o7777`).
    pub fn set_mode(&mut self, mode: u32) {
        self.0 = mode & 0o7777;
    }

    /// Clears every write bit (`true`) or sets the owner's (`false`), as std on Unix.
    pub fn set_readonly(&mut self, readonly: bool) {
        if readonly {
            self.0 &= !0o222;
        } else {
            self.0 |= 0o200;
        }
    }

    /// The permission bits, as `chmod` takes them (`0o7777` at most).
    pub fn mode(&self) -> u32 {
        self.0
    }

    /// True if no one may write (no write bit set at all), as std means it.
    pub fn readonly(&self) -> bool {
        self.0 & 0o222 == 0
    }
}
