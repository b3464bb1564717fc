//! `Statx`: statx(2) of an owned path (or, with `AT_EMPTY_PATH` and an empty path, of a
//! descriptor) into a boxed `struct statx`.

use super::{DirFd, Mode, OpCode};
use crate::sys::Errno;
use crate::sys::statx::{Statx as StatxBuf, statx_raw};
use io_uring::{opcode, squeue, types};
use std::ffi::CString;
use std::io;

/// Describes a file (`statx(2)`); resolves to the kernel's `struct statx`.
pub struct Statx {
    dirfd: DirFd,
    path: CString,
    flags: u32,
    mask: u32,
    /// Where the kernel writes; boxed, so its address does not change when the op moves.
    buf: Box<StatxBuf>,
}

impl Statx {
    /// Describes `path` relative to `dirfd`; `flags` are `AT_*` (`AT_SYMLINK_NOFOLLOW`,
    /// `AT_EMPTY_PATH`, ...), `mask` the `STATX_*` fields wanted.
    pub fn new(dirfd: DirFd, path: CString, flags: u32, mask: u32) -> Statx {
        Statx {
            dirfd,
            path,
            flags,
            mask,
            buf: Box::default(),
        }
    }
}

// SAFETY: the entry points at the path (a heap CString) and the boxed buffer, both owned by
// the op; `call` touches only those and integers.
unsafe impl OpCode for Statx {
    type Output = io::Result<StatxBuf>;

    const NAME: &'static str = "statx";

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let buf: *mut StatxBuf = &mut *self.buf;
        let entry = opcode::Statx::new(types::Fd(self.dirfd.raw()), self.path.as_ptr(), buf.cast())
            .flags(self.flags as i32)
            .mask(self.mask)
            .build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        Mode::Blocking
    }

    fn call(&mut self) -> Result<usize, Errno> {
        let buf: *mut StatxBuf = &mut *self.buf;
        // SAFETY: the path is NUL-terminated and buf is a writable statx, both owned by the op
        // for the whole call.
        unsafe {
            statx_raw(
                self.dirfd.raw(),
                self.path.as_ptr().cast(),
                self.flags,
                self.mask,
                buf,
            )
        }
        .map(|()| 0)
    }

    /// What the kernel filled in.
    fn finish(self, res: io::Result<usize>) -> Self::Output {
        res.map(|_| *self.buf)
    }
}
