//! `Fsync`: fsync(2), or fdatasync(2) when only the data (and the size) must be durable.

use super::{Mode, OpCode};
use crate::sys::{Errno, file as sys_file};
use io_uring::{opcode, squeue, types};
use std::os::fd::RawFd;

pub struct Fsync {
    fd: RawFd,
    datasync: bool,
}

impl Fsync {
    /// fsync(2): data and metadata.
    pub fn all(fd: RawFd) -> Fsync {
        Fsync {
            fd,
            datasync: false,
        }
    }

    /// fdatasync(2): data, and the metadata needed to read it back.
    pub fn data(fd: RawFd) -> Fsync {
        Fsync { fd, datasync: true }
    }
}

// SAFETY: an fsync entry points to no memory.
unsafe impl OpCode for Fsync {
    fn sqe(&mut self) -> squeue::Entry {
        let flags = if self.datasync {
            types::FsyncFlags::DATASYNC
        } else {
            types::FsyncFlags::empty()
        };
        opcode::Fsync::new(types::Fd(self.fd)).flags(flags).build()
    }

    fn mode(&self) -> Mode {
        Mode::Blocking
    }

    fn call(&mut self) -> Result<usize, Errno> {
        let res = if self.datasync {
            sys_file::fdatasync(self.fd)
        } else {
            sys_file::fsync(self.fd)
        };
        res.map(|()| 0)
    }
}
