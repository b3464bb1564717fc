//! `Shutdown`: shutdown(2) of one or both directions of a socket. It never blocks, so the
//! readiness path makes it at once.

use super::{Mode, OpCode, SharedFd};
use crate::sys::{Errno, socket};
use io_uring::{opcode, squeue, types};
use std::io;

/// Shuts down one or both directions of a socket (`shutdown(2)`).
pub struct Shutdown {
    fd: SharedFd,
    how: u32,
}

impl Shutdown {
    /// `how` is `SHUT_RD`, `SHUT_WR` or `SHUT_RDWR`.
    pub fn new(fd: &SharedFd, how: u32) -> Shutdown {
        Shutdown {
            fd: fd.clone(),
            how,
        }
    }
}

// SAFETY: a SHUTDOWN entry points to no memory.
unsafe impl OpCode for Shutdown {
    type Output = io::Result<()>;

    const NAME: &'static str = "shutdown";

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let entry = opcode::Shutdown::new(types::Fd(self.fd.raw()), self.how as i32).build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        Mode::Now
    }

    fn call(&mut self) -> Result<usize, Errno> {
        socket::shutdown(self.fd.raw(), self.how).map(|()| 0)
    }

    fn finish(self, res: io::Result<usize>) -> io::Result<()> {
        res.map(drop)
    }
}
