//! Buffers whose ownership passes to the kernel and back.
//!
//! An operation takes a buffer by value and hands it back with the result:
//! `let (res, buf) = stream.read(buf).await;`. While the operation is in flight the buffer
//! belongs to it (on io_uring, to the kernel): if the future is dropped early, the reactor
//! keeps the buffer alive until the kernel's completion arrives, and only then drops it.
//!
//! [`IoBuf`] is a buffer the kernel reads from (writes, sends); [`IoBufMut`] one it writes
//! into (reads, receives). Both promise a pointer that stays put while the value is moved,
//! which is why they are `unsafe` to implement.

mod array;
#[cfg(feature = "bytes")]
mod bytes;
mod slice;

pub use slice::Slice;

/// A buffer the kernel may read.
///
/// # Safety
/// `stable_ptr` must point to `bytes_init` initialized bytes, and to an allocation of
/// `bytes_total` bytes, and the pointer must not change while the buffer is moved (only
/// when it is mutated through its own API). Heap buffers (`Vec`, `Box<[u8]>`,
/// `Box<[u8; N]>`, `String`) and `'static` data (`&'static [u8]`, `&'static [u8; N]`,
/// `&'static str`) qualify; an inline array (`[u8; N]`) does not, and is not one.
///
/// # Examples
///
/// ```
/// use coreloop_runtime::buf::IoBuf;
///
/// let mut buf = Vec::with_capacity(16);
/// buf.extend_from_slice(b"hello");
/// assert_eq!(buf.bytes_init(), 5); // what a write sends
/// assert!(buf.bytes_total() >= 16); // what a read may fill
///
/// // A view of part of a buffer is a buffer too; `into_inner` gives the whole back.
/// let tail = buf.slice(1..5);
/// assert_eq!(tail.bytes_init(), 4);
/// assert_eq!(&tail.into_inner()[..], b"hello");
/// ```
pub unsafe trait IoBuf: 'static {
    /// Where the bytes are.
    fn stable_ptr(&self) -> *const u8;

    /// How many bytes are initialized: what a write sends.
    fn bytes_init(&self) -> usize;

    /// How many bytes the allocation has: what a read may fill.
    fn bytes_total(&self) -> usize;

    /// A view of `range` of this buffer that is itself a buffer; `into_inner` gives it back.
    ///
    /// # Panics
    /// If the range is out of `0..bytes_total()`, or decreasing.
    fn slice(self, range: impl std::ops::RangeBounds<usize>) -> Slice<Self>
    where
        Self: Sized,
    {
        use std::ops::Bound;
        let begin = match range.start_bound() {
            Bound::Included(&n) => n,
            Bound::Excluded(&n) => n + 1,
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&n) => n + 1,
            Bound::Excluded(&n) => n,
            Bound::Unbounded => self.bytes_init(),
        };
        assert!(
            begin <= end,
            "slice range starts at {begin} but ends at {end}"
        );
        assert!(
            end <= self.bytes_total(),
            "slice end {end} is past the buffer's {} bytes",
            self.bytes_total()
        );
        Slice::new(self, begin, end)
    }
}

/// A buffer the kernel may write into.
///
/// # Safety
/// As [`IoBuf`], and `stable_mut_ptr` is valid for writes of `bytes_total` bytes.
///
/// # Examples
///
/// A read appends after the initialized bytes, up to the capacity; a buffer with no room left
/// is refused rather than read as end of stream:
///
/// ```
/// use coreloop_runtime::Runtime;
/// use coreloop_runtime::op::{Position, SharedFd, read::Read, write::Write};
/// use coreloop_runtime::reactor::Op;
/// use coreloop_runtime::sys::io::pipe;
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let (r, w) = pipe(true)?;
///     let (r, w) = (SharedFd::new(r), SharedFd::new(w));
///     Op::new(Write::new(&w, "world", Position::Stream)).await.0?;
///
///     let mut buf = Vec::with_capacity(12);
///     buf.extend_from_slice(b"hello, ");
///     let (res, buf) = Op::new(Read::new(&r, buf, Position::Stream)).await;
///     assert_eq!(res?, 5);
///     assert_eq!(buf, b"hello, world");
///
///     let (res, _) = Op::new(Read::new(&r, buf, Position::Stream)).await; // no spare capacity
///     assert!(res.is_err());
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub unsafe trait IoBufMut: IoBuf {
    /// Where the bytes are, for the kernel to write through; like
    /// [`stable_ptr`](IoBuf::stable_ptr), it does not change when the buffer moves.
    fn stable_mut_ptr(&mut self) -> *mut u8;

    /// Records that the first `pos` bytes are initialized (never shrinks what was).
    ///
    /// # Safety
    /// The first `pos` bytes must really be initialized.
    unsafe fn set_init(&mut self, pos: usize);
}

// SAFETY: a Vec's heap pointer does not change when the Vec moves; len/capacity bound it.
unsafe impl IoBuf for Vec<u8> {
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

// SAFETY: as for IoBuf; the spare capacity is writable.
unsafe impl IoBufMut for Vec<u8> {
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

// SAFETY: a boxed slice's heap pointer does not change when the box moves.
unsafe impl IoBuf for Box<[u8]> {
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

// SAFETY: as for IoBuf; every byte of a boxed slice is initialized and writable.
unsafe impl IoBufMut for Box<[u8]> {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.as_mut_ptr()
    }
    unsafe fn set_init(&mut self, _pos: usize) {}
}

// SAFETY: 'static data never moves.
unsafe impl IoBuf for &'static [u8] {
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

// SAFETY: 'static data never moves.
unsafe impl IoBuf for &'static str {
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

// SAFETY: a String's heap pointer does not change when it moves. (Not IoBufMut: the kernel
// could write bytes that are not UTF-8.)
unsafe impl IoBuf for String {
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

/// Records that the kernel wrote `n` bytes into the spare capacity of `bufs`, in order, each
/// right after its initialized bytes; `room` is how much spare capacity each one had when the
/// op was made. The one place a kernel-reported count becomes a buffer length: a count larger
/// than the room given (a `MSG_TRUNC` receive reports the datagram's real length) is clamped,
/// so a buffer's length never passes its capacity. Returns how many bytes were recorded.
///
/// # Safety
/// The kernel must have filled the rooms in order with the first `n` bytes (clamped to the
/// total room), each room starting right after its buffer's initialized bytes, which have not
/// changed since.
pub(crate) unsafe fn commit_filled<'a, B: IoBufMut + 'a>(
    bufs: impl IntoIterator<Item = (&'a mut B, usize)>,
    n: usize,
) -> usize {
    let mut left = n;
    let mut recorded = 0;
    for (b, room) in bufs {
        let got = left.min(room);
        let init = b.bytes_init();
        // SAFETY: the caller's promise: `got` bytes right after the initialized ones were
        // written, and got <= room <= bytes_total - init.
        unsafe { b.set_init(init + got) };
        left -= got;
        recorded += got;
    }
    recorded
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `bytes` into the spare room of `b`, as the kernel would.
    fn kernel_fill<B: IoBufMut>(b: &mut B, bytes: &[u8]) {
        let init = b.bytes_init();
        assert!(init + bytes.len() <= b.bytes_total());
        // SAFETY: in bounds of the allocation (checked above), and `b` is not otherwise used.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), b.stable_mut_ptr().add(init), bytes.len())
        };
    }

    #[test]
    fn vec_counts_len_and_capacity_and_its_pointer_survives_a_move() {
        let mut v = Vec::with_capacity(16);
        v.extend_from_slice(b"abc");
        let p = v.stable_ptr();
        let moved = Box::new(v);
        assert_eq!(moved.stable_ptr(), p);
        assert_eq!(moved.bytes_init(), 3);
        assert!(moved.bytes_total() >= 16);
    }

    #[test]
    fn vec_set_init_never_shrinks() {
        let mut v = Vec::with_capacity(8);
        kernel_fill(&mut v, b"hello");
        // SAFETY: 5 bytes were written just above.
        unsafe { v.set_init(5) };
        assert_eq!(v, b"hello");
        // SAFETY: 2 <= 5 initialized bytes.
        unsafe { v.set_init(2) };
        assert_eq!(v.len(), 5);
    }

    #[test]
    fn boxed_slices_strings_and_statics() {
        let mut b: Box<[u8]> = vec![7u8; 4].into_boxed_slice();
        assert_eq!((b.bytes_init(), b.bytes_total()), (4, 4));
        // SAFETY: every byte of a boxed slice is initialized; set_init is a no-op.
        unsafe { b.set_init(0) };
        assert_eq!(b.bytes_init(), 4);
        assert_eq!(b.stable_mut_ptr() as *const u8, b.stable_ptr());

        let mut s = String::with_capacity(10);
        s.push_str("hi");
        assert_eq!((s.bytes_init(), s.bytes_total()), (2, s.capacity()));
        assert_eq!(s.stable_ptr(), s.as_ptr());

        let st: &'static [u8] = b"static";
        assert_eq!((st.bytes_init(), st.bytes_total()), (6, 6));
        let ss: &'static str = "text";
        assert_eq!((ss.bytes_init(), ss.bytes_total()), (4, 4));
        // SAFETY: the pointer is to 4 initialized bytes of 'static data.
        let back = unsafe { std::slice::from_raw_parts(ss.stable_ptr(), ss.bytes_init()) };
        assert_eq!(back, b"text");
    }

    #[test]
    fn slice_ranges() {
        let v = b"0123456789".to_vec();
        let total = v.capacity();
        let s = v.slice(2..5);
        assert_eq!((s.begin(), s.end()), (2, 5));
        assert_eq!((s.bytes_init(), s.bytes_total()), (3, 3));
        // SAFETY: bytes 2..5 of the Vec are initialized.
        let got = unsafe { std::slice::from_raw_parts(s.stable_ptr(), s.bytes_init()) };
        assert_eq!(got, b"234");
        let v = s.into_inner();
        let s = v.slice(..=3);
        assert_eq!((s.begin(), s.end()), (0, 4));
        let v = s.into_inner();
        // Unbounded end: up to the initialized bytes.
        let s = v.slice(7..);
        assert_eq!((s.begin(), s.end(), s.bytes_init()), (7, 10, 3));
        // A range past the initialized part, within the capacity: nothing initialized in it.
        let mut v = s.into_inner();
        v.reserve(10);
        let total = total.max(v.capacity());
        let s = v.slice(10..total.min(14));
        assert_eq!(s.bytes_init(), 0);
    }

    #[test]
    #[should_panic(expected = "past the buffer")]
    fn slice_past_the_capacity_panics() {
        let v = Vec::<u8>::with_capacity(4);
        let cap = v.capacity();
        let _ = v.slice(0..cap + 1);
    }

    #[test]
    #[should_panic(expected = "starts at")]
    fn decreasing_slice_panics() {
        let v = b"abcdef".to_vec();
        #[allow(clippy::reversed_empty_ranges)]
        let _ = v.slice(4..2);
    }

    #[test]
    fn slice_set_init_extends_the_inner_buffer_only_without_a_gap() {
        let mut v = Vec::with_capacity(16);
        v.extend_from_slice(b"ab");
        // Reading into 2..10 (right after the initialized bytes): the Vec grows.
        let mut s = v.slice(2..10);
        kernel_fill(&mut s, b"cd");
        // SAFETY: two bytes were written at the slice's start.
        unsafe { s.set_init(2) };
        assert_eq!(s.bytes_init(), 2);
        let v = s.into_inner();
        assert_eq!(v, b"abcd");
        // Reading into 8..12 leaves a gap after byte 4: the Vec's length stays.
        let mut s = v.slice(8..12);
        // SAFETY: the write target is inside the allocation; bytes 4..8 stay uninitialized.
        unsafe { std::ptr::write_bytes(s.stable_mut_ptr(), b'x', 4) };
        // SAFETY: 4 bytes written at the slice's start.
        unsafe { s.set_init(4) };
        assert_eq!(s.into_inner().len(), 4);
    }

    #[test]
    fn commit_filled_clamps_a_count_larger_than_the_room() {
        let mut a = Vec::with_capacity(4);
        a.push(b'a');
        let mut b = Vec::with_capacity(8);
        let (ra, rb) = (a.capacity() - a.len(), b.capacity() - b.len());
        kernel_fill(&mut a, &vec![1; ra]);
        kernel_fill(&mut b, &vec![2; rb]);
        // A MSG_TRUNC receive reports more than was given.
        let n = ra + rb + 100;
        // SAFETY: both rooms were filled in order just above; the count is clamped.
        let got = unsafe { commit_filled([(&mut a, ra), (&mut b, rb)], n) };
        assert_eq!(got, ra + rb);
        assert_eq!(a.len(), a.capacity());
        assert_eq!(b.len(), b.capacity());
        assert!(a[1..].iter().all(|&x| x == 1) && b.iter().all(|&x| x == 2));
    }

    #[test]
    fn commit_filled_fills_in_order_and_stops() {
        let mut a = Vec::with_capacity(4);
        let mut b = Vec::with_capacity(4);
        let (ra, rb) = (a.capacity(), b.capacity());
        kernel_fill(&mut a, &vec![1; ra]);
        kernel_fill(&mut b, &[2]);
        // SAFETY: the first ra + 1 bytes were written, in order.
        let got = unsafe { commit_filled([(&mut a, ra), (&mut b, rb)], ra + 1) };
        assert_eq!(got, ra + 1);
        assert_eq!((a.len(), b.len()), (ra, 1));
        let mut c = Vec::<u8>::with_capacity(4);
        let rc = c.capacity();
        // SAFETY: a count of zero records nothing.
        assert_eq!(unsafe { commit_filled([(&mut c, rc)], 0) }, 0);
        assert!(c.is_empty());
    }
}
