//! `MkDirAt`: mkdirat(2) of an owned path.

use super::{DirFd, Mode, OpCode};
use crate::sys::{Errno, file as sys_file};
use io_uring::{opcode, squeue, types};
use std::ffi::CString;
use std::io;

/// Makes a directory (`mkdirat(2)`).
pub struct MkDirAt {
    dirfd: DirFd,
    path: CString,
    mode: u32,
}

impl MkDirAt {
    /// Makes the directory `path` relative to `dirfd`, with permissions `mode` (less umask).
    pub fn new(dirfd: DirFd, path: CString, mode: u32) -> MkDirAt {
        MkDirAt { dirfd, path, mode }
    }
}

// SAFETY: the entry's only pointer is the path, a heap CString owned by the op.
unsafe impl OpCode for MkDirAt {
    type Output = io::Result<()>;

    const NAME: &'static str = "mkdir";

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let entry = opcode::MkDirAt::new(types::Fd(self.dirfd.raw()), self.path.as_ptr())
            .mode(self.mode)
            .build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        Mode::Blocking
    }

    fn call(&mut self) -> Result<usize, Errno> {
        sys_file::mkdirat(self.dirfd.raw(), &self.path, self.mode).map(|()| 0)
    }

    fn finish(self, res: io::Result<usize>) -> io::Result<()> {
        res.map(drop)
    }
}
