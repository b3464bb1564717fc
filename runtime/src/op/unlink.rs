//! `UnlinkAt`: unlinkat(2) of an owned path: a file, or with `AT_REMOVEDIR` an empty directory.

use super::{DirFd, Mode, OpCode};
use crate::sys::{Errno, file as sys_file};
use io_uring::{opcode, squeue, types};
use std::ffi::CString;
use std::io;

/// Removes a file or an empty directory (`unlinkat(2)`).
pub struct UnlinkAt {
    dirfd: DirFd,
    path: CString,
    flags: u32,
}

impl UnlinkAt {
    /// Removes `path` relative to `dirfd`; `flags` is 0 or `AT_REMOVEDIR`.
    pub fn new(dirfd: DirFd, path: CString, flags: u32) -> UnlinkAt {
        UnlinkAt { dirfd, path, flags }
    }
}

// SAFETY: the entry's only pointer is the path, a heap CString owned by the op.
unsafe impl OpCode for UnlinkAt {
    type Output = io::Result<()>;

    const NAME: &'static str = "unlink";

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let entry = opcode::UnlinkAt::new(types::Fd(self.dirfd.raw()), self.path.as_ptr())
            .flags(self.flags as i32)
            .build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        Mode::Blocking
    }

    fn call(&mut self) -> Result<usize, Errno> {
        sys_file::unlinkat(self.dirfd.raw(), &self.path, self.flags).map(|()| 0)
    }

    fn finish(self, res: io::Result<usize>) -> io::Result<()> {
        res.map(drop)
    }
}
