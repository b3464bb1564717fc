//! `Send`: send(2) from an owned buffer, always with `MSG_NOSIGNAL`: a peer that went away is
//! `EPIPE`, never a `SIGPIPE`.

use super::{Interest, Mode, OpCode, SharedFd};
use crate::buf::IoBuf;
use crate::io::BufResult;
use crate::sys::{Errno, socket};
use io_uring::{opcode, squeue, types};
use std::io;

/// Sends once from a buffer's initialized bytes on a socket (`send(2)` with `MSG_NOSIGNAL`);
/// resolves to the count sent and the buffer.
pub struct Send<B> {
    fd: SharedFd,
    buf: B,
    flags: u32,
    ptr: *const u8,
    len: usize,
}

impl<B: IoBuf> Send<B> {
    /// Sends `buf`'s initialized bytes on `fd`; `flags` are `MSG_*` (`MSG_NOSIGNAL` is always
    /// added).
    pub fn new(fd: &SharedFd, buf: B, flags: u32) -> Send<B> {
        let ptr = buf.stable_ptr();
        let len = buf.bytes_init();
        Send {
            fd: fd.clone(),
            buf,
            flags: flags | socket::MSG_NOSIGNAL,
            ptr,
            len,
        }
    }
}

// SAFETY: ptr..ptr+len are `buf`'s initialized bytes, kept in place by `buf` (owned by the op)
// while the op lives.
unsafe impl<B: IoBuf> OpCode for Send<B> {
    type Output = BufResult<usize, B>;

    const NAME: &'static str = "send";

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let entry = opcode::Send::new(
            types::Fd(self.fd.raw()),
            self.ptr,
            self.len.min(u32::MAX as usize) as u32,
        )
        .flags(self.flags as i32)
        .build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        Mode::Readiness {
            fd: &self.fd,
            interest: Interest::Writable,
            drained_below: Some(self.len),
        }
    }

    fn call(&mut self) -> Result<usize, Errno> {
        // SAFETY: as for the trait impl: ptr is valid for len bytes of reads.
        unsafe { socket::send_raw(self.fd.raw(), self.ptr, self.len, self.flags) }
    }

    fn finish(self, res: io::Result<usize>) -> Self::Output {
        (res, self.buf)
    }
}
