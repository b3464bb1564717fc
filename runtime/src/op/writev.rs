//! `Writev`: writev(2) / pwritev(2) from several owned buffers. (Sockets use `SendMsg`, which
//! never raises SIGPIPE.)

use super::{Interest, Mode, OpCode, Position};
use crate::buf::IoBuf;
use crate::io::BufResult;
use crate::sys::io::IoVec;
use crate::sys::{Errno, io as sys_io};
use io_uring::{opcode, squeue, types};
use std::io;
use std::os::fd::RawFd;

pub struct Writev<B> {
    fd: RawFd,
    bufs: Vec<B>,
    iovecs: Vec<IoVec>,
    pos: Position,
    total: usize,
}

impl<B: IoBuf> Writev<B> {
    pub fn new(fd: RawFd, bufs: Vec<B>, pos: Position) -> Writev<B> {
        let iovecs: Vec<IoVec> = bufs
            .iter()
            .map(|b| IoVec {
                base: b.stable_ptr().cast_mut(),
                len: b.bytes_init(),
            })
            .collect();
        let total = iovecs.iter().map(|v| v.len).sum();
        Writev {
            fd,
            bufs,
            iovecs,
            pos,
            total,
        }
    }

    pub fn finish(self, res: io::Result<usize>) -> BufResult<usize, Vec<B>> {
        (res, self.bufs)
    }
}

// SAFETY: each iovec covers the initialized bytes of a buffer the op owns (the kernel only
// reads them); the iovec array is a heap Vec owned by the op.
unsafe impl<B: IoBuf> OpCode for Writev<B> {
    fn sqe(&mut self) -> squeue::Entry {
        opcode::Writev::new(
            types::Fd(self.fd),
            self.iovecs.as_ptr().cast(),
            self.iovecs.len() as u32,
        )
        .offset(self.pos.uring_offset())
        .build()
    }

    fn mode(&self) -> Mode {
        self.pos.mode(self.fd, Interest::Writable, self.total)
    }

    fn call(&mut self) -> Result<usize, Errno> {
        let (iov, cnt) = (self.iovecs.as_ptr(), self.iovecs.len());
        // SAFETY: as for the trait impl.
        unsafe {
            match self.pos {
                Position::At(off) => sys_io::pwritev_raw(self.fd, iov, cnt, off),
                Position::Stream | Position::Cursor => sys_io::writev_raw(self.fd, iov, cnt),
            }
        }
    }
}
