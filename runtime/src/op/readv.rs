//! `Readv`: readv(2) / preadv(2) into several owned buffers, each appended to.

use super::{Interest, Mode, OpCode, Position, SharedFd, no_room_error};
use crate::buf::{IoBufMut, commit_filled};
use crate::io::BufResult;
use crate::sys::io::IoVec;
use crate::sys::{Errno, io as sys_io};
use io_uring::{opcode, squeue, types};
use std::io;

/// Reads once into the spare capacity of several buffers, in order.
pub struct Readv<B> {
    fd: SharedFd,
    bufs: Vec<B>,
    /// One iovec per buffer, over its spare capacity; on the heap, so its address is stable.
    iovecs: Vec<IoVec>,
    pos: Position,
    total: usize,
}

impl<B: IoBufMut> Readv<B> {
    /// Reads from `fd` at `pos` into `bufs`, each after its initialized bytes.
    pub fn new(fd: &SharedFd, mut bufs: Vec<B>, pos: Position) -> Readv<B> {
        let iovecs: Vec<IoVec> = bufs.iter_mut().map(|b| spare_iovec(b)).collect();
        let total = iovecs.iter().map(|v| v.len).sum();
        Readv {
            fd: fd.clone(),
            bufs,
            iovecs,
            pos,
            total,
        }
    }
}

/// The iovec over a buffer's spare capacity.
pub(crate) fn spare_iovec<B: IoBufMut>(b: &mut B) -> IoVec {
    let init = b.bytes_init();
    IoVec {
        base: b.stable_mut_ptr().wrapping_add(init),
        len: b.bytes_total() - init,
    }
}

// SAFETY: each iovec lies in the spare capacity of a buffer the op owns; the iovec array is a
// heap Vec owned by the op; the descriptor is the op's own `SharedFd`; `call` only reads the
// fd's number, pos and the iovec array.
unsafe impl<B: IoBufMut> OpCode for Readv<B> {
    type Output = BufResult<usize, Vec<B>>;

    const NAME: &'static str = "readv";

    fn refusal(&self) -> Option<io::Error> {
        (self.total == 0).then(no_room_error)
    }

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let entry = opcode::Readv::new(
            types::Fd(self.fd.raw()),
            self.iovecs.as_ptr().cast(),
            self.iovecs.len() as u32,
        )
        .offset(self.pos.uring_offset())
        .build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        self.pos.mode(&self.fd, Interest::Readable, self.total)
    }

    fn call(&mut self) -> Result<usize, Errno> {
        let (fd, iov, cnt) = (self.fd.raw(), self.iovecs.as_ptr(), self.iovecs.len());
        // SAFETY: as for the trait impl.
        unsafe {
            match self.pos {
                Position::At(off) => sys_io::preadv_raw(fd, iov, cnt, off),
                Position::Stream | Position::Cursor => sys_io::readv_raw(fd, iov, cnt),
            }
        }
    }

    fn finish(mut self, res: io::Result<usize>) -> BufResult<usize, Vec<B>> {
        if let Ok(n) = res {
            let rooms = self.iovecs.iter().map(|v| v.len);
            // SAFETY: the kernel filled the iovecs in order, each right after its buffer's
            // initialized bytes.
            unsafe { commit_filled(self.bufs.iter_mut().zip(rooms), n) };
        }
        (res, self.bufs)
    }
}
