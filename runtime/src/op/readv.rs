//! `Readv`: readv(2) / preadv(2) into several owned buffers, each appended to.

use super::{Interest, Mode, OpCode, Position};
use crate::buf::IoBufMut;
use crate::io::BufResult;
use crate::sys::io::IoVec;
use crate::sys::{Errno, io as sys_io};
use io_uring::{opcode, squeue, types};
use std::io;
use std::os::fd::RawFd;

pub struct Readv<B> {
    fd: RawFd,
    bufs: Vec<B>,
    /// One iovec per buffer, over its spare capacity; on the heap, so its address is stable.
    iovecs: Vec<IoVec>,
    pos: Position,
    total: usize,
}

impl<B: IoBufMut> Readv<B> {
    pub fn new(fd: RawFd, mut bufs: Vec<B>, pos: Position) -> Readv<B> {
        let iovecs: Vec<IoVec> = bufs
            .iter_mut()
            .map(|b| {
                let init = b.bytes_init();
                IoVec {
                    base: b.stable_mut_ptr().wrapping_add(init),
                    len: b.bytes_total() - init,
                }
            })
            .collect();
        let total = iovecs.iter().map(|v| v.len).sum();
        Readv {
            fd,
            bufs,
            iovecs,
            pos,
            total,
        }
    }

    /// The buffers back, each with the bytes read into it counted as initialized.
    pub fn finish(mut self, res: io::Result<usize>) -> BufResult<usize, Vec<B>> {
        if let Ok(mut n) = res {
            for (b, v) in self.bufs.iter_mut().zip(&self.iovecs) {
                let got = n.min(v.len);
                let init = b.bytes_init();
                // SAFETY: the kernel filled the iovecs in order; this one got `got` bytes
                // right after the buffer's initialized ones.
                unsafe { b.set_init(init + got) };
                n -= got;
            }
        }
        (res, self.bufs)
    }
}

// SAFETY: each iovec lies in the spare capacity of a buffer the op owns; the iovec array is a
// heap Vec owned by the op; `call` only reads fd, pos and the iovec array.
unsafe impl<B: IoBufMut> OpCode for Readv<B> {
    fn sqe(&mut self) -> squeue::Entry {
        opcode::Readv::new(
            types::Fd(self.fd),
            self.iovecs.as_ptr().cast(),
            self.iovecs.len() as u32,
        )
        .offset(self.pos.uring_offset())
        .build()
    }

    fn mode(&self) -> Mode {
        self.pos.mode(self.fd, Interest::Readable, self.total)
    }

    fn call(&mut self) -> Result<usize, Errno> {
        let (iov, cnt) = (self.iovecs.as_ptr(), self.iovecs.len());
        // SAFETY: as for the trait impl.
        unsafe {
            match self.pos {
                Position::At(off) => sys_io::preadv_raw(self.fd, iov, cnt, off),
                Position::Stream | Position::Cursor => sys_io::readv_raw(self.fd, iov, cnt),
            }
        }
    }
}
