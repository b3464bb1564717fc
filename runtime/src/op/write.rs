//! `Write`: write(2) / pwrite64(2) from an owned buffer. (Sockets use `Send`, which never
//! raises SIGPIPE.)

use super::{Interest, Mode, OpCode, Position, SharedFd};
use crate::buf::IoBuf;
use crate::io::BufResult;
use crate::sys::{Errno, io as sys_io};
use io_uring::{opcode, squeue, types};
use std::io;

/// Writes once from a buffer's initialized bytes (`write(2)` / `pwrite64(2)`); resolves to the
/// count written and the buffer. Short writes are returned as they are.
pub struct Write<B> {
    fd: SharedFd,
    buf: B,
    pos: Position,
    ptr: *const u8,
    len: usize,
}

impl<B: IoBuf> Write<B> {
    /// Writes `buf`'s initialized bytes to `fd` at `pos`.
    pub fn new(fd: &SharedFd, buf: B, pos: Position) -> Write<B> {
        let ptr = buf.stable_ptr();
        let len = buf.bytes_init();
        Write {
            fd: fd.clone(),
            buf,
            pos,
            ptr,
            len,
        }
    }
}

// SAFETY: ptr..ptr+len are `buf`'s initialized bytes, kept in place by `buf` (owned by the op)
// while the op lives; `call` only uses ptr, len, fd and pos.
unsafe impl<B: IoBuf> OpCode for Write<B> {
    type Output = BufResult<usize, B>;

    const NAME: &'static str = "write";

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let entry = opcode::Write::new(
            types::Fd(self.fd.raw()),
            self.ptr,
            self.len.min(u32::MAX as usize) as u32,
        )
        .offset(self.pos.uring_offset())
        .build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        self.pos.mode(&self.fd, Interest::Writable, self.len)
    }

    fn call(&mut self) -> Result<usize, Errno> {
        // SAFETY: as for the trait impl: ptr is valid for len bytes of reads.
        unsafe {
            match self.pos {
                Position::At(off) => sys_io::pwrite_raw(self.fd.raw(), self.ptr, self.len, off),
                Position::Stream | Position::Cursor => {
                    sys_io::write_raw(self.fd.raw(), self.ptr, self.len)
                }
            }
        }
    }

    fn finish(self, res: io::Result<usize>) -> Self::Output {
        (res, self.buf)
    }
}
