//! `OpenAt`: openat(2) of an owned path. Always `O_CLOEXEC`.

use super::{DirFd, Mode, OpCode};
use crate::sys::file::{self as sys_file, O_CLOEXEC};
use crate::sys::{Errno, OwnedFd};
use io_uring::{opcode, squeue, types};
use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;

/// Opens a file (`openat(2)`, always `O_CLOEXEC`); resolves to the new descriptor.
pub struct OpenAt {
    dirfd: DirFd,
    /// NUL-terminated, on the heap: its bytes stay put while the op lives.
    path: CString,
    flags: u32,
    mode: u32,
}

impl OpenAt {
    /// Opens `path` relative to `dirfd` (`AT_FDCWD`: the current directory). `O_CLOEXEC` is
    /// added to `flags`; `mode` matters with `O_CREAT`/`O_TMPFILE`.
    pub fn new(dirfd: DirFd, path: CString, flags: u32, mode: u32) -> OpenAt {
        OpenAt {
            dirfd,
            path,
            flags: flags | O_CLOEXEC,
            mode,
        }
    }
}

// SAFETY: the entry's only pointer is the path, a heap CString owned by the op; `call` reads
// only the path bytes and integers.
unsafe impl OpCode for OpenAt {
    type Output = io::Result<OwnedFd>;

    const NAME: &'static str = "open";

    const YIELDS_FD: bool = true;

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let entry = opcode::OpenAt::new(types::Fd(self.dirfd.raw()), self.path.as_ptr())
            .flags(self.flags as i32)
            .mode(self.mode)
            .build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        Mode::Blocking
    }

    fn call(&mut self) -> Result<usize, Errno> {
        sys_file::openat(self.dirfd.raw(), &self.path, self.flags, self.mode)
            .map(|fd| fd.into_raw() as usize)
    }

    /// The new descriptor, owned.
    fn finish(self, res: io::Result<usize>) -> Self::Output {
        // SAFETY: a successful openat returned a new descriptor that only this op saw.
        res.map(|fd| unsafe { OwnedFd::from_raw(fd as RawFd) })
    }
}
