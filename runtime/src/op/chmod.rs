//! `FchmodAt`: fchmodat(2) of an owned path. io_uring has no such opcode: it runs on the
//! blocking pool on both reactors.

use super::{DirFd, Mode, OpCode};
use crate::sys::{Errno, file as sys_file};
use io_uring::squeue;
use std::ffi::CString;
use std::io;

/// Sets a file's permission bits.
pub struct FchmodAt {
    dirfd: DirFd,
    path: CString,
    mode: u32,
}

impl FchmodAt {
    /// Sets the permission bits of `path` (relative to `dirfd`, following a symbolic link)
    /// to `mode & 0o7777`.
    pub fn new(dirfd: DirFd, path: CString, mode: u32) -> FchmodAt {
        FchmodAt { dirfd, path, mode }
    }
}

// SAFETY: no ring entry; `call` uses the op's own path and dirfd.
unsafe impl OpCode for FchmodAt {
    type Output = io::Result<()>;

    const NAME: &'static str = "chmod";

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        None
    }

    fn mode(&self) -> Mode<'_> {
        Mode::Blocking
    }

    fn call(&mut self) -> Result<usize, Errno> {
        sys_file::fchmodat(self.dirfd.raw(), &self.path, self.mode).map(|()| 0)
    }

    fn finish(self, res: io::Result<usize>) -> io::Result<()> {
        res.map(drop)
    }
}
