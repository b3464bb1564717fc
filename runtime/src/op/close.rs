//! `Close`: close(2) of an owned descriptor, reporting what close says.
//!
//! The op owns the descriptor until it is handed to the kernel (`uring_entry`) or the pool
//! (`call`):
//! an op dropped before it was submitted closes it on drop, so it is closed exactly once
//! either way. Close can block (a network file system flushing), so it runs on the pool.

use super::{Mode, OpCode};
use crate::sys::{Errno, OwnedFd};
use io_uring::{opcode, squeue, types};
use std::io;
use std::os::fd::RawFd;

/// Closes a descriptor the op owns.
pub struct Close {
    fd: Option<OwnedFd>,
    /// The number handed to the ring, to close it here if the ring cancelled the close.
    raw: RawFd,
}

impl Close {
    /// Closes `fd` (a `SharedFd` gives it back with `into_owned` once no op holds it).
    pub fn new(fd: OwnedFd) -> Close {
        let raw = fd.raw();
        Close { fd: Some(fd), raw }
    }
}

// SAFETY: a close entry points to no memory.
unsafe impl OpCode for Close {
    type Output = io::Result<()>;

    const NAME: &'static str = "close";

    const RETRY_EINTR: bool = false;

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        // From here the ring closes it.
        let fd = self.fd.take().map_or(-1, OwnedFd::into_raw);
        let entry = opcode::Close::new(types::Fd(fd)).build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
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
            // SAFETY: the ring never ran the close, so the number is still the descriptor
            // this op took ownership of, and nothing else closes it.
            let _ = unsafe { crate::sys::fd::close_raw(self.raw) };
        }
    }

    fn finish(self, res: io::Result<usize>) -> io::Result<()> {
        res.map(drop)
    }
}
