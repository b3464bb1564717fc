//! `Ftruncate`: ftruncate(2).
//!
//! io_uring has `IORING_OP_FTRUNCATE` only since Linux 6.9, and coreloop runs on older
//! kernels; truncation is rare and quick, so rather than probing for it this op runs on the
//! blocking pool under both reactors (see [`OpCode::uring_supported`]).

use super::{Mode, OpCode};
use crate::sys::{Errno, file as sys_file};
use io_uring::{opcode, squeue, types};
use std::os::fd::RawFd;

pub struct Ftruncate {
    fd: RawFd,
    len: u64,
}

impl Ftruncate {
    /// Sets the file's size to `len`: cuts it, or extends it with zeros.
    pub fn new(fd: RawFd, len: u64) -> Ftruncate {
        Ftruncate { fd, len }
    }
}

// SAFETY: an ftruncate entry points to no memory (and is never submitted: see the module docs).
unsafe impl OpCode for Ftruncate {
    fn sqe(&mut self) -> squeue::Entry {
        opcode::Ftruncate::new(types::Fd(self.fd), self.len).build()
    }

    fn uring_supported(&self) -> bool {
        false
    }

    fn mode(&self) -> Mode {
        Mode::Blocking
    }

    fn call(&mut self) -> Result<usize, Errno> {
        sys_file::ftruncate(self.fd, self.len).map(|()| 0)
    }
}
