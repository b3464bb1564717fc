//! `Nop`: an op that does nothing — the cost of a round trip through the reactor.

use super::{Mode, OpCode};
use crate::sys::Errno;
use io_uring::{opcode, squeue};

pub struct Nop;

// SAFETY: a NOP entry points to no memory.
unsafe impl OpCode for Nop {
    fn sqe(&mut self) -> squeue::Entry {
        opcode::Nop::new().build()
    }

    fn mode(&self) -> Mode {
        Mode::Now
    }

    fn call(&mut self) -> Result<usize, Errno> {
        Ok(0)
    }
}
