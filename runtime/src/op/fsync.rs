//! `Fsync`: fsync(2), or fdatasync(2) when only the data (and the size) must be durable.

use super::{Mode, OpCode, SharedFd};
use crate::sys::{Errno, file as sys_file};
use io_uring::{opcode, squeue, types};
use std::io;

/// Flushes a file's data, and unless `datasync` its metadata, to storage (`fsync(2)` /
/// `fdatasync(2)`).
pub struct Fsync {
    fd: SharedFd,
    datasync: bool,
}

impl Fsync {
    /// fsync(2): data and metadata.
    pub fn all(fd: &SharedFd) -> Fsync {
        Fsync {
            fd: fd.clone(),
            datasync: false,
        }
    }

    /// fdatasync(2): data, and the metadata needed to read it back.
    pub fn data(fd: &SharedFd) -> Fsync {
        Fsync {
            fd: fd.clone(),
            datasync: true,
        }
    }
}

// SAFETY: an fsync entry points to no memory.
unsafe impl OpCode for Fsync {
    type Output = io::Result<()>;

    const NAME: &'static str = "fsync";

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let flags = if self.datasync {
            types::FsyncFlags::DATASYNC
        } else {
            types::FsyncFlags::empty()
        };
        let entry = opcode::Fsync::new(types::Fd(self.fd.raw()))
            .flags(flags)
            .build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        Mode::Blocking
    }

    fn call(&mut self) -> Result<usize, Errno> {
        let res = if self.datasync {
            sys_file::fdatasync(self.fd.raw())
        } else {
            sys_file::fsync(self.fd.raw())
        };
        res.map(|()| 0)
    }

    fn finish(self, res: io::Result<usize>) -> io::Result<()> {
        res.map(drop)
    }
}
