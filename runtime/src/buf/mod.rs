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
