//! `LinkAt`: linkat(2) of two owned paths (a hard link).

use super::{DirFd, Mode, OpCode};
use crate::sys::{Errno, link as sys_link};
use io_uring::{opcode, squeue, types};
use std::ffi::CString;
use std::io;

/// Makes a second name for a file.
pub struct LinkAt {
    old_dirfd: DirFd,
    old: CString,
    new_dirfd: DirFd,
    new: CString,
    flags: u32,
}

impl LinkAt {
    /// Makes `new` (relative to `new_dirfd`) a name for `old` (relative to `old_dirfd`);
    /// `flags` 0 or `AT_SYMLINK_FOLLOW`.
    pub fn new(
        old_dirfd: DirFd,
        old: CString,
        new_dirfd: DirFd,
        new: CString,
        flags: u32,
    ) -> LinkAt {
        LinkAt {
            old_dirfd,
            old,
            new_dirfd,
            new,
            flags,
        }
    }
}

// SAFETY: the entry points at the two paths, heap CStrings owned by the op; the dirfds are
// the op's own.
unsafe impl OpCode for LinkAt {
    type Output = io::Result<()>;

    const NAME: &'static str = "link";

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let entry = opcode::LinkAt::new(
            types::Fd(self.old_dirfd.raw()),
            self.old.as_ptr(),
            types::Fd(self.new_dirfd.raw()),
            self.new.as_ptr(),
        )
        .flags(self.flags as i32)
        .build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        Mode::Blocking
    }

    fn call(&mut self) -> Result<usize, Errno> {
        sys_link::linkat(
            self.old_dirfd.raw(),
            &self.old,
            self.new_dirfd.raw(),
            &self.new,
            self.flags,
        )
        .map(|()| 0)
    }

    fn finish(self, res: io::Result<usize>) -> io::Result<()> {
        res.map(drop)
    }
}
