//! `Read`: read(2) / pread64(2) into an owned buffer (appending to its initialized bytes).

use super::{Interest, Mode, OpCode, Position, SharedFd, no_room_error};
use crate::buf::{IoBufMut, commit_filled};
use crate::io::BufResult;
use crate::sys::{Errno, io as sys_io};
use io_uring::{opcode, squeue, types};
use std::io;

/// Reads once into the spare capacity of a buffer; resolves to the count and the buffer.
pub struct Read<B> {
    fd: SharedFd,
    buf: B,
    pos: Position,
    /// Where the kernel writes and how much: computed once, when the op is made, so that a
    /// pool thread's `call` needs nothing but these numbers.
    ptr: *mut u8,
    len: usize,
}

impl<B: IoBufMut> Read<B> {
    /// Reads from `fd` at `pos` into `buf`, after its initialized bytes.
    pub fn new(fd: &SharedFd, mut buf: B, pos: Position) -> Read<B> {
        let init = buf.bytes_init();
        let len = buf.bytes_total() - init;
        let ptr = buf.stable_mut_ptr().wrapping_add(init);
        Read {
            fd: fd.clone(),
            buf,
            pos,
            ptr,
            len,
        }
    }
}

// SAFETY: ptr..ptr+len lies in `buf`'s spare capacity, which `buf` (owned by the op) keeps
// allocated and in place while the op lives; the descriptor is the op's own `SharedFd`;
// `call` only uses ptr, len, the fd's number and pos.
unsafe impl<B: IoBufMut> OpCode for Read<B> {
    type Output = BufResult<usize, B>;

    const NAME: &'static str = "read";

    fn refusal(&self) -> Option<io::Error> {
        (self.len == 0).then(no_room_error)
    }

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let entry = opcode::Read::new(
            types::Fd(self.fd.raw()),
            self.ptr,
            self.len.min(u32::MAX as usize) as u32,
        )
        .offset(self.pos.uring_offset())
        .build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        self.pos.mode(&self.fd, Interest::Readable, self.len)
    }

    fn call(&mut self) -> Result<usize, Errno> {
        let fd = self.fd.raw();
        // SAFETY: as for the trait impl: ptr is valid for len bytes of writes.
        unsafe {
            match self.pos {
                Position::At(off) => sys_io::pread_raw(fd, self.ptr, self.len, off),
                Position::Stream | Position::Cursor => sys_io::read_raw(fd, self.ptr, self.len),
            }
        }
    }

    fn finish(mut self, res: io::Result<usize>) -> BufResult<usize, B> {
        if let Ok(n) = res {
            // SAFETY: the kernel wrote n bytes (clamped to len) right after the initialized ones.
            unsafe { commit_filled([(&mut self.buf, self.len)], n) };
        }
        (res, self.buf)
    }
}
