//! `Getdents`: getdents64(2) of a directory into an owned buffer. io_uring has no such
//! opcode: it runs on the blocking pool on both reactors.

use super::{Mode, OpCode, SharedFd, no_room_error};
use crate::sys::{Errno, dir as sys_dir};
use io_uring::squeue;
use std::io;

/// Reads the next directory records into the spare capacity of a buffer; resolves to the
/// count (0: the end of the directory) and the buffer. Parse them with
/// [`sys::dir::entries`](crate::sys::dir::entries).
pub struct Getdents {
    fd: SharedFd,
    buf: Vec<u8>,
    /// Where the kernel writes and how much, computed once so `call` needs only numbers.
    ptr: *mut u8,
    len: usize,
}

impl Getdents {
    /// Reads records of the directory `fd` (opened with `O_DIRECTORY`) into `buf`'s spare
    /// capacity (a few KiB holds dozens of records).
    pub fn new(fd: &SharedFd, mut buf: Vec<u8>) -> Getdents {
        let init = buf.len();
        let len = buf.capacity() - init;
        let ptr = buf.as_mut_ptr().wrapping_add(init);
        Getdents {
            fd: fd.clone(),
            buf,
            ptr,
            len,
        }
    }
}

// SAFETY: no ring entry; ptr..ptr+len is the spare capacity of `buf`, owned by the op and
// kept in place while it lives; `call` uses only ptr, len and the number of the op's own fd.
unsafe impl OpCode for Getdents {
    type Output = (io::Result<usize>, Vec<u8>);

    const NAME: &'static str = "getdents";

    fn refusal(&self) -> Option<io::Error> {
        (self.len == 0).then(no_room_error)
    }

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        None
    }

    fn mode(&self) -> Mode<'_> {
        Mode::Blocking
    }

    fn call(&mut self) -> Result<usize, Errno> {
        // SAFETY: as for the trait impl: ptr is valid for len bytes of writes.
        unsafe { sys_dir::getdents64_raw(self.fd.raw(), self.ptr, self.len) }
    }

    fn finish(mut self, res: io::Result<usize>) -> (io::Result<usize>, Vec<u8>) {
        if let Ok(n) = res {
            let init = self.buf.len();
            // SAFETY: the kernel wrote n <= len bytes right after the initialized ones.
            unsafe { self.buf.set_len(init + n.min(self.len)) };
        }
        (res, self.buf)
    }
}
