//! `Connect`: connect(2) to an address the op owns.
//!
//! On io_uring the kernel waits for the handshake itself. On the readiness path `call` makes
//! connect(2) again on every attempt, which is how it learns the outcome without a separate
//! `SO_ERROR` read: the first attempt's `EINPROGRESS` (or `EINTR`), and `EALREADY` on a later
//! one, mean "still connecting" and come back as `EAGAIN` (wait for writability); `EISCONN`
//! on a later attempt means the handshake finished; any other errno is the outcome (e.g.
//! `ECONNREFUSED`). The re-connect is needed, not just tidy: the epoll reactor treats a newly
//! registered fd as ready both ways, so the first wake-up proves nothing.

use super::{Interest, Mode, OpCode, SharedFd};
use crate::sys::Errno;
use crate::sys::socket::{self, ConnectStatus, SockAddr};
use io_uring::{opcode, squeue, types};
use std::io;

/// Connects a socket to an address (`connect(2)`); resolves when the connection is made or refused.
pub struct Connect {
    fd: SharedFd,
    /// Boxed, so it stays put if the op moves while the kernel holds the entry.
    addr: Box<SockAddr>,
    /// A connect(2) was already made on the readiness path.
    started: bool,
}

impl Connect {
    /// Connects `fd` to `addr`.
    pub fn new(fd: &SharedFd, addr: SockAddr) -> Connect {
        Connect {
            fd: fd.clone(),
            addr: Box::new(addr),
            started: false,
        }
    }
}

// SAFETY: the address is in a box the op owns, readable for its length and unmoved if the op
// moves, for as long as the op lives.
unsafe impl OpCode for Connect {
    type Output = io::Result<()>;

    const NAME: &'static str = "connect";

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let entry = opcode::Connect::new(
            types::Fd(self.fd.raw()),
            self.addr.as_ptr().cast(),
            self.addr.len(),
        )
        .build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        Mode::Readiness {
            fd: &self.fd,
            interest: Interest::Writable,
            drained_below: None,
        }
    }

    fn call(&mut self) -> Result<usize, Errno> {
        let again = std::mem::replace(&mut self.started, true);
        // SAFETY: the address is readable for its length for the whole call.
        match unsafe { socket::connect_raw(self.fd.raw(), self.addr.as_ptr(), self.addr.len()) } {
            Ok(ConnectStatus::Connected) => Ok(0),
            Ok(ConnectStatus::InProgress) | Err(Errno::EALREADY) => Err(Errno::EAGAIN),
            Err(Errno::EISCONN) if again => Ok(0),
            Err(e) => Err(e),
        }
    }

    fn finish(self, res: io::Result<usize>) -> io::Result<()> {
        res.map(drop)
    }
}
