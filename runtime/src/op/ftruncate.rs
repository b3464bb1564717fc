//! `Ftruncate`: ftruncate(2).
//!
//! io_uring has `IORING_OP_FTRUNCATE` only since Linux 6.9, and coreloop runs on older
//! kernels; truncation is rare and quick, so rather than probing for it this op runs on the
//! blocking pool under both reactors (its [`OpCode::uring_entry`] is `None`).

use super::{Mode, OpCode, SharedFd};
use crate::sys::{Errno, file as sys_file};
use io_uring::squeue;
use std::io;

/// Sets a file's size (`ftruncate(2)`); runs on the blocking pool on both reactors.
pub struct Ftruncate {
    fd: SharedFd,
    len: u64,
}

impl Ftruncate {
    /// Sets the file's size to `len`: cuts it, or extends it with zeros.
    pub fn new(fd: &SharedFd, len: u64) -> Ftruncate {
        Ftruncate {
            fd: fd.clone(),
            len,
        }
    }
}

// SAFETY: no entry is ever made (see the module docs); `call` uses only integers.
unsafe impl OpCode for Ftruncate {
    type Output = io::Result<()>;

    const NAME: &'static str = "ftruncate";

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        None
    }

    fn mode(&self) -> Mode<'_> {
        Mode::Blocking
    }

    fn call(&mut self) -> Result<usize, Errno> {
        sys_file::ftruncate(self.fd.raw(), self.len).map(|()| 0)
    }

    fn finish(self, res: io::Result<usize>) -> io::Result<()> {
        res.map(drop)
    }
}
