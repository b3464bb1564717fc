//! `BufReader`: an owned buffer in front of any [`AsyncReadRent`], for reads by line or by
//! delimiter and for many small reads at the cost of few syscalls.

use super::{AsyncReadRent, AsyncWriteRent, BufResult, copy_into, no_room_error};
use crate::buf::{IoBuf, IoBufMut};
use futures_core::Stream;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// How many bytes a [`BufReader`] reads at a time unless told otherwise.
pub const DEFAULT_BUF_SIZE: usize = 8 * 1024;

/// Reads from `R` a buffer at a time and hands the bytes out as asked.
///
/// The buffer is owned (a `Vec<u8>` passed to `R`'s reads by value), so it works on both
/// reactors with any reader: a stream, a split half, a `&TcpStream`, a file.
///
/// # Cancellation
/// Bytes already in the buffer are never lost. A refill whose future is dropped takes its
/// buffer with it (the kernel may still write into it); the next refill starts a new one.
/// [`read_until`](BufReader::read_until) appends to the caller's vector as it goes, so what it
/// took before being dropped is there; [`read_line`](BufReader::read_line) validates UTF-8
/// once the line is complete, so a dropped `read_line` loses the part of the line it took.
///
/// # Example
/// ```
/// use coreloop_runtime::io::BufReader;
/// # coreloop_runtime::Runtime::new().unwrap().block_on(async {
/// // Any AsyncReadRent works (a TcpStream, a split half, a file); bytes in memory keep the
/// // example short.
/// let mut reader = BufReader::new(&b"first\nsecond\r\nthird"[..]);
/// let mut line = String::new();
/// reader.read_line(&mut line).await.unwrap();
/// assert_eq!(line, "first\n");
/// assert_eq!(reader.next_line().await.unwrap().as_deref(), Some("second"));
/// assert_eq!(reader.next_line().await.unwrap().as_deref(), Some("third"));
/// assert_eq!(reader.next_line().await.unwrap(), None);
/// # });
/// ```
#[derive(Debug)]
pub struct BufReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// How much of `buf` has been handed out.
    pos: usize,
    capacity: usize,
}

impl<R> BufReader<R> {
    /// A reader with a buffer of [`DEFAULT_BUF_SIZE`] bytes.
    pub fn new(inner: R) -> BufReader<R> {
        BufReader::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// A reader with a buffer of `capacity` bytes (at least 1).
    pub fn with_capacity(capacity: usize, inner: R) -> BufReader<R> {
        let capacity = capacity.max(1);
        BufReader {
            inner,
            buf: Vec::with_capacity(capacity),
            pos: 0,
            capacity,
        }
    }

    /// The reader underneath.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The reader underneath. Reading from it directly skips what is buffered here.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The bytes read from `R` and not yet handed out.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// The buffer's size.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Marks the first `amt` bytes of [`buffer`](BufReader::buffer) as handed out.
    pub fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.buf.len());
    }

    /// The reader underneath; what was buffered and not handed out is dropped.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: AsyncReadRent> BufReader<R> {
    /// The buffered bytes, reading from `R` once first if there are none. An empty slice is
    /// end of stream.
    pub async fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.buf.len() {
            let mut buf = std::mem::take(&mut self.buf);
            buf.clear();
            // A refill dropped in flight took the old buffer: start a new one.
            buf.reserve_exact(self.capacity);
            self.pos = 0;
            let (res, buf) = self.inner.read(buf).await;
            self.buf = buf;
            if let Err(e) = res {
                self.buf.clear();
                return Err(e);
            }
        }
        Ok(&self.buf[self.pos..])
    }

    /// Appends to `out` every byte up to and including the first `byte`, or up to end of
    /// stream. Returns how many bytes were appended; 0 is end of stream. An `Interrupted`
    /// read is tried again.
    pub async fn read_until(&mut self, byte: u8, out: &mut Vec<u8>) -> io::Result<usize> {
        let mut total = 0;
        loop {
            let (found, used) = {
                let avail = match self.fill_buf().await {
                    Ok(avail) => avail,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                match avail.iter().position(|&b| b == byte) {
                    Some(i) => {
                        out.extend_from_slice(&avail[..=i]);
                        (true, i + 1)
                    }
                    None => {
                        out.extend_from_slice(avail);
                        (false, avail.len())
                    }
                }
            };
            self.consume(used);
            total += used;
            if found || used == 0 {
                return Ok(total);
            }
        }
    }

    /// Appends the next line to `line`, its `\n` included (if the stream ends without one,
    /// the rest of the stream). Returns how many bytes were appended; 0 is end of stream.
    /// A line that is not UTF-8 is `InvalidData`, and `line` is left as it was.
    pub async fn read_line(&mut self, line: &mut String) -> io::Result<usize> {
        let mut bytes = Vec::new();
        let n = self.read_until(b'\n', &mut bytes).await?;
        match String::from_utf8(bytes) {
            Ok(s) => {
                line.push_str(&s);
                Ok(n)
            }
            Err(_) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "read_line: the line is not valid UTF-8",
            )),
        }
    }

    /// The next line without its `\n` (or `\r\n`), or `None` at end of stream.
    pub async fn next_line(&mut self) -> io::Result<Option<String>> {
        let mut line = String::new();
        if self.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        if line.ends_with('\n') {
            line.pop();
            if line.ends_with('\r') {
                line.pop();
            }
        }
        Ok(Some(line))
    }

    /// The lines of the stream as a [`Stream`] of `io::Result<String>`, each without its
    /// `\n` (or `\r\n`); the stream ends at end of stream. Read errors are items: the stream
    /// goes on after one (stop on the first `Err` unless the reader can recover).
    ///
    /// `R: 'static`, because each line's read owns the reader while it runs (one boxed
    /// future per line); over a borrowed reader (`BufReader<&TcpStream>`), loop on
    /// [`next_line`](BufReader::next_line) instead.
    pub fn lines(self) -> Lines<R>
    where
        R: 'static,
    {
        Lines {
            reader: Some(self),
            pending: None,
            ended: false,
        }
    }
}

impl<R: AsyncReadRent> AsyncReadRent for BufReader<R> {
    /// Hands out buffered bytes first; with none buffered and room in `buf` for a whole
    /// buffer's worth, reads straight into `buf`.
    async fn read<B: IoBufMut>(&mut self, mut buf: B) -> BufResult<usize, B> {
        let room = buf.bytes_total() - buf.bytes_init();
        if room == 0 {
            return (Err(no_room_error()), buf);
        }
        if self.pos >= self.buf.len() && room >= self.capacity {
            return self.inner.read(buf).await;
        }
        let n = match self.fill_buf().await {
            Ok(avail) => copy_into(&mut buf, avail),
            Err(e) => return (Err(e), buf),
        };
        self.consume(n);
        (Ok(n), buf)
    }
}

impl<R: AsyncWriteRent> AsyncWriteRent for BufReader<R> {
    /// Writes go straight to the inner stream (a buffered reader over a duplex stream).
    fn write<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        self.inner.write(buf)
    }
}

/// The lines of a [`BufReader`], from [`BufReader::lines`]: a [`Stream`] of
/// `io::Result<String>`.
///
/// Dropping the stream while a line is being read drops that read (and the reader with it).
pub struct Lines<R> {
    /// The reader between lines; inside `pending` while a line is being read.
    reader: Option<BufReader<R>>,
    #[allow(clippy::type_complexity)]
    pending: Option<Pin<Box<dyn Future<Output = (BufReader<R>, io::Result<Option<String>>)>>>>,
    ended: bool,
}

// Nothing is ever pinned in place inside `Lines`: the reader moves into a boxed future.
impl<R> Unpin for Lines<R> {}

impl<R: AsyncReadRent + 'static> Lines<R> {
    /// The next line, or `None` at end of stream: the stream's next item, as an `async fn`.
    pub async fn next_line(&mut self) -> io::Result<Option<String>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx))
            .await
            .transpose()
    }

    /// The reader back, unless a line was being read when the stream was last polled (that
    /// read holds it).
    pub fn into_inner(self) -> Option<BufReader<R>> {
        self.reader
    }
}

impl<R: AsyncReadRent + 'static> Stream for Lines<R> {
    type Item = io::Result<String>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        let pending = match &mut this.pending {
            Some(p) => p,
            None => {
                let Some(mut reader) = this.reader.take() else {
                    return Poll::Ready(None);
                };
                this.pending.insert(Box::pin(async move {
                    let line = reader.next_line().await;
                    (reader, line)
                }))
            }
        };
        let (reader, line) = match pending.as_mut().poll(cx) {
            Poll::Ready(done) => done,
            Poll::Pending => return Poll::Pending,
        };
        this.pending = None;
        this.reader = Some(reader);
        match line {
            Ok(Some(line)) => Poll::Ready(Some(Ok(line))),
            Ok(None) => {
                this.ended = true;
                Poll::Ready(None)
            }
            Err(e) => Poll::Ready(Some(Err(e))),
        }
    }
}

impl<R> std::fmt::Debug for Lines<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lines")
            .field("reading", &self.pending.is_some())
            .field("ended", &self.ended)
            .finish()
    }
}
