//! Fixed-size arrays as buffers: boxed (`Box<[u8; N]>`) or `'static` (`&'static [u8; N]`).
//!
//! Never an inline `[u8; N]`: an op moves while the kernel holds its entry (its future moves,
//! and a dropped future's op moves into the in-flight table), so the bytes the kernel points
//! at must live on the heap or in static memory, not inside the op.

use super::{IoBuf, IoBufMut};

// SAFETY: a box's heap pointer does not change when the box moves; all N bytes are
// initialized.
unsafe impl<const N: usize> IoBuf for Box<[u8; N]> {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        N
    }
    fn bytes_total(&self) -> usize {
        N
    }
}

// SAFETY: as for IoBuf; every byte of the boxed array is initialized and writable.
/// Like a `Box<[u8]>`, a boxed array counts as full (all N bytes initialized), so a read into
/// it is refused with `InvalidInput`: it is a buffer to write from, or to hand to APIs that
/// overwrite rather than append. Read into a `Vec::with_capacity(N)` instead.
unsafe impl<const N: usize> IoBufMut for Box<[u8; N]> {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.as_mut_ptr()
    }
    unsafe fn set_init(&mut self, _pos: usize) {}
}

// SAFETY: 'static data never moves.
unsafe impl<const N: usize> IoBuf for &'static [u8; N] {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        N
    }
    fn bytes_total(&self) -> usize {
        N
    }
}
