//! `ReadLinkAt`: readlinkat(2) of an owned path into an owned buffer. io_uring has no such
//! opcode: it runs on the blocking pool on both reactors.

use super::{DirFd, Mode, OpCode, no_room_error};
use crate::sys::{Errno, link as sys_link};
use io_uring::squeue;
use std::ffi::CString;
use std::io;

/// Reads a symbolic link's content into the spare capacity of a buffer; resolves to its
/// length and the buffer. A length equal to the room given may mean the content was cut.
pub struct ReadLinkAt {
    dirfd: DirFd,
    path: CString,
    buf: Vec<u8>,
    /// Where the kernel writes and how much, computed once so `call` needs only numbers.
    ptr: *mut u8,
    len: usize,
}

impl ReadLinkAt {
    /// Reads the link `path` (relative to `dirfd`) into `buf`'s spare capacity.
    pub fn new(dirfd: DirFd, path: CString, mut buf: Vec<u8>) -> ReadLinkAt {
        let init = buf.len();
        let len = buf.capacity() - init;
        let ptr = buf.as_mut_ptr().wrapping_add(init);
        ReadLinkAt {
            dirfd,
            path,
            buf,
            ptr,
            len,
        }
    }

    /// How much room the kernel was given.
    pub fn room(&self) -> usize {
        self.len
    }
}

// SAFETY: no ring entry; the path is a heap CString and ptr..ptr+len the spare capacity of
// `buf`, both owned by the op and kept in place while it lives; the dirfd is the op's own.
unsafe impl OpCode for ReadLinkAt {
    type Output = (io::Result<usize>, Vec<u8>);

    const NAME: &'static str = "readlink";

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
        // SAFETY: as for the trait impl: the path is NUL-terminated, ptr valid for len bytes.
        unsafe {
            sys_link::readlinkat_raw(
                self.dirfd.raw(),
                self.path.as_ptr().cast(),
                self.ptr,
                self.len,
            )
        }
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
