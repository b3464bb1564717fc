//! `BufWriter`: an owned buffer in front of any [`AsyncWriteRent`], so many small writes
//! cost few syscalls.

use super::{AsyncReadRent, AsyncWriteRent, BufResult};
use crate::buf::{IoBuf, IoBufMut};
use std::future::Future;
use std::io;

/// Collects writes in a buffer and writes it to `W` when it is full or when asked:
/// [`flush`](BufWriter::flush) writes out what is buffered.
///
/// **Flush before dropping**: a `BufWriter` cannot write when dropped (writing needs the
/// reactor and an `.await`), so bytes still buffered then are lost, as with tokio's.
/// A write as large as the buffer or larger goes straight to `W` (after what is buffered).
///
/// # Cancellation
/// A buffered write never blocks and is never lost. A flush whose future is dropped drops the
/// write in flight, and with it the bytes it had not yet written.
///
/// # Example
/// ```
/// use coreloop_runtime::io::{AsyncWriteRentExt, BufWriter};
/// # coreloop_runtime::Runtime::new().unwrap().block_on(async {
/// // Any AsyncWriteRent works (a TcpStream, a split half, a file); a Vec keeps the example
/// // short.
/// let mut out = BufWriter::new(Vec::new());
/// out.write_all("many ").await.0.unwrap();
/// out.write_all("small writes").await.0.unwrap();
/// assert!(out.get_ref().is_empty(), "nothing written yet: it is all buffered");
/// out.flush().await.unwrap();
/// assert_eq!(out.get_ref(), b"many small writes");
/// # });
/// ```
#[derive(Debug)]
pub struct BufWriter<W> {
    inner: W,
    buf: Vec<u8>,
    capacity: usize,
}

impl<W> BufWriter<W> {
    /// A writer with a buffer of [`DEFAULT_BUF_SIZE`](super::DEFAULT_BUF_SIZE) bytes.
    pub fn new(inner: W) -> BufWriter<W> {
        BufWriter::with_capacity(super::DEFAULT_BUF_SIZE, inner)
    }

    /// A writer with a buffer of `capacity` bytes (at least 1).
    pub fn with_capacity(capacity: usize, inner: W) -> BufWriter<W> {
        let capacity = capacity.max(1);
        BufWriter {
            inner,
            buf: Vec::with_capacity(capacity),
            capacity,
        }
    }

    /// The writer underneath.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The writer underneath. Writing to it directly jumps ahead of what is buffered here.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The bytes written here and not yet to `W`.
    pub fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// The buffer's size.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The writer underneath; bytes still buffered are dropped ([`flush`](BufWriter::flush)
    /// first).
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: AsyncWriteRent> BufWriter<W> {
    /// Writes every buffered byte to `W`. On an error, the bytes not yet written stay
    /// buffered (a later flush tries them again); a write that takes nothing is `WriteZero`.
    pub async fn flush(&mut self) -> io::Result<()> {
        let mut buf = std::mem::take(&mut self.buf);
        let mut done = 0;
        let mut result = Ok(());
        while done < buf.len() {
            let len = buf.len();
            let (res, slice) = self.inner.write(buf.slice(done..len)).await;
            buf = slice.into_inner();
            match res {
                Ok(0) => {
                    let msg =
                        format!("flush: wrote {done} of {len} bytes, then the write took none");
                    result = Err(io::Error::new(io::ErrorKind::WriteZero, msg));
                    break;
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        buf.drain(..done);
        self.buf = buf;
        result
    }
}

impl<W: AsyncWriteRent> AsyncWriteRent for BufWriter<W> {
    /// Buffers `buf`'s initialized bytes, flushing first if they do not fit; a `buf` as large
    /// as the buffer or larger is written straight to `W` once what is buffered is.
    async fn write<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        let len = buf.bytes_init();
        if self.buf.len() + len > self.capacity {
            if let Err(e) = self.flush().await {
                return (Err(e), buf);
            }
        }
        if len >= self.capacity {
            return self.inner.write(buf).await;
        }
        // SAFETY: IoBuf's contract: `stable_ptr` points to `bytes_init` initialized bytes,
        // and `buf` is borrowed (not mutated) while the slice lives.
        let bytes = unsafe { std::slice::from_raw_parts(buf.stable_ptr(), len) };
        self.buf.extend_from_slice(bytes);
        (Ok(len), buf)
    }
}

impl<W: AsyncReadRent> AsyncReadRent for BufWriter<W> {
    /// Reads go straight to the inner stream (a buffered writer over a duplex stream).
    fn read<B: IoBufMut>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        self.inner.read(buf)
    }
}
