//! `Send`: send(2) from an owned buffer, always with `MSG_NOSIGNAL`: a peer that went away is
//! `EPIPE`, never a `SIGPIPE`.

use super::{Interest, Mode, OpCode};
use crate::buf::IoBuf;
use crate::io::BufResult;
use crate::sys::{Errno, socket};
use io_uring::{opcode, squeue, types};
use std::io;
use std::os::fd::RawFd;

pub struct Send<B> {
    fd: RawFd,
    buf: B,
    flags: u32,
    ptr: *const u8,
    len: usize,
}

impl<B: IoBuf> Send<B> {
    pub fn new(fd: RawFd, buf: B, flags: u32) -> Send<B> {
        let ptr = buf.stable_ptr();
        let len = buf.bytes_init();
        Send {
            fd,
            buf,
            flags: flags | socket::MSG_NOSIGNAL,
            ptr,
            len,
        }
    }

    pub fn finish(self, res: io::Result<usize>) -> BufResult<usize, B> {
        (res, self.buf)
    }
}

// SAFETY: ptr..ptr+len are `buf`'s initialized bytes, kept in place by `buf` (owned by the op)
// while the op lives.
unsafe impl<B: IoBuf> OpCode for Send<B> {
    fn sqe(&mut self) -> squeue::Entry {
        opcode::Send::new(
            types::Fd(self.fd),
            self.ptr,
            self.len.min(u32::MAX as usize) as u32,
        )
        .flags(self.flags as i32)
        .build()
    }

    fn mode(&self) -> Mode {
        Mode::Readiness {
            fd: self.fd,
            interest: Interest::Writable,
            full: self.len,
        }
    }

    fn call(&mut self) -> Result<usize, Errno> {
        // SAFETY: as for the trait impl: ptr is valid for len bytes of reads.
        unsafe { socket::send_raw(self.fd, self.ptr, self.len, self.flags) }
    }
}
