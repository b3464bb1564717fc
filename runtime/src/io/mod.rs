//! Ownership-passing I/O traits and the loops that finish short transfers.
//!
//! Every read and write takes its buffer by value and gives it back with the result, as
//! io_uring needs: `let (res, buf) = stream.read(buf).await;`. A read **appends**: it fills
//! the buffer from its initialized length up to its capacity, and the initialized length grows
//! by what was read (clear the buffer to reuse it from the start). A write sends the
//! initialized bytes.
//!
//! [`AsyncReadRentExt::read_exact`], [`AsyncWriteRentExt::write_all`] and
//! [`AsyncWriteVectoredRentExt::write_all_vectored`] finish short transfers; they are written
//! once, here, and serve every stream on both reactors. [`BufReader`] (with `read_line`,
//! `read_until` and a [`Lines`] stream) and [`BufWriter`] (flushed on demand) put an owned
//! buffer in front of any reader or writer.
//!
//! # Cancel safety
//!
//! What happens when the future of a read or write is dropped before it resolves (a
//! `timeout`, a `select`, a task dropped), per API. "Safe" means nothing is lost and nothing is
//! done twice: calling again picks up where things stand.
//!
//! | API | io_uring | epoll |
//! |---|---|---|
//! | `read_pooled` (TCP, Unix streams) | **safe**: what arrived waits in the stream for the next call | **safe** |
//! | `accept` / `incoming` (listeners) | **safe**: a connection accepted for a dropped call waits in the listener | **safe** |
//! | `read`, `readv`, `peek`, `recv_from` (owned buffers) | **not safe**: the kernel may already have moved bytes into the dropped op's buffer; they are dropped with it | safe: nothing is read between polls |
//! | `write`, `writev`, `send_to` | **not safe**: the bytes may have been sent; the count is lost | safe: nothing is written between polls |
//! | `read_exact`, `write_all`, `write_all_vectored`, `BufReader`, `BufWriter` | **not safe** on either reactor: earlier pieces were transferred; how many is lost | not safe |
//! | file reads and writes (`coreloop-fs`) | **not safe**: the op runs to its end (on the ring or the blocking pool); its result is lost | not safe |
//! | `connect` | not safe: the connection may be made; drop the socket | not safe |
//! | `sleep`, `timeout`, `Interval::tick` | safe | safe |
//!
//! Whatever is dropped, memory and descriptors stay sound: an op's buffer and descriptor live
//! until the kernel's last completion, on both reactors. To read under a timeout or in a
//! `select` loop without losing data, use `read_pooled`.

use crate::buf::{IoBuf, IoBufMut, Slice};
use std::future::Future;
use std::io;

mod buf_reader;
mod buf_writer;

pub use buf_reader::{BufReader, DEFAULT_BUF_SIZE, Lines};
pub use buf_writer::BufWriter;

/// A result and the buffer handed back.
pub type BufResult<T, B> = (io::Result<T>, B);

/// Reads into owned buffers.
pub trait AsyncReadRent {
    /// Reads once, **appending** to `buf`: the bytes land after its initialized ones, up to
    /// its capacity, and its length grows by what was read. `Ok(0)` is end of stream. A
    /// buffer with no spare capacity is an immediate `InvalidInput` error, never `Ok(0)`.
    ///
    /// # Example
    /// ```
    /// use coreloop_runtime::io::AsyncReadRent;
    /// # coreloop_runtime::Runtime::new().unwrap().block_on(async {
    /// let mut reader = &b"hello"[..]; // any AsyncReadRent: a stream, a file, ...
    /// let mut buf = Vec::with_capacity(8);
    /// buf.extend_from_slice(b">");
    /// let (res, buf) = reader.read(buf).await;
    /// assert_eq!(res.unwrap(), 5);
    /// assert_eq!(buf, b">hello"); // appended after what was there
    /// let mut buf = buf;
    /// buf.clear(); // to read from the start again
    /// # let _ = buf;
    /// let full = Vec::with_capacity(0);
    /// let (res, _) = reader.read(full).await;
    /// assert_eq!(res.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
    /// # });
    /// ```
    fn read<B: IoBufMut>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>>;
}

/// Bytes in memory as a reader: each read takes from the front (std's `Read for &[u8]`).
impl AsyncReadRent for &[u8] {
    async fn read<B: IoBufMut>(&mut self, mut buf: B) -> BufResult<usize, B> {
        if buf.bytes_init() == buf.bytes_total() {
            return (Err(no_room_error()), buf);
        }
        let n = copy_into(&mut buf, self);
        *self = &self[n..];
        (Ok(n), buf)
    }
}

/// A vector as a writer: each write appends to it (std's `Write for Vec<u8>`).
impl AsyncWriteRent for Vec<u8> {
    async fn write<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        // SAFETY: IoBuf's contract: `stable_ptr` points to `bytes_init` initialized bytes,
        // and `buf` is only borrowed while the slice lives.
        let bytes = unsafe { std::slice::from_raw_parts(buf.stable_ptr(), buf.bytes_init()) };
        self.extend_from_slice(bytes);
        (Ok(bytes.len()), buf)
    }
}

/// Copies as much of `src` as fits into `buf`'s spare capacity, after its initialized bytes,
/// and records it; returns how many bytes were copied.
pub(crate) fn copy_into<B: IoBufMut>(buf: &mut B, src: &[u8]) -> usize {
    let init = buf.bytes_init();
    let n = src.len().min(buf.bytes_total() - init);
    // SAFETY: IoBufMut's contract: `stable_mut_ptr` is valid for writes of `bytes_total`
    // bytes, and init + n <= bytes_total; `src` is a different allocation (it is borrowed
    // while `buf` is borrowed mutably). Those n bytes are then initialized.
    unsafe {
        std::ptr::copy_nonoverlapping(src.as_ptr(), buf.stable_mut_ptr().add(init), n);
        buf.set_init(init + n);
    }
    n
}

/// The error of a read whose buffer has no spare capacity (the same words as the ops').
pub(crate) fn no_room_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "coreloop: read into a buffer with no spare capacity (reads append after the \
         initialized bytes: clear() the buffer or reserve room first)",
    )
}

/// Writes from owned buffers.
pub trait AsyncWriteRent {
    /// Writes once from `buf`'s initialized bytes; may write fewer.
    fn write<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>>;
}

/// The loop that finishes a read, written once for every kind of reader: `step(rest, done)`
/// reads once into `rest` (the unfilled part of `buf`) given the `done` bytes already read,
/// until `buf` is full. End of data first is `UnexpectedEof` (what was read is kept); an
/// `Interrupted` step is tried again.
pub async fn read_to_full<B: IoBufMut>(
    buf: B,
    mut step: impl AsyncFnMut(Slice<B>, usize) -> BufResult<usize, Slice<B>>,
) -> BufResult<(), B> {
    let total = buf.bytes_total();
    let first = buf.bytes_init();
    let mut buf = buf;
    while buf.bytes_init() < total {
        let start = buf.bytes_init();
        let (res, slice) = step(buf.slice(start..total), start - first).await;
        buf = slice.into_inner();
        match res {
            Ok(0) => {
                let msg = format!(
                    "the data ended {} bytes short of {}",
                    total - start,
                    total - first
                );
                return (Err(io::Error::new(io::ErrorKind::UnexpectedEof, msg)), buf);
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (Err(e), buf),
        }
    }
    (Ok(()), buf)
}

/// The loop that finishes a write, written once for every kind of writer: `step(rest, done)`
/// writes once from `rest` (the initialized bytes not yet written) given the `done` bytes
/// already written, until all are. A step that writes nothing is `WriteZero`; an
/// `Interrupted` step is tried again.
pub async fn write_to_end<B: IoBuf>(
    buf: B,
    mut step: impl AsyncFnMut(Slice<B>, usize) -> BufResult<usize, Slice<B>>,
) -> BufResult<(), B> {
    let len = buf.bytes_init();
    let mut buf = buf;
    let mut done = 0;
    while done < len {
        let (res, slice) = step(buf.slice(done..len), done).await;
        buf = slice.into_inner();
        match res {
            Ok(0) => {
                let msg = format!("wrote {done} of {len} bytes, then the write took none");
                return (Err(io::Error::new(io::ErrorKind::WriteZero, msg)), buf);
            }
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (Err(e), buf),
        }
    }
    (Ok(()), buf)
}

/// Loops over [`AsyncReadRent::read`].
pub trait AsyncReadRentExt: AsyncReadRent {
    /// Appends exactly `buf.bytes_total() - buf.bytes_init()` bytes: fills the buffer to its
    /// capacity. End of stream first is `UnexpectedEof` (the bytes read so far are kept).
    fn read_exact<B: IoBufMut>(&mut self, buf: B) -> impl Future<Output = BufResult<(), B>> {
        read_to_full(buf, async |rest, _| self.read(rest).await)
    }
}

impl<T: AsyncReadRent + ?Sized> AsyncReadRentExt for T {}

/// Loops over [`AsyncWriteRent::write`].
pub trait AsyncWriteRentExt: AsyncWriteRent {
    /// Writes every initialized byte of `buf`. A write of zero bytes is `WriteZero`.
    fn write_all<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<(), B>> {
        write_to_end(buf, async |rest, _| self.write(rest).await)
    }
}

impl<T: AsyncWriteRent + ?Sized> AsyncWriteRentExt for T {}

/// Writes from several owned buffers at once (writev; sendmsg on sockets).
pub trait AsyncWriteVectoredRent {
    /// Writes once from the buffers' initialized bytes, in order; may write fewer.
    fn writev<B: IoBuf>(&mut self, bufs: Vec<B>) -> impl Future<Output = BufResult<usize, Vec<B>>>;
}

/// Loops over [`AsyncWriteVectoredRent::writev`].
pub trait AsyncWriteVectoredRentExt: AsyncWriteVectoredRent {
    /// Writes every initialized byte of every buffer, in order, resuming a short write in
    /// the middle of whichever buffer it stopped in. A write of zero bytes is `WriteZero`.
    fn write_all_vectored<B: IoBuf>(
        &mut self,
        bufs: Vec<B>,
    ) -> impl Future<Output = BufResult<(), Vec<B>>> {
        async move {
            let mut bufs = bufs;
            // The first buffer with bytes left, and how many of its bytes are written.
            let (mut idx, mut off) = (0, 0);
            loop {
                while idx < bufs.len() && off >= bufs[idx].bytes_init() {
                    idx += 1;
                    off = 0;
                }
                if idx == bufs.len() {
                    return (Ok(()), bufs);
                }
                let rest: Vec<Slice<B>> = bufs
                    .drain(idx..)
                    .enumerate()
                    .map(|(i, b)| {
                        let end = b.bytes_init();
                        b.slice(if i == 0 { off } else { 0 }..end)
                    })
                    .collect();
                let (res, rest) = self.writev(rest).await;
                bufs.extend(rest.into_iter().map(Slice::into_inner));
                match res {
                    Ok(0) => {
                        let msg = "a vectored write took none of the bytes left";
                        return (Err(io::Error::new(io::ErrorKind::WriteZero, msg)), bufs);
                    }
                    Ok(mut n) => {
                        while n > 0 && idx < bufs.len() {
                            let left = bufs[idx].bytes_init() - off;
                            if n >= left {
                                n -= left;
                                idx += 1;
                                off = 0;
                            } else {
                                off += n;
                                n = 0;
                            }
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return (Err(e), bufs),
                }
            }
        }
    }
}

impl<T: AsyncWriteVectoredRent + ?Sized> AsyncWriteVectoredRentExt for T {}
