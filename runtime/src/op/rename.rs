//! `RenameAt`: renameat2(2) of two owned paths.

use super::{Mode, OpCode};
use crate::sys::{Errno, file as sys_file};
use io_uring::{opcode, squeue, types};
use std::ffi::CString;
use std::os::fd::RawFd;

pub struct RenameAt {
    old_dirfd: RawFd,
    old: CString,
    new_dirfd: RawFd,
    new: CString,
    flags: u32,
}

impl RenameAt {
    /// Renames `old` (relative to `old_dirfd`) to `new` (relative to `new_dirfd`); `flags` is
    /// 0, `RENAME_NOREPLACE` or `RENAME_EXCHANGE`.
    pub fn new(
        old_dirfd: RawFd,
        old: CString,
        new_dirfd: RawFd,
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
    fn sqe(&mut self) -> squeue::Entry {
        opcode::RenameAt::new(
            types::Fd(self.old_dirfd),
            self.old.as_ptr(),
            types::Fd(self.new_dirfd),
            self.new.as_ptr(),
        )
        .flags(self.flags)
        .build()
    }

    fn mode(&self) -> Mode {
        Mode::Blocking
    }

    fn call(&mut self) -> Result<usize, Errno> {
        sys_file::renameat2(
            self.old_dirfd,
            &self.old,
            self.new_dirfd,
            &self.new,
            self.flags,
        )
        .map(|()| 0)
    }
}
