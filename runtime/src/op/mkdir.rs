//! `MkDirAt`: mkdirat(2) of an owned path.

use super::{Mode, OpCode};
use crate::sys::{Errno, file as sys_file};
use io_uring::{opcode, squeue, types};
use std::ffi::CString;
use std::os::fd::RawFd;

pub struct MkDirAt {
    dirfd: RawFd,
    path: CString,
    mode: u32,
}

impl MkDirAt {
    /// Makes the directory `path` relative to `dirfd`, with permissions `mode` (less umask).
    pub fn new(dirfd: RawFd, path: CString, mode: u32) -> MkDirAt {
        MkDirAt { dirfd, path, mode }
    }
}

// SAFETY: the entry's only pointer is the path, a heap CString owned by the op.
unsafe impl OpCode for MkDirAt {
    fn sqe(&mut self) -> squeue::Entry {
        opcode::MkDirAt::new(types::Fd(self.dirfd), self.path.as_ptr())
            .mode(self.mode)
            .build()
    }

    fn mode(&self) -> Mode {
        Mode::Blocking
    }

    fn call(&mut self) -> Result<usize, Errno> {
        sys_file::mkdirat(self.dirfd, &self.path, self.mode).map(|()| 0)
    }
}
