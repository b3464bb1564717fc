//! `Accept`: accept4(2) of one connection, always `SOCK_CLOEXEC | SOCK_NONBLOCK`, with the
//! peer's address written into storage the op owns.

use super::{Mode, OpCode, SharedFd};
use crate::sys::socket::{self, SOCK_CLOEXEC, SOCK_NONBLOCK, SockAddr};
use crate::sys::{Errno, OwnedFd};
use io_uring::{opcode, squeue, types};
use std::io;
use std::os::fd::RawFd;

/// Accepts one connection on a listening socket (`accept4(2)`, `SOCK_CLOEXEC | SOCK_NONBLOCK`);
/// resolves to the new socket and the peer's address.
pub struct Accept {
    fd: SharedFd,
    /// The peer's address: the kernel fills the storage and overwrites the length. Boxed, so
    /// it stays put if the op moves while the kernel holds the entry.
    addr: Box<SockAddr>,
}

impl Accept {
    /// Accepts on the listening socket `fd`.
    pub fn new(fd: &SharedFd) -> Accept {
        Accept {
            fd: fd.clone(),
            addr: Box::new(SockAddr::empty()),
        }
    }
}

// SAFETY: the address storage and its length are in a box the op owns: valid for the kernel's
// writes, and unmoved if the op moves, for as long as the op lives.
unsafe impl OpCode for Accept {
    type Output = io::Result<(OwnedFd, SockAddr)>;

    const NAME: &'static str = "accept";

    const YIELDS_FD: bool = true;

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let (addr, len) = self.addr.as_mut_parts();
        let entry = opcode::Accept::new(types::Fd(self.fd.raw()), addr.cast(), len)
            .flags((SOCK_CLOEXEC | SOCK_NONBLOCK) as i32)
            .build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        // A result (a descriptor number) never says whether the queue is empty.
        Mode::readable(&self.fd)
    }

    fn call(&mut self) -> Result<usize, Errno> {
        let (addr, len) = self.addr.as_mut_parts();
        // SAFETY: addr and len point into the op's boxed address, which outlives the call, and
        // len holds its capacity.
        let fd = unsafe { socket::accept_raw(self.fd.raw(), addr, len, 0) }?;
        Ok(fd.into_raw() as usize)
    }

    /// The new connection and its peer's address.
    fn finish(self, res: io::Result<usize>) -> Self::Output {
        let fd = res? as RawFd;
        // SAFETY: a successful accept returns a new descriptor that only this op's owner holds.
        let fd = unsafe { OwnedFd::from_raw(fd) };
        Ok((fd, *self.addr))
    }
}

/// Accepts connections on a listening socket, many per submission (`IORING_ACCEPT_MULTISHOT`,
/// io_uring only: the reactor runs it as a multishot op), always
/// `SOCK_CLOEXEC | SOCK_NONBLOCK`. Each result is a new descriptor, without the peer's address
/// (the kernel has nowhere to write one per connection: ask `getpeername`). Results that come
/// after its owner let go are closed.
#[derive(Debug)]
pub struct AcceptMulti {
    fd: SharedFd,
}

impl AcceptMulti {
    /// Accepts on the listening socket `fd`.
    pub fn new(fd: &SharedFd) -> AcceptMulti {
        AcceptMulti { fd: fd.clone() }
    }
}

// SAFETY: the entry points to no memory; the descriptor is the op's own `SharedFd`.
unsafe impl OpCode for AcceptMulti {
    type Output = ();

    const NAME: &'static str = "accept_multi";

    const YIELDS_FD: bool = true;

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let entry = opcode::AcceptMulti::new(types::Fd(self.fd.raw()))
            .flags((SOCK_CLOEXEC | SOCK_NONBLOCK) as i32)
            .build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        Mode::readable(&self.fd)
    }

    fn call(&mut self) -> Result<usize, Errno> {
        // Multishot ops run on io_uring only (`Multishot` refuses any other core).
        Err(Errno::EOPNOTSUPP)
    }

    fn finish(self, _: io::Result<usize>) {}
}
