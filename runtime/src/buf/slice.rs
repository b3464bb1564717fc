//! `Slice<T>`: a range of a buffer, itself a buffer.

use super::{IoBuf, IoBufMut};

/// The bytes `begin..end` of a buffer. Writes send the initialized part of the range; reads
/// fill the range from `begin`.
pub struct Slice<T> {
    buf: T,
    begin: usize,
    end: usize,
}

impl<T: IoBuf> Slice<T> {
    pub(crate) fn new(buf: T, begin: usize, end: usize) -> Slice<T> {
        Slice { buf, begin, end }
    }

    /// Offset of the view's first byte in the underlying buffer.
    pub fn begin(&self) -> usize {
        self.begin
    }

    /// Offset one past the view's last byte in the underlying buffer.
    pub fn end(&self) -> usize {
        self.end
    }

    /// The whole underlying buffer, not only the view.
    pub fn get_ref(&self) -> &T {
        &self.buf
    }

    /// The whole underlying buffer, mutably; the view's bounds do not change.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.buf
    }

    /// The whole buffer back.
    pub fn into_inner(self) -> T {
        self.buf
    }
}

// SAFETY: the range lies inside the inner buffer (checked at construction), whose pointer is
// stable; begin is added to it.
unsafe impl<T: IoBuf> IoBuf for Slice<T> {
    fn stable_ptr(&self) -> *const u8 {
        self.buf.stable_ptr().wrapping_add(self.begin)
    }
    fn bytes_init(&self) -> usize {
        self.buf.bytes_init().clamp(self.begin, self.end) - self.begin
    }
    fn bytes_total(&self) -> usize {
        self.end - self.begin
    }
}

// SAFETY: as for IoBuf; the inner buffer is writable over the range.
unsafe impl<T: IoBufMut> IoBufMut for Slice<T> {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.buf.stable_mut_ptr().wrapping_add(self.begin)
    }
    unsafe fn set_init(&mut self, pos: usize) {
        // Only when the inner buffer is initialized up to `begin` can the filled range extend
        // it; otherwise the gap before `begin` would be claimed as initialized.
        if self.buf.bytes_init() >= self.begin {
            // SAFETY: bytes ..begin were initialized already and the caller initialized
            // begin..begin+pos.
            unsafe { self.buf.set_init(self.begin + pos) };
        }
    }
}
