//! `Close`: close(2) of an owned descriptor, reporting what close says.
//!
//! The op owns the descriptor until it is handed to the kernel (`sqe`) or the pool (`call`):
//! an op dropped before it was submitted closes it on drop, so it is closed exactly once
//! either way. Close can block (a network file system flushing), so it runs on the pool.

use super::{Mode, OpCode};
use crate::sys::{Errno, OwnedFd};
use io_uring::{opcode, squeue, types};
use std::os::fd::RawFd;

pub struct Close {
    fd: Option<OwnedFd>,
    /// The number handed to the ring, to close it here if the ring cancelled the close.
    raw: RawFd,
}

impl Close {
    /// Closes `fd`. (Types that used it with ops call `forget_fd` first; `IoFd::into_owned`
    /// does.)
    pub fn new(fd: OwnedFd) -> Close {
        let raw = fd.raw();
        Close { fd: Some(fd), raw }
    }
}

// SAFETY: a close entry points to no memory.
unsafe impl OpCode for Close {
    fn sqe(&mut self) -> squeue::Entry {
        // From here the ring closes it.
        let fd = self.fd.take().map_or(-1, OwnedFd::into_raw);
        opcode::Close::new(types::Fd(fd)).build()
    }

    fn mode(&self) -> Mode {
        Mode::Blocking
    }

    fn call(&mut self) -> Result<usize, Errno> {
        match self.fd.take() {
            Some(fd) => fd.close().map(|()| 0),
            None => Err(Errno::EBADF),
        }
    }

    fn orphaned(&mut self, res: &Result<usize, Errno>) {
        // Cancelled before the ring ran it: the descriptor is still open and still ours.
        if *res == Err(Errno::ECANCELED) && self.fd.is_none() {
            let _ = crate::sys::fd::close_raw(self.raw);
        }
    }
}
