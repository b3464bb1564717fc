//! The HTTP connection loop on coreloop: read, let [`http_proto::Conn`] answer every complete
//! request, write the answers, repeat. Generic over the stream ([`HttpStream`]) so that tests
//! can drive it over a Unix socket pair.
//!
//! Resources per connection are bounded whatever the peer does:
//! - Reads are pooled: a read takes a buffer of the core's pool only when bytes arrive, and
//!   gives it back before the connection next waits. What is kept across reads is at most one
//!   header section (plus one read): bodies are decoded into the request's body buffer as
//!   they arrive, which holds at most `max_body`.
//! - Pipelined answers leave in batches of [`OUT_BATCH`] bytes; nothing more is read until
//!   every complete request buffered is answered and written (backpressure).
//! - Output buffers, and the buffer that keeps a request's start across reads, are lent by
//!   the core and given back once empty: an idle keep-alive connection holds no buffer, and
//!   costs the same after a 1 MiB echo as after a `GET` (the body buffer beyond 16 KiB is
//!   freed after its request).
//!
//! Deadlines (each a flag of `examples/http.rs`):
//! - a header section must be complete `header_timeout` after its first byte, however slowly
//!   the bytes trickle in (slowloris); a new connection's first byte must come within it too;
//! - a body must arrive within `body_timeout` of its header section, and at no less than
//!   `min_body_rate` bytes per second on average once `header_timeout` has passed;
//! - a write must finish within `write_timeout` (a peer that never reads is cut off);
//! - an idle keep-alive connection closes after `idle_timeout`.
//!
//! A request cut off by its deadline is answered 408. Every close that follows an answer (an
//! error, `Connection: close`, a timeout, shutdown) is a lingering close: our FIN first
//! (half-close), then whatever the peer still sends is read and dropped for up to `linger`
//! (and at most [`LINGER_BYTES`]), so the kernel does not answer unread input with an RST
//! that would destroy the response before the peer reads it.
//!
//! Shutdown: an idle connection closes at once (lingering); a busy one finishes the request in
//! progress, answers it with `Connection: close` and closes the same way.
//!
//! Steady state allocates nothing (`tests/http_alloc.rs` holds it to that, on both reactors):
//! a keep-alive connection answering request after request — one at a time or pipelined —
//! parses requests in the pool buffer they were read into, answers into an output buffer
//! lent by the core for one batch and its write (reused, within [`OUT_KEEP`]), takes the `Date` value from a per-core cache formatted once
//! a second, and runs every deadline on one timer per connection (`Deadline`) that is moved
//! only when it must fire earlier or has fired early. (A timer inserted and removed around
//! every read and write costs the core's timer map an insert and a remove per request, and
//! an allocation whenever the timer lands in a full node of that map.)

use crate::http_proto::{self, Conn, DateCache, Limits, Phase};
use crate::shutdown::{Either, Shutdown, select};
use coreloop::PooledBuf;
use coreloop::io::{AsyncWriteRent, AsyncWriteRentExt};
use coreloop::time::{Sleep, sleep_until};
use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The loop's settings.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Request size limits.
    pub limits: Limits,
    /// Time from a request's first byte (or the connection's start) to the end of its headers.
    pub header_timeout: Duration,
    /// Time an idle keep-alive connection stays open.
    pub idle_timeout: Duration,
    /// Time from the end of a request's headers to the end of its body.
    pub body_timeout: Duration,
    /// The lowest average body rate, in bytes per second, once `header_timeout` has passed
    /// since the body started (0: no rate limit).
    pub min_body_rate: u64,
    /// Time one batch of answers may take to be written.
    pub write_timeout: Duration,
    /// How long a closing connection keeps reading (and dropping) what the peer still sends.
    pub linger: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            limits: Limits::default(),
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(60),
            min_body_rate: 1024,
            write_timeout: Duration::from_secs(10),
            linger: Duration::from_secs(2),
        }
    }
}

/// Why a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The peer closed, or an answer closed the connection (`Connection: close`, an error).
    Done,
    /// Headers not complete in time.
    HeaderTimeout,
    /// A body too slow: over `body_timeout`, or under `min_body_rate`.
    BodyTimeout,
    /// An answer could not be written within `write_timeout`.
    WriteTimeout,
    /// Nothing happened for the idle timeout.
    Idle,
    /// Shutdown was signalled.
    Shutdown,
    /// A read or write failed (reset, …).
    Error,
}

/// A stream the HTTP loop can serve: pooled reads, writes, and closing the write half.
pub trait HttpStream: AsyncWriteRent {
    /// Reads what arrives into a buffer of the core's pool (empty at end of stream);
    /// cancel-safe.
    fn read_pooled(&mut self) -> impl Future<Output = io::Result<PooledBuf>>;

    /// Shuts down the write half (sends FIN); reading goes on.
    fn shutdown_write(&mut self) -> impl Future<Output = io::Result<()>>;
}

impl HttpStream for coreloop::net::TcpStream {
    fn read_pooled(&mut self) -> impl Future<Output = io::Result<PooledBuf>> {
        coreloop::net::TcpStream::read_pooled(self)
    }

    async fn shutdown_write(&mut self) -> io::Result<()> {
        self.shutdown(std::net::Shutdown::Write).await
    }
}

impl HttpStream for coreloop::net::UnixStream {
    fn read_pooled(&mut self) -> impl Future<Output = io::Result<PooledBuf>> {
        coreloop::net::UnixStream::read_pooled(self)
    }

    async fn shutdown_write(&mut self) -> io::Result<()> {
        self.shutdown(std::net::Shutdown::Write).await
    }
}

thread_local! {
    static DATE: RefCell<DateCache> = RefCell::new(DateCache::new());
}

/// A new spare buffer's capacity.
const SPARE_SIZE: usize = 8 * 1024;
/// Answers are written once the output holds this much.
pub const OUT_BATCH: usize = 16 * 1024;
/// The largest spare buffer kept for reuse: a batch of small answers (up to [`OUT_BATCH`]
/// and one more answer) fits, so pipelining never regrows one; a bigger answer (an echoed
/// body) or header section grows its buffer, which is then freed when given back.
pub const OUT_KEEP: usize = 2 * OUT_BATCH;
/// Spare buffers each core keeps for reuse: as many as its connections hold at once in
/// steady state (more are allocated when needed, and freed when given back).
pub const SPARE_POOL: usize = 256;
/// A lingering close drops at most this much of what the peer still sends.
pub const LINGER_BYTES: usize = 1024 * 1024;

/// Serves one connection until it ends, then drops the stream (closing it).
pub async fn serve_conn<S: HttpStream>(mut stream: S, cfg: &Config, shutdown: &Shutdown) -> End {
    let mut conn = Conn::new(cfg.limits);
    let mut input = Input::new();
    let mut stop = pin!(shutdown.wait());
    let start = Instant::now();
    // A new connection's first request must arrive within the header timeout.
    let mut idle_deadline = start + cfg.header_timeout;
    let mut head_deadline = idle_deadline;
    let mut body_start = start;
    let mut timer = Deadline::new(idle_deadline);
    let mut phase = Phase::Idle;
    let mut shutting_down = false;
    let mut answered_any = false;
    loop {
        // Answer everything complete in the buffer, a batch at a time.
        let mut answered_now = false;
        loop {
            if shutdown.is_set() && !shutting_down {
                shutting_down = true;
                conn.close_after_next();
            }
            let mut out = Spare::take();
            let p = DATE
                .with(|d| conn.advance(input.pending(), &mut out, d.borrow_mut().get(), OUT_BATCH));
            input.consume(p.consumed);
            // Nothing waits holding a buffer of the core's read pool.
            input.park();
            if !out.is_empty() {
                match write(&mut stream, out, &mut timer, cfg).await {
                    Ok(back) => out = back,
                    Err(end) => return end,
                }
            }
            Spare::give_back(out);
            if p.close {
                linger_close(&mut stream, &mut input, &mut timer, cfg).await;
                return if shutting_down {
                    End::Shutdown
                } else {
                    End::Done
                };
            }
            if p.answered > 0 {
                answered_any = true;
                answered_now = true;
                idle_deadline = Instant::now() + cfg.idle_timeout;
            }
            if !p.more {
                break;
            }
        }
        let now_phase = conn.phase(input.len());
        // A deadline runs from the request's start: bytes of the same request do not move it;
        // a new request (after an answer) starts its own.
        match (phase, now_phase) {
            (Phase::Head, Phase::Head) if !answered_now => {}
            (_, Phase::Head) => head_deadline = Instant::now() + cfg.header_timeout,
            (Phase::Body, Phase::Body) if !answered_now => {}
            (_, Phase::Body) => body_start = Instant::now(),
            (_, Phase::Idle) => {}
        }
        phase = now_phase;
        let deadline = match phase {
            Phase::Idle => idle_deadline,
            Phase::Head => head_deadline,
            Phase::Body => body_deadline(cfg, body_start, conn.body_received()),
        };
        let read = timer.within(deadline, input.fill(&mut stream));
        let res = if phase == Phase::Idle {
            // With no request begun, shutdown may close the connection at once.
            match select(read, stop.as_mut()).await {
                Either::Left(Some(r)) => r,
                Either::Left(None) if answered_any => return End::Idle,
                Either::Left(None) => return End::HeaderTimeout,
                Either::Right(()) => {
                    linger_close(&mut stream, &mut input, &mut timer, cfg).await;
                    return End::Shutdown;
                }
            }
        } else {
            match read.await {
                Some(r) => r,
                None => {
                    // Cut off in the middle of a request: say so, then close.
                    let (end, status) = match phase {
                        Phase::Body => (End::BodyTimeout, 408),
                        _ => (End::HeaderTimeout, 408),
                    };
                    let mut out = Spare::take();
                    DATE.with(|d| http_proto::write_error(&mut out, status, d.borrow_mut().get()));
                    if write(&mut stream, out, &mut timer, cfg).await.is_ok() {
                        linger_close(&mut stream, &mut input, &mut timer, cfg).await;
                    }
                    return end;
                }
            }
        };
        match res {
            Ok(0) => return End::Done,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return End::Error,
        }
    }
}

/// The bytes read from the peer and not consumed yet.
///
/// Reads are pooled (`read_pooled`): a read's buffer comes from the core's pool when bytes
/// arrive, and requests are parsed in it where they lie (`fresh`). What a batch leaves
/// unconsumed (a request cut by the read's end, or answers held back by backpressure) is
/// copied into a buffer of the connection's own (`kept`, lent by the core like the output
/// buffers) before the connection waits on anything, so no connection holds a pool buffer
/// while it waits, and an idle one holds no buffer at all. [`Input::fill`] is the only place
/// the connection reads.
struct Input {
    /// Unconsumed bytes kept across reads; no buffer when empty (after [`Input::park`]).
    kept: Vec<u8>,
    /// The last read's buffer while it is parsed in place (only when nothing was kept).
    fresh: Option<PooledBuf>,
    /// Bytes of `fresh` already consumed.
    start: usize,
}

impl Input {
    fn new() -> Input {
        Input {
            kept: Vec::new(),
            fresh: None,
            start: 0,
        }
    }

    /// The unconsumed bytes, oldest first.
    fn pending(&self) -> &[u8] {
        match &self.fresh {
            Some(b) => &b[self.start..],
            None => &self.kept,
        }
    }

    fn len(&self) -> usize {
        self.pending().len()
    }

    /// Drops the first `n` unconsumed bytes (used by the parser).
    fn consume(&mut self, n: usize) {
        match &self.fresh {
            Some(b) if self.start + n == b.len() => {
                self.fresh = None;
                self.start = 0;
            }
            Some(_) => self.start += n,
            None if n == self.kept.len() => self.kept.clear(),
            None => {
                self.kept.drain(..n);
            }
        }
    }

    /// Drops everything unconsumed (a closing connection).
    fn discard(&mut self) {
        let n = self.len();
        self.consume(n);
        self.park();
    }

    /// Before the connection waits: copies what is unconsumed of the last read into `kept`
    /// and gives the pool its buffer back; gives back `kept`'s buffer if it is empty.
    fn park(&mut self) {
        if let Some(b) = self.fresh.take() {
            if self.kept.capacity() == 0 {
                self.kept = Spare::take();
            }
            self.kept.extend_from_slice(&b[self.start..]);
            self.start = 0;
        }
        if self.kept.is_empty() && self.kept.capacity() > 0 {
            Spare::give_back(std::mem::take(&mut self.kept));
        }
    }

    /// Reads once (after [`Input::park`]), adding to the unconsumed bytes; `Ok(0)` is the
    /// peer's end of stream. Cancel-safe: bytes that arrive for a dropped read wait in the
    /// stream for the next one.
    async fn fill<S: HttpStream>(&mut self, stream: &mut S) -> io::Result<usize> {
        debug_assert!(self.fresh.is_none(), "fill before park");
        let b = stream.read_pooled().await?;
        let n = b.len();
        if !self.kept.is_empty() {
            self.kept.extend_from_slice(&b);
        } else if n > 0 {
            self.fresh = Some(b);
        }
        Ok(n)
    }
}

/// This core's spare buffers, lent to a connection for one batch of answers and its write,
/// or to keep a request's start across reads: an idle connection holds none, and in steady
/// state taking one allocates nothing.
struct Spare;

thread_local! {
    static SPARE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

impl Spare {
    /// An empty buffer from the pool (a new one if the pool is empty).
    fn take() -> Vec<u8> {
        SPARE
            .with(|p| p.borrow_mut().pop())
            .unwrap_or_else(|| Vec::with_capacity(SPARE_SIZE))
    }

    /// Returns a buffer to the pool, unless it grew past [`OUT_KEEP`] or the pool already
    /// holds [`SPARE_POOL`] buffers: then it is freed.
    fn give_back(mut buf: Vec<u8>) {
        if buf.capacity() > OUT_KEEP {
            return;
        }
        buf.clear();
        SPARE.with(|p| {
            let mut p = p.borrow_mut();
            if p.len() < SPARE_POOL {
                p.push(buf);
            }
        });
    }
}

/// The connection's one timer, which every read and write of it races against its own
/// deadline.
///
/// The timer is moved only when an operation needs it to fire earlier than it is set, or
/// when it fired before the operation's deadline (then it is set to that deadline): so in
/// steady state, where each request's deadlines lie later than the last ones, it stays put
/// in the core's timer map, and a request costs that map nothing.
struct Deadline {
    sleep: Sleep,
}

impl Deadline {
    fn new(at: Instant) -> Deadline {
        Deadline {
            sleep: sleep_until(at),
        }
    }

    /// `fut`'s output, or `None` if `deadline` passes first (`fut` is dropped then).
    fn within<F: Future>(&mut self, deadline: Instant, fut: F) -> Within<'_, F> {
        if self.sleep.deadline() > deadline {
            self.sleep.reset(deadline);
        }
        Within {
            sleep: &mut self.sleep,
            deadline,
            fut,
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Deadline::within`].
    struct Within<'a, F> {
        sleep: &'a mut Sleep,
        deadline: Instant,
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for Within<'_, F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(v) = this.fut.poll(cx) {
            return Poll::Ready(Some(v));
        }
        while Pin::new(&mut **this.sleep).poll(cx).is_ready() {
            if Instant::now() >= *this.deadline {
                return Poll::Ready(None);
            }
            // Fired for an earlier deadline: follow this one.
            this.sleep.reset(*this.deadline);
        }
        Poll::Pending
    }
}

/// When the next body byte must have arrived: the total body time, and the average rate once
/// the header timeout (the grace) has passed.
fn body_deadline(cfg: &Config, start: Instant, received: usize) -> Instant {
    let total = start + cfg.body_timeout;
    if cfg.min_body_rate == 0 {
        return total;
    }
    let earned = Duration::from_secs_f64(received as f64 / cfg.min_body_rate as f64);
    total.min(start + cfg.header_timeout + earned)
}

/// Writes all of `out` within the write timeout; gives the buffer back, or how it ended.
async fn write<S: HttpStream>(
    stream: &mut S,
    out: Vec<u8>,
    timer: &mut Deadline,
    cfg: &Config,
) -> Result<Vec<u8>, End> {
    let deadline = Instant::now() + cfg.write_timeout;
    match timer.within(deadline, stream.write_all(out)).await {
        Some((Ok(()), back)) => Ok(back),
        Some((Err(_), _)) => Err(End::Error),
        None => Err(End::WriteTimeout),
    }
}

/// Half-closes, then reads and drops what the peer still sends until it closes, `linger`
/// passes or [`LINGER_BYTES`] were dropped.
async fn linger_close<S: HttpStream>(
    stream: &mut S,
    input: &mut Input,
    timer: &mut Deadline,
    cfg: &Config,
) {
    if stream.shutdown_write().await.is_err() {
        return;
    }
    let until = Instant::now() + cfg.linger;
    let mut dropped = 0;
    input.discard();
    while dropped < LINGER_BYTES {
        match timer.within(until, input.fill(stream)).await {
            Some(Ok(n)) if n > 0 => {
                dropped += n;
                input.discard();
            }
            Some(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            _ => return,
        }
    }
}
