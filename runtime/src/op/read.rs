//! `Read`: read(2) / pread64(2) into an owned buffer (appending to its initialized bytes).

use super::{Interest, Mode, OpCode, Position};
use crate::buf::IoBufMut;
use crate::io::BufResult;
use crate::sys::{Errno, io as sys_io};
use io_uring::{opcode, squeue, types};
use std::io;
use std::os::fd::RawFd;

pub struct Read<B> {
    fd: RawFd,
    buf: B,
    pos: Position,
    /// Where the kernel writes and how much: computed once, when the op is made, so that a
    /// pool thread's `call` needs nothing but these numbers.
    ptr: *mut u8,
    len: usize,
}

impl<B: IoBufMut> Read<B> {
    pub fn new(fd: RawFd, mut buf: B, pos: Position) -> Read<B> {
        let init = buf.bytes_init();
        let len = buf.bytes_total() - init;
        let ptr = buf.stable_mut_ptr().wrapping_add(init);
        Read {
            fd,
            buf,
            pos,
            ptr,
            len,
        }
    }

    /// The buffer back, with the bytes read counted as initialized.
    pub fn finish(mut self, res: io::Result<usize>) -> BufResult<usize, B> {
        if let Ok(n) = res {
            let init = self.buf.bytes_init();
            // SAFETY: the kernel wrote n bytes right after the initialized ones.
            unsafe { self.buf.set_init(init + n) };
        }
        (res, self.buf)
    }
}

// SAFETY: ptr..ptr+len lies in `buf`'s spare capacity, which `buf` (owned by the op) keeps
// allocated and in place while the op lives; `call` only uses ptr, len, fd and pos.
unsafe impl<B: IoBufMut> OpCode for Read<B> {
    fn sqe(&mut self) -> squeue::Entry {
        opcode::Read::new(
            types::Fd(self.fd),
            self.ptr,
            self.len.min(u32::MAX as usize) as u32,
        )
        .offset(self.pos.uring_offset())
        .build()
    }

    fn mode(&self) -> Mode {
        self.pos.mode(self.fd, Interest::Readable, self.len)
    }

    fn call(&mut self) -> Result<usize, Errno> {
        // SAFETY: as for the trait impl: ptr is valid for len bytes of writes.
        unsafe {
            match self.pos {
                Position::At(off) => sys_io::pread_raw(self.fd, self.ptr, self.len, off),
                Position::Stream | Position::Cursor => {
                    sys_io::read_raw(self.fd, self.ptr, self.len)
                }
            }
        }
    }
}
