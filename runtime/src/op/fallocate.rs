//! `Fallocate`: fallocate(2): reserve (or, with `FALLOC_FL_*`, punch or zero) a range.

use super::{Mode, OpCode};
use crate::sys::{Errno, file as sys_file};
use io_uring::{opcode, squeue, types};
use std::os::fd::RawFd;

pub struct Fallocate {
    fd: RawFd,
    mode: u32,
    offset: u64,
    len: u64,
}

impl Fallocate {
    /// `mode` 0 allocates `offset..offset + len` and extends the file if needed.
    pub fn new(fd: RawFd, mode: u32, offset: u64, len: u64) -> Fallocate {
        Fallocate {
            fd,
            mode,
            offset,
            len,
        }
    }
}

// SAFETY: a fallocate entry points to no memory.
unsafe impl OpCode for Fallocate {
    fn sqe(&mut self) -> squeue::Entry {
        opcode::Fallocate::new(types::Fd(self.fd), self.len)
            .offset(self.offset)
            .mode(self.mode as i32)
            .build()
    }

    fn mode(&self) -> Mode {
        Mode::Blocking
    }

    fn call(&mut self) -> Result<usize, Errno> {
        sys_file::fallocate(self.fd, self.mode, self.offset, self.len).map(|()| 0)
    }
}
