//! `RenameAt`: renameat2(2) of two owned paths.

use super::{DirFd, Mode, OpCode};
use crate::sys::{Errno, file as sys_file};
use io_uring::{opcode, squeue, types};
use std::ffi::CString;
use std::io;

/// Renames a path (`renameat2(2)`).
pub struct RenameAt {
    old_dirfd: DirFd,
    old: CString,
    new_dirfd: DirFd,
    new: CString,
    flags: u32,
}

impl RenameAt {
    /// Renames `old` (relative to `old_dirfd`) to `new` (relative to `new_dirfd`); `flags` is
    /// 0, `RENAME_NOREPLACE` or `RENAME_EXCHANGE`.
    pub fn new(
        old_dirfd: DirFd,
        old: CString,
        new_dirfd: DirFd,
        new: CString,
        flags: u32,
    ) -> RenameAt {
        RenameAt {
            old_dirfd,
            old,
            new_dirfd,
            new,
            flags,
        }
    }
}

// SAFETY: the entry points at the two paths, heap CStrings owned by the op.
unsafe impl OpCode for RenameAt {
    type Output = io::Result<()>;

    const NAME: &'static str = "rename";

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let entry = opcode::RenameAt::new(
            types::Fd(self.old_dirfd.raw()),
            self.old.as_ptr(),
            types::Fd(self.new_dirfd.raw()),
            self.new.as_ptr(),
        )
        .flags(self.flags)
        .build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        Mode::Blocking
    }

    fn call(&mut self) -> Result<usize, Errno> {
        sys_file::renameat2(
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
