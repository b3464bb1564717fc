//! `UnlinkAt`: unlinkat(2) of an owned path: a file, or with `AT_REMOVEDIR` an empty directory.

use super::{Mode, OpCode};
use crate::sys::{Errno, file as sys_file};
use io_uring::{opcode, squeue, types};
use std::ffi::CString;
use std::os::fd::RawFd;

pub struct UnlinkAt {
    dirfd: RawFd,
    path: CString,
    flags: u32,
}

impl UnlinkAt {
    /// Removes `path` relative to `dirfd`; `flags` is 0 or `AT_REMOVEDIR`.
    pub fn new(dirfd: RawFd, path: CString, flags: u32) -> UnlinkAt {
        UnlinkAt { dirfd, path, flags }
    }
}

// SAFETY: the entry's only pointer is the path, a heap CString owned by the op.
unsafe impl OpCode for UnlinkAt {
    fn sqe(&mut self) -> squeue::Entry {
        opcode::UnlinkAt::new(types::Fd(self.dirfd), self.path.as_ptr())
            .flags(self.flags as i32)
            .build()
    }

    fn mode(&self) -> Mode {
        Mode::Blocking
    }

    fn call(&mut self) -> Result<usize, Errno> {
        sys_file::unlinkat(self.dirfd, &self.path, self.flags).map(|()| 0)
    }
}
