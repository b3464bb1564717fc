//! [`Compat`]: the adapter's buffers and in-flight operations, shared by every trait it
//! implements (the trait impls in `tokio.rs`, `futures.rs` and `hyper.rs` are thin).

use crate::source::{OpFuture, ReadSource, WriteSink};
use coreloop_runtime::io::BufResult;
use std::io::{self, IoSlice};
use std::rc::Rc;
use std::task::{Context, Poll, ready};

/// The smallest and largest read the adapter asks the kernel for; the caller's buffer size
/// picks a size between them.
const READ_MIN: usize = 4 * 1024;
const READ_MAX: usize = 64 * 1024;
/// How many bytes a write may stage before `poll_write` waits for the kernel to take some.
const WRITE_STAGE: usize = 64 * 1024;

/// Wraps a coreloop stream (`TcpStream`, `UnixStream`, the halves of a split `TcpStream`, a
/// `File`) and implements the poll-based I/O traits the enabled features name.
///
/// See the [crate docs](crate) for how it works and what it costs.
///
/// ```no_run
/// # async fn f() -> std::io::Result<()> {
/// use coreloop_compat::Compat;
/// use coreloop_net::TcpStream;
/// let stream = Compat::new(TcpStream::connect("127.0.0.1:8080").await?);
/// // `stream` now implements tokio::io::{AsyncRead, AsyncWrite} (feature `tokio-io`),
/// // futures_io's traits (`futures-io`) and hyper::rt::{Read, Write} (`hyper`).
/// # Ok(()) }
/// ```
pub struct Compat<S> {
    io: Rc<S>,
    reader: Reader,
    writer: Writer,
}

/// The read side: bytes read ahead and not yet handed out, and the read in flight.
struct Reader {
    /// Bytes `pos..` of `buf` are read and not yet handed out.
    buf: Vec<u8>,
    pos: usize,
    /// The read in flight; it owns the buffer until it completes.
    op: Option<OpFuture<BufResult<usize, Vec<u8>>>>,
    /// Bytes read so far (the offset for positioned sources).
    total: u64,
}

/// The write side: bytes accepted from the caller, and the write in flight.
struct Writer {
    /// Bytes accepted and not yet handed to the kernel; they follow the bytes in flight.
    staged: Vec<u8>,
    /// The write in flight, which owns the bytes before `staged`.
    op: Option<OpFuture<BufResult<usize, Vec<u8>>>>,
    /// An empty buffer kept for the next stage.
    spare: Vec<u8>,
    /// A write that failed after its `poll_write` had returned: reported on the next call.
    error: Option<io::Error>,
    /// Bytes written so far (the offset for positioned sinks).
    total: u64,
    /// The shutdown in flight.
    shutdown: Option<OpFuture<io::Result<()>>>,
}

impl<S> Compat<S> {
    /// Wraps `io`.
    pub fn new(io: S) -> Compat<S> {
        Compat::from_rc(Rc::new(io))
    }

    /// Wraps a stream already shared through an `Rc` (the adapter's operations hold a clone
    /// while in flight).
    pub fn from_rc(io: Rc<S>) -> Compat<S> {
        Compat {
            io,
            reader: Reader {
                buf: Vec::new(),
                pos: 0,
                op: None,
                total: 0,
            },
            writer: Writer {
                staged: Vec::new(),
                op: None,
                spare: Vec::new(),
                error: None,
                total: 0,
                shutdown: None,
            },
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// Bytes read from the stream and not yet handed to the caller.
    pub fn read_buffer(&self) -> &[u8] {
        &self.reader.buf[self.reader.pos..]
    }

    /// Bytes accepted by a write and not yet taken by the kernel (in flight or staged).
    pub fn write_pending(&self) -> bool {
        self.writer.op.is_some() || !self.writer.staged.is_empty()
    }
}

impl<S: ReadSource> Compat<S> {
    /// Makes sure read bytes are buffered: ready with `Ok(())` when [`Compat::read_buffer`]
    /// holds bytes, or is empty at end of stream. `want` sizes a new read.
    pub(crate) fn poll_fill(&mut self, cx: &mut Context<'_>, want: usize) -> Poll<io::Result<()>> {
        let r = &mut self.reader;
        if r.pos < r.buf.len() {
            return Poll::Ready(Ok(()));
        }
        loop {
            if r.op.is_none() {
                let mut buf = std::mem::take(&mut r.buf);
                buf.clear();
                r.pos = 0;
                buf.reserve(want.clamp(READ_MIN, READ_MAX));
                r.op = Some(S::read_owned(self.io.clone(), buf, r.total));
            }
            let op = r.op.as_mut().expect("a read is in flight");
            let (res, buf) = ready!(op.as_mut().poll(cx));
            r.op = None;
            r.buf = buf;
            r.pos = 0;
            match res {
                Ok(n) => {
                    r.total += n as u64;
                    return Poll::Ready(Ok(()));
                }
                // Nothing was read: read again, with the same buffer.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// The buffered bytes, reading more first if there are none: empty at end of stream.
    /// With [`Compat::consume`], the `AsyncBufRead` pair without any feature.
    pub fn poll_fill_buf(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        ready!(self.poll_fill(cx, 0))?;
        Poll::Ready(Ok(self.read_buffer()))
    }

    /// Marks `n` bytes of [`Compat::read_buffer`] as handed out.
    pub fn consume(&mut self, n: usize) {
        self.reader.pos = (self.reader.pos + n).min(self.reader.buf.len());
    }

    /// Reads into `out`, copying at most `out.len()` bytes; `Ok(0)` is end of stream (or an
    /// empty `out`). The read in flight stays in the adapter if this returns pending.
    pub fn poll_read_slice(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if out.is_empty() {
            return Poll::Ready(Ok(0));
        }
        ready!(self.poll_fill(cx, out.len()))?;
        let have = self.read_buffer();
        let n = have.len().min(out.len());
        out[..n].copy_from_slice(&have[..n]);
        self.consume(n);
        Poll::Ready(Ok(n))
    }
}

impl<S: WriteSink> Compat<S> {
    /// Drives the writes until nothing is staged or in flight (ready), or the kernel has not
    /// finished yet (pending, with `cx` registered).
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let w = &mut self.writer;
        loop {
            if let Some(op) = w.op.as_mut() {
                let (res, mut buf) = ready!(op.as_mut().poll(cx));
                w.op = None;
                match res {
                    Ok(0) if !buf.is_empty() => {
                        let msg = format!("the stream took none of {} bytes", buf.len());
                        return Poll::Ready(Err(io::Error::new(io::ErrorKind::WriteZero, msg)));
                    }
                    Ok(n) => {
                        w.total += n as u64;
                        buf.drain(..n);
                        if !buf.is_empty() {
                            // A short write: the rest goes before anything staged.
                            w.op = Some(S::write_owned(self.io.clone(), buf, w.total));
                            continue;
                        }
                        w.spare = buf;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                        w.op = Some(S::write_owned(self.io.clone(), buf, w.total));
                        continue;
                    }
                    // The stream is broken: the bytes in flight are lost, and so are the staged
                    // ones (they must not be written after a gap).
                    Err(e) => {
                        w.staged.clear();
                        return Poll::Ready(Err(e));
                    }
                }
            }
            if w.staged.is_empty() {
                return Poll::Ready(Ok(()));
            }
            let next = std::mem::take(&mut w.spare);
            let buf = std::mem::replace(&mut w.staged, next);
            w.op = Some(S::write_owned(self.io.clone(), buf, w.total));
        }
    }

    /// Accepts bytes from `bufs` (in order) into the staging buffer and starts writing them.
    /// Ready with the count accepted; pending only while the stage is full.
    pub fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.writer.error.take() {
            return Poll::Ready(Err(e));
        }
        let len: usize = bufs.iter().map(|b| b.len()).sum();
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        // Make what progress the kernel allows, without waiting.
        if let Poll::Ready(Err(e)) = self.poll_drain(cx) {
            return Poll::Ready(Err(e));
        }
        let room = WRITE_STAGE.saturating_sub(self.writer.staged.len());
        if room == 0 {
            // The stage is full and a write is in flight: its completion wakes `cx`.
            return Poll::Pending;
        }
        let mut taken = 0;
        for b in bufs {
            let n = b.len().min(room - taken);
            self.writer.staged.extend_from_slice(&b[..n]);
            taken += n;
            if taken == room {
                break;
            }
        }
        // Start the write now; a failure is kept for the next call.
        if let Poll::Ready(Err(e)) = self.poll_drain(cx) {
            self.writer.error = Some(e);
        }
        Poll::Ready(Ok(taken))
    }

    /// Accepts bytes from `buf`; see [`Compat::poll_write_vectored`].
    pub fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    /// Ready once every accepted byte is written, with the first error since the last call.
    pub fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.writer.error.take() {
            return Poll::Ready(Err(e));
        }
        self.poll_drain(cx)
    }

    /// Flushes, then shuts the write side down. A peer that already reset the connection
    /// (`ENOTCONN`) counts as shut down.
    pub fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.writer.shutdown.is_none() {
            ready!(self.poll_flush(cx))?;
            self.writer.shutdown = Some(S::shutdown_owned(self.io.clone()));
        }
        let op = self
            .writer
            .shutdown
            .as_mut()
            .expect("a shutdown is in flight");
        let res = ready!(op.as_mut().poll(cx));
        self.writer.shutdown = None;
        match res {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
            res => Poll::Ready(res),
        }
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for Compat<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compat")
            .field("io", &self.io)
            .field("read_buffered", &(self.reader.buf.len() - self.reader.pos))
            .field("read_in_flight", &self.reader.op.is_some())
            .field("write_staged", &self.writer.staged.len())
            .field("write_in_flight", &self.writer.op.is_some())
            .finish()
    }
}
