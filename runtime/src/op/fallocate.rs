//! `Fallocate`: fallocate(2): reserve (or, with `FALLOC_FL_*`, punch or zero) a range.

use super::{Mode, OpCode, SharedFd};
use crate::sys::{Errno, file as sys_file};
use io_uring::{opcode, squeue, types};
use std::io;

/// Allocates, punches or zeroes a byte range of a file (`fallocate(2)`).
pub struct Fallocate {
    fd: SharedFd,
    mode: u32,
    offset: u64,
    len: u64,
}

impl Fallocate {
    /// `mode` 0 allocates `offset..offset + len` and extends the file if needed.
    pub fn new(fd: &SharedFd, mode: u32, offset: u64, len: u64) -> Fallocate {
        Fallocate {
            fd: fd.clone(),
            mode,
            offset,
            len,
        }
    }
}

// SAFETY: a fallocate entry points to no memory.
unsafe impl OpCode for Fallocate {
    type Output = io::Result<()>;

    const NAME: &'static str = "fallocate";

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let entry = opcode::Fallocate::new(types::Fd(self.fd.raw()), self.len)
            .offset(self.offset)
            .mode(self.mode as i32)
            .build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        Mode::Blocking
    }

    fn call(&mut self) -> Result<usize, Errno> {
        sys_file::fallocate(self.fd.raw(), self.mode, self.offset, self.len).map(|()| 0)
    }

    fn finish(self, res: io::Result<usize>) -> io::Result<()> {
        res.map(drop)
    }
}
