//! The HTTP connection loop on coreloop: read, answer every complete request in the buffer
//! ([`http_proto::respond`]), write the answers in one write, repeat. Generic over the stream so
//! that tests can drive it over any ownership-passing stream.
//!
//! Timeouts: a request whose header section is not complete `header_timeout` after its first
//! byte (or after the connection opened) is cut off, however slowly the bytes trickle in
//! (slowloris); a connection with nothing to do for `idle_timeout` is closed. Once shutdown is
//! signalled, an idle connection closes at once and a busy one after its current answer.

use super::http_proto::{self, DateCache, Limits};
use super::shutdown::{Either, Shutdown, select};
use coreloop::io::{AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt};
use coreloop::time::timeout_at;
use std::cell::RefCell;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub limits: Limits,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            limits: Limits::default(),
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// Why a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The peer closed, or an answer said `Connection: close`.
    Done,
    /// Headers not complete in time.
    HeaderTimeout,
    /// Nothing happened for the idle timeout.
    Idle,
    /// Shutdown was signalled.
    Shutdown,
    /// A read or write failed (reset, …).
    Error,
}

thread_local! {
    static DATE: RefCell<DateCache> = RefCell::new(DateCache::new());
}

const INITIAL_BUF: usize = 8 * 1024;

/// Serves one connection until it ends, then drops the stream (closing it).
pub async fn serve_conn<S: AsyncReadRent + AsyncWriteRent>(
    mut stream: S,
    cfg: &Config,
    shutdown: &Shutdown,
) -> End {
    let mut buf: Vec<u8> = Vec::with_capacity(INITIAL_BUF);
    let mut out: Vec<u8> = Vec::with_capacity(INITIAL_BUF);
    // A new connection's first request must arrive within the header timeout.
    let mut state = State::Headers;
    let mut deadline = Instant::now() + cfg.header_timeout;
    let mut stop = std::pin::pin!(shutdown.wait());
    loop {
        if buf.len() == buf.capacity() {
            buf.reserve(buf.capacity());
        }
        let timed_out = if state == State::Headers {
            End::HeaderTimeout
        } else {
            End::Idle
        };
        // With nothing unanswered buffered, shutdown may close the connection at once.
        let empty = buf.is_empty();
        let read = timeout_at(deadline, stream.read(buf));
        let (res, back) = if empty {
            match select(read, stop.as_mut()).await {
                Either::Left(Ok(r)) => r,
                Either::Left(Err(_)) => return timed_out,
                Either::Right(()) => return End::Shutdown,
            }
        } else {
            match read.await {
                Ok(r) => r,
                Err(_) => return timed_out,
            }
        };
        buf = back;
        match res {
            Ok(0) => return End::Done,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return End::Error,
        }
        let p =
            DATE.with(|d| http_proto::respond(&buf, &mut out, &cfg.limits, d.borrow_mut().get()));
        buf.drain(..p.consumed);
        if !out.is_empty() {
            let (res, back) = stream.write_all(out).await;
            out = back;
            out.clear();
            if res.is_err() {
                return End::Error;
            }
        }
        if p.close {
            return End::Done;
        }
        if p.answered > 0 && shutdown.is_set() {
            return End::Shutdown;
        }
        let next = if buf.is_empty() {
            State::Idle
        } else if p.in_headers {
            State::Headers
        } else {
            State::Body
        };
        // Header bytes trickling in do not move the header deadline (slowloris); an answer,
        // or progress on a body, does.
        deadline = match next {
            State::Headers if state == State::Headers && p.answered == 0 => deadline,
            State::Headers => Instant::now() + cfg.header_timeout,
            State::Idle | State::Body => Instant::now() + cfg.idle_timeout,
        };
        state = next;
    }
}

/// Where a connection is between reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Nothing buffered: waiting for the next request.
    Idle,
    /// Part of a header section buffered (or a new connection, nothing yet).
    Headers,
    /// Headers complete, part of the body buffered.
    Body,
}
