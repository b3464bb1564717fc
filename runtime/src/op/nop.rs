//! `Nop`: an op that does nothing — the cost of a round trip through the reactor.

use super::{Mode, OpCode};
use crate::sys::Errno;
use io_uring::{opcode, squeue};
use std::io;

/// Does nothing: measures one round trip through the reactor (`IORING_OP_NOP`; resolves at once on
/// epoll).
pub struct Nop;

// SAFETY: a NOP entry points to no memory.
unsafe impl OpCode for Nop {
    type Output = io::Result<()>;

    const NAME: &'static str = "nop";

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let entry = opcode::Nop::new().build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        Mode::Now
    }

    fn call(&mut self) -> Result<usize, Errno> {
        Ok(0)
    }

    fn finish(self, res: io::Result<usize>) -> io::Result<()> {
        res.map(drop)
    }
}
