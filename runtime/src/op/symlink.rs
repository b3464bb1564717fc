//! `SymlinkAt`: symlinkat(2) of two owned paths.

use super::{DirFd, Mode, OpCode};
use crate::sys::{Errno, link as sys_link};
use io_uring::{opcode, squeue, types};
use std::ffi::CString;
use std::io;

/// Makes a symbolic link.
pub struct SymlinkAt {
    target: CString,
    dirfd: DirFd,
    link: CString,
}

impl SymlinkAt {
    /// Makes `link` (relative to `dirfd`) a symbolic link to `target`.
    pub fn new(target: CString, dirfd: DirFd, link: CString) -> SymlinkAt {
        SymlinkAt {
            target,
            dirfd,
            link,
        }
    }
}

// SAFETY: the entry points at the two paths, heap CStrings owned by the op; the dirfd is the
// op's own.
unsafe impl OpCode for SymlinkAt {
    type Output = io::Result<()>;

    const NAME: &'static str = "symlink";

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let entry = opcode::SymlinkAt::new(
            types::Fd(self.dirfd.raw()),
            self.target.as_ptr(),
            self.link.as_ptr(),
        )
        .build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        Mode::Blocking
    }

    fn call(&mut self) -> Result<usize, Errno> {
        sys_link::symlinkat(&self.target, self.dirfd.raw(), &self.link).map(|()| 0)
    }

    fn finish(self, res: io::Result<usize>) -> io::Result<()> {
        res.map(drop)
    }
}
