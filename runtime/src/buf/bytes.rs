//! `bytes::Bytes` and `bytes::BytesMut` as owned buffers (feature `bytes`).
//!
//! Both keep their data on the heap (or in `'static` memory for `Bytes::from_static`), and
//! moving the handle does not move the data, which is what the kernel needs while an op is in
//! flight. `Bytes` is read-only: it can be written from, not read into. `BytesMut` is both; a
//! read appends after its length, up to its capacity.

use super::{IoBuf, IoBufMut};
use bytes::{Bytes, BytesMut};

// SAFETY: a Bytes handle points at heap or 'static memory that does not move with the handle
// and is not freed while the handle lives; all `len` bytes are initialized.
unsafe impl IoBuf for Bytes {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
    fn bytes_total(&self) -> usize {
        self.len()
    }
}

// SAFETY: a BytesMut's buffer is on the heap and stays where it is when the handle moves (only
// its own reserve/split methods reallocate); `len` bytes are initialized, `capacity` allocated.
unsafe impl IoBuf for BytesMut {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
    fn bytes_total(&self) -> usize {
        self.capacity()
    }
}

// SAFETY: as for IoBuf; the spare capacity belongs to this handle alone (BytesMut is unique)
// and is writable.
unsafe impl IoBufMut for BytesMut {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.as_mut_ptr()
    }
    unsafe fn set_init(&mut self, pos: usize) {
        if self.len() < pos {
            // SAFETY: the caller promises the first `pos` bytes are initialized; pos <= capacity.
            unsafe { self.set_len(pos) };
        }
    }
}
