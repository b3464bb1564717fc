//! `Shutdown`: shutdown(2) of one or both directions of a socket. It never blocks, so the
//! readiness path makes it at once.

use super::{Mode, OpCode};
use crate::sys::{Errno, socket};
use io_uring::{opcode, squeue, types};
use std::os::fd::RawFd;

pub struct Shutdown {
    fd: RawFd,
    how: u32,
}

impl Shutdown {
    /// `how` is `SHUT_RD`, `SHUT_WR` or `SHUT_RDWR`.
    pub fn new(fd: RawFd, how: u32) -> Shutdown {
        Shutdown { fd, how }
    }
}

// SAFETY: a SHUTDOWN entry points to no memory.
unsafe impl OpCode for Shutdown {
    fn sqe(&mut self) -> squeue::Entry {
        opcode::Shutdown::new(types::Fd(self.fd), self.how as i32).build()
    }

    fn mode(&self) -> Mode {
        Mode::Now
    }

    fn call(&mut self) -> Result<usize, Errno> {
        socket::shutdown(self.fd, self.how).map(|()| 0)
    }
}
