//! `Recv`: recv(2) into an owned buffer (appending to its initialized bytes), with flags
//! (`MSG_PEEK`, `MSG_TRUNC`, …).
//!
//! With `MSG_TRUNC` on a datagram socket the kernel reports the datagram's real length, which
//! may exceed the room given: that count is returned as the result, and the buffer holds only
//! what fit (its length never passes its capacity).

use super::{Interest, Mode, OpCode, SharedFd, no_room_error};
use crate::buf::{IoBufMut, commit_filled};
use crate::io::BufResult;
use crate::sys::{Errno, socket};
use io_uring::{opcode, squeue, types};
use std::io;

/// Receives once into the spare capacity of a buffer; resolves to the count and the buffer.
pub struct Recv<B> {
    fd: SharedFd,
    buf: B,
    flags: u32,
    ptr: *mut u8,
    len: usize,
    /// Whether a short receive proves the socket drained: true for streams only.
    drains: bool,
}

impl<B: IoBufMut> Recv<B> {
    /// Receives from `fd` into `buf`, after its initialized bytes.
    pub fn new(fd: &SharedFd, mut buf: B, flags: u32) -> Recv<B> {
        let init = buf.bytes_init();
        let len = buf.bytes_total() - init;
        let ptr = buf.stable_mut_ptr().wrapping_add(init);
        Recv {
            fd: fd.clone(),
            buf,
            flags,
            ptr,
            len,
            drains: flags & (socket::MSG_PEEK | socket::MSG_TRUNC) == 0,
        }
    }

    /// For a datagram socket: a short receive is one whole message and says nothing about
    /// what else is queued, so it must not clear readiness.
    pub fn datagram(mut self) -> Recv<B> {
        self.drains = false;
        self
    }
}

// SAFETY: ptr..ptr+len lies in `buf`'s spare capacity, which `buf` (owned by the op) keeps
// allocated and in place while the op lives; the descriptor is the op's own `SharedFd`.
unsafe impl<B: IoBufMut> OpCode for Recv<B> {
    type Output = BufResult<usize, B>;

    const NAME: &'static str = "recv";

    fn refusal(&self) -> Option<io::Error> {
        (self.len == 0).then(no_room_error)
    }

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let entry = opcode::Recv::new(
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
            interest: Interest::Readable,
            // A peek leaves the data queued: it never proves the socket drained.
            drained_below: self.drains.then_some(self.len),
        }
    }

    fn call(&mut self) -> Result<usize, Errno> {
        // SAFETY: as for the trait impl: ptr is valid for len bytes of writes.
        unsafe { socket::recv_raw(self.fd.raw(), self.ptr, self.len, self.flags) }
    }

    fn finish(mut self, res: io::Result<usize>) -> BufResult<usize, B> {
        if let Ok(n) = res {
            // SAFETY: the kernel wrote min(n, len) bytes right after the initialized ones
            // (n may be larger with MSG_TRUNC: clamped).
            unsafe { commit_filled([(&mut self.buf, self.len)], n) };
        }
        (res, self.buf)
    }
}
