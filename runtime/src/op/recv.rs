//! `Recv`: recv(2) into an owned buffer (appending to its initialized bytes), with flags
//! (`MSG_PEEK`, …).

use super::{Interest, Mode, OpCode};
use crate::buf::IoBufMut;
use crate::io::BufResult;
use crate::sys::{Errno, socket};
use io_uring::{opcode, squeue, types};
use std::io;
use std::os::fd::RawFd;

pub struct Recv<B> {
    fd: RawFd,
    buf: B,
    flags: u32,
    ptr: *mut u8,
    len: usize,
    /// Whether a short receive proves the socket drained: true for streams only.
    drains: bool,
}

impl<B: IoBufMut> Recv<B> {
    pub fn new(fd: RawFd, mut buf: B, flags: u32) -> Recv<B> {
        let init = buf.bytes_init();
        let len = buf.bytes_total() - init;
        let ptr = buf.stable_mut_ptr().wrapping_add(init);
        Recv {
            fd,
            buf,
            flags,
            ptr,
            len,
            drains: flags & socket::MSG_PEEK == 0,
        }
    }

    /// For a datagram socket: a short receive is one whole message and says nothing about
    /// what else is queued, so it must not clear readiness.
    pub fn datagram(mut self) -> Recv<B> {
        self.drains = false;
        self
    }

    /// The buffer back, with the bytes received counted as initialized.
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
// allocated and in place while the op lives.
unsafe impl<B: IoBufMut> OpCode for Recv<B> {
    fn sqe(&mut self) -> squeue::Entry {
        opcode::Recv::new(
            types::Fd(self.fd),
            self.ptr,
            self.len.min(u32::MAX as usize) as u32,
        )
        .flags(self.flags as i32)
        .build()
    }

    fn mode(&self) -> Mode {
        // A peek leaves the data queued: it never proves the socket drained.
        let full = if self.drains { self.len } else { 0 };
        Mode::Readiness {
            fd: self.fd,
            interest: Interest::Readable,
            full,
        }
    }

    fn call(&mut self) -> Result<usize, Errno> {
        // SAFETY: as for the trait impl: ptr is valid for len bytes of writes.
        unsafe { socket::recv_raw(self.fd, self.ptr, self.len, self.flags) }
    }
}
