//! `Writev`: writev(2) / pwritev(2) from several owned buffers. (Sockets use `SendMsg`, which
//! never raises SIGPIPE.)

use super::{Interest, Mode, OpCode, Position, SharedFd};
use crate::buf::IoBuf;
use crate::io::BufResult;
use crate::sys::io::IoVec;
use crate::sys::{Errno, io as sys_io};
use io_uring::{opcode, squeue, types};
use std::io;

/// Writes once from several buffers, in order (`writev(2)` / `pwritev(2)`); resolves to the count
/// written and the buffers.
pub struct Writev<B> {
    fd: SharedFd,
    bufs: Vec<B>,
    iovecs: Vec<IoVec>,
    pos: Position,
    total: usize,
}

impl<B: IoBuf> Writev<B> {
    /// Writes the initialized bytes of `bufs`, in order, to `fd` at `pos`.
    pub fn new(fd: &SharedFd, bufs: Vec<B>, pos: Position) -> Writev<B> {
        let iovecs: Vec<IoVec> = bufs
            .iter()
            .map(|b| IoVec {
                base: b.stable_ptr().cast_mut(),
                len: b.bytes_init(),
            })
            .collect();
        let total = iovecs.iter().map(|v| v.len).sum();
        Writev {
            fd: fd.clone(),
            bufs,
            iovecs,
            pos,
            total,
        }
    }
}

// SAFETY: each iovec covers the initialized bytes of a buffer the op owns (the kernel only
// reads them); the iovec array is a heap Vec owned by the op.
unsafe impl<B: IoBuf> OpCode for Writev<B> {
    type Output = BufResult<usize, Vec<B>>;

    const NAME: &'static str = "writev";

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let entry = opcode::Writev::new(
            types::Fd(self.fd.raw()),
            self.iovecs.as_ptr().cast(),
            self.iovecs.len() as u32,
        )
        .offset(self.pos.uring_offset())
        .build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        self.pos.mode(&self.fd, Interest::Writable, self.total)
    }

    fn call(&mut self) -> Result<usize, Errno> {
        let (iov, cnt) = (self.iovecs.as_ptr(), self.iovecs.len());
        // SAFETY: as for the trait impl.
        unsafe {
            match self.pos {
                Position::At(off) => sys_io::pwritev_raw(self.fd.raw(), iov, cnt, off),
                Position::Stream | Position::Cursor => sys_io::writev_raw(self.fd.raw(), iov, cnt),
            }
        }
    }

    fn finish(self, res: io::Result<usize>) -> Self::Output {
        (res, self.bufs)
    }
}
