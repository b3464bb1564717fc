//! HTTP/1.1 (RFC 9112, RFC 9110) as an I/O-free state machine over byte buffers: framing,
//! limits, routes and the cached `Date` header.
//!
//! [`Conn`] is the protocol state of one connection. The loop hands it everything read and not
//! yet consumed; [`Conn::advance`] answers every complete request (pipelining) into one output
//! buffer, stops once that buffer holds a batch (backpressure: the loop writes, then calls
//! again before it reads more), and says how many bytes it consumed. Every byte is examined a
//! bounded number of times: the end of a header section is searched for only in bytes not
//! searched yet, and bodies (Content-Length or chunked) are decoded as they arrive into the
//! request's body buffer, so the work per connection is linear in the bytes received and the
//! read buffer never holds more than one header section.
//!
//! `examples/http.rs` runs it on coreloop; the tokio twin in `coreloop-benches` answers with
//! the stateless [`respond`], built on the same machine, so the benches compare I/O loops and
//! not parsers.
//!
//! Routes: `GET /` and `HEAD /` answer `Hello, World!` (HEAD: the same headers, no content),
//! `POST /echo` sends the body back, `OPTIONS *` lists the methods; a known method on a known
//! path that it does not serve is 405 with `Allow`; anything else is 404.
//!
//! Decisions, where the RFC leaves room (every error response closes the connection):
//! - Line endings are CRLF only: a bare LF or a bare CR anywhere in a header section, a chunk
//!   line or a trailer is 400, and so is any other control character (NUL included) there,
//!   and obs-fold (a field line starting with whitespace). Empty lines before a request line
//!   are skipped (RFC 9112 §2.2).
//! - A request line longer than [`Limits::max_request_line`] is 414; a header section longer
//!   than [`Limits::max_header`] is 431, and so is a trailer section longer than that, or more
//!   than 100 fields in either.
//! - Request targets: origin-form; absolute-form (`http://host/path`, RFC 9112 §3.2.2: the
//!   path is routed, `Host` must still be there and valid); asterisk-form for OPTIONS only;
//!   authority-form for CONNECT only (and CONNECT only with it), else 400. CONNECT is 405:
//!   this is not a proxy. An unknown method (a valid token, case-sensitive) is 501.
//!   HTTP/1.2 and up are read as HTTP/1.1 (RFC 9110 §2.5); any other `HTTP/d.d` but 1.0 is
//!   505.
//! - `Host`: exactly one in HTTP/1.1, at most one in HTTP/1.0, with only the characters of
//!   `uri-host [":" port]`; otherwise 400.
//! - `Content-Length`: plain digits with optional surrounding whitespace; a list, a sign, a
//!   duplicate (even an equal one) or an overflow is 400; over [`Limits::max_body`] is 413 at
//!   once, without reading the body.
//! - `Transfer-Encoding`: several fields are one list; empty list elements are ignored
//!   (RFC 9110 §5.6.1). The final coding must be `chunked` (else 400), `chunked` at most once
//!   (else 400), and no other coding is implemented (501). With `Content-Length` too: 400.
//!   In an HTTP/1.0 request it is decoded, answered and the connection closed (RFC 9112 §6.1).
//! - Chunks: hex digits right at the start of the line (no leading whitespace), optional
//!   whitespace only before a `;` extension, extensions of visible characters, SP and HTAB;
//!   a size line over 4 KiB is 400; framing (everything but data) over twice the body limit
//!   plus 64 KiB is 413. Trailer fields are validated as field lines and dropped.
//! - `Expect: 100-continue` (HTTP/1.1) gets `100 Continue` when the head is complete and the
//!   body has not started to arrive; a body over the limit gets 413 instead, at once. Any other
//!   expectation is 417.
//! - HTTP/1.0 closes unless it asked for `keep-alive`; then the answer says `keep-alive` too.
//!   Once [`Conn::close_after_next`] is set (shutdown), the next answer says
//!   `Connection: close` and is the last.

mod chunked;
mod head;
mod response;

pub use response::{DateCache, imf_fixdate, write_error};

use chunked::Chunk;
use head::{Framing, Head, HeadStep, parse_complete_head};
use response::route;
use std::cell::Cell;

thread_local! {
    static WORK: Cell<u64> = const { Cell::new(0) };
}

/// Bytes the parsers on this thread have examined so far (header sections searched and
/// parsed, chunked framing decoded, body bytes copied). Tests compare it with the bytes
/// received to check that the work stays linear however the bytes are split into reads.
pub fn parser_work() -> u64 {
    WORK.with(Cell::get)
}

fn count(n: usize) {
    WORK.with(|w| w.set(w.get() + n as u64));
}

/// How much a request may be.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The request line, without its CRLF (default 8 KiB).
    pub max_request_line: usize,
    /// The request line and headers, up to and including the blank line (default 16 KiB);
    /// also the bound of a chunked body's trailer section.
    pub max_header: usize,
    /// A request body, after de-chunking (default 1 MiB).
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_request_line: 8 * 1024,
            max_header: 16 * 1024,
            max_body: 1024 * 1024,
        }
    }
}

/// What [`Conn::advance`] (or [`respond`]) did with a buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Bytes at the front of the buffer that were used: the caller drops them.
    pub consumed: usize,
    /// Final responses written (a `100 Continue` is not one).
    pub answered: usize,
    /// Close the connection after writing the output (error, `Connection: close`, HTTP/1.0,
    /// shutdown).
    pub close: bool,
    /// A request is unfinished and its header section is not complete yet.
    pub in_headers: bool,
    /// Answering stopped because the output reached its bound while complete requests may
    /// remain: write the output, then call again before reading.
    pub more: bool,
}

/// Where a connection is between requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// No byte of a next request yet.
    Idle,
    /// Part of a header section received.
    Head,
    /// The header section is complete; the body is arriving.
    Body,
}

/// How many fields a header or trailer section may have (more is 431).
const MAX_HEADERS: usize = 100;
/// A chunk-size line (with extensions) longer than this is 400.
const MAX_CHUNK_LINE: usize = 4096;
/// A body buffer bigger than this is dropped after its request (not kept for the next one).
const KEEP_BODY: usize = 16 * 1024;

/// The protocol state of one connection: the request being read, its body so far, and
/// where the search for the end of its header section has got to.
#[derive(Debug)]
pub struct Conn {
    limits: Limits,
    state: State,
    /// Bytes of the unconsumed buffer already searched for the end of the header section.
    scanned: usize,
    /// The request line's end was among them.
    line_seen: bool,
    /// The request whose body is being read.
    head: Head,
    /// The body so far (de-chunked).
    body: Vec<u8>,
    /// Bytes of chunk framing (sizes, extensions, CRLFs, trailers) of this request.
    framing: usize,
    /// Say `Connection: close` on the next answer and stop after it.
    closing: bool,
    /// Send `100 Continue` when asked (off for the stateless [`respond`]).
    send_continue: bool,
    /// Return after each answer (for the stateless [`respond`]).
    one: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for (the rest of) a header section.
    Head,
    /// Reading a Content-Length body: bytes still to come.
    Fixed(usize),
    /// Reading a chunked body.
    Chunked(Chunk),
    /// An answer closed the connection: nothing more is read.
    Closed,
}

impl Conn {
    /// A new connection's state.
    pub fn new(limits: Limits) -> Conn {
        Conn {
            limits,
            state: State::Head,
            scanned: 0,
            line_seen: false,
            head: Head::default(),
            body: Vec::new(),
            framing: 0,
            closing: false,
            send_continue: true,
            one: false,
        }
    }

    /// From now on, the next answer says `Connection: close` and is the last (shutdown). A
    /// request already partly read is still finished and answered.
    pub fn close_after_next(&mut self) {
        self.closing = true;
    }

    /// Where the connection is, given the unconsumed bytes the loop holds.
    pub fn phase(&self, unconsumed: usize) -> Phase {
        match self.state {
            State::Head | State::Closed if unconsumed == 0 => Phase::Idle,
            State::Head | State::Closed => Phase::Head,
            State::Fixed(_) | State::Chunked(_) => Phase::Body,
        }
    }

    /// Body bytes received so far for the request being read.
    pub fn body_received(&self) -> usize {
        self.body.len()
    }

    /// Bytes the connection's state holds on to (its body buffer's capacity).
    pub fn retained(&self) -> usize {
        self.body.capacity()
    }

    /// Answers every complete request at the front of `buf` into `out`, decoding a body as far
    /// as it has arrived. Stops after an answer that closes the connection, or before starting
    /// a request once `out` holds `out_bound` bytes or more (`more`).
    pub fn advance(
        &mut self,
        buf: &[u8],
        out: &mut Vec<u8>,
        date: &[u8],
        out_bound: usize,
    ) -> Progress {
        let mut p = Progress::default();
        loop {
            match self.state {
                State::Closed => {
                    p.close = true;
                    p.consumed = buf.len();
                    return p;
                }
                State::Head => {
                    // Empty lines before a request line are skipped (RFC 9112 §2.2).
                    while buf[p.consumed..].starts_with(b"\r\n") {
                        p.consumed += 2;
                        self.scanned = 0;
                        self.line_seen = false;
                    }
                    let rest = &buf[p.consumed..];
                    if rest.is_empty() || rest == b"\r" {
                        return p;
                    }
                    if out.len() >= out_bound {
                        p.more = true;
                        return p;
                    }
                    match self.parse_head(rest) {
                        HeadStep::Partial => {
                            p.in_headers = true;
                            return p;
                        }
                        HeadStep::Error(status) => {
                            return self.fail(&mut p, buf, out, status, date);
                        }
                        HeadStep::Done {
                            head,
                            len,
                            body,
                            expect_continue,
                        } => {
                            p.consumed += len;
                            self.scanned = 0;
                            self.line_seen = false;
                            self.head = head;
                            self.framing = 0;
                            self.body.clear();
                            match body {
                                Framing::Fixed(n) if n > self.limits.max_body => {
                                    return self.fail(&mut p, buf, out, 413, date);
                                }
                                Framing::Fixed(n) => {
                                    self.state = State::Fixed(n);
                                    if n > 0 {
                                        self.body.reserve(n.min(64 * 1024));
                                    }
                                }
                                Framing::Chunked => self.state = State::Chunked(Chunk::SizeStart),
                            }
                            let body_started = p.consumed < buf.len();
                            let body_pending = self.state != State::Fixed(0);
                            if expect_continue
                                && self.send_continue
                                && body_pending
                                && !body_started
                            {
                                out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                            }
                        }
                    }
                }
                State::Fixed(left) => {
                    let take = left.min(buf.len() - p.consumed);
                    count(take);
                    self.body
                        .extend_from_slice(&buf[p.consumed..p.consumed + take]);
                    p.consumed += take;
                    if take < left {
                        self.state = State::Fixed(left - take);
                        return p;
                    }
                    if self.finish(&mut p, out, date) {
                        p.consumed = buf.len();
                        return p;
                    }
                    if self.one {
                        return p;
                    }
                }
                State::Chunked(c) => match self.decode_chunked(c, buf, &mut p.consumed) {
                    Ok(Some(())) => {
                        if self.finish(&mut p, out, date) {
                            p.consumed = buf.len();
                            return p;
                        }
                        if self.one {
                            return p;
                        }
                    }
                    Ok(None) => return p,
                    Err(status) => return self.fail(&mut p, buf, out, status, date),
                },
            }
        }
    }

    /// Answers the request just read; true if the connection closes after it.
    fn finish(&mut self, p: &mut Progress, out: &mut Vec<u8>, date: &[u8]) -> bool {
        let mut head = self.head;
        if self.closing {
            head.keep_alive = false;
        }
        route(&head, &self.body, out, date);
        p.answered += 1;
        self.body.clear();
        if self.body.capacity() > KEEP_BODY {
            self.body = Vec::new();
        }
        if head.keep_alive {
            self.state = State::Head;
            false
        } else {
            self.state = State::Closed;
            p.close = true;
            true
        }
    }

    fn fail(
        &mut self,
        p: &mut Progress,
        buf: &[u8],
        out: &mut Vec<u8>,
        status: u16,
        date: &[u8],
    ) -> Progress {
        write_error(out, status, date);
        p.answered += 1;
        p.close = true;
        p.in_headers = false;
        // Nothing after a framing error can be trusted: consume it all.
        p.consumed = buf.len();
        self.state = State::Closed;
        self.body = Vec::new();
        *p
    }

    /// Looks for the end of the header section in the bytes not searched yet, checking each
    /// byte once on the way; parses the section when it is complete.
    fn parse_head(&mut self, buf: &[u8]) -> HeadStep {
        let limits = &self.limits;
        let start = self.scanned;
        let mut end = None;
        let mut i = start;
        while i < buf.len() {
            // Most bytes are ordinary: skip them eight at a time.
            if let Some(word) = buf.get(i..i + 8) {
                if ordinary8(u64::from_le_bytes(word.try_into().expect("eight bytes"))) {
                    i += 8;
                    continue;
                }
            }
            let b = buf[i];
            match b {
                b'\n' => {
                    if i == 0 || buf[i - 1] != b'\r' {
                        return HeadStep::Error(400);
                    }
                    // The request line limit, checked first so that a long line is 414 and
                    // not 431.
                    if !self.line_seen {
                        if i > limits.max_request_line + 1 {
                            return HeadStep::Error(414);
                        }
                        self.line_seen = true;
                    }
                    if i >= 3 && &buf[i - 3..i] == b"\r\n\r" {
                        end = Some(i + 1);
                        break;
                    }
                    // obs-fold, or whitespace before the first field name.
                    if matches!(buf.get(i + 1), Some(b' ' | b'\t')) {
                        return HeadStep::Error(400);
                    }
                }
                b'\r' => {
                    if matches!(buf.get(i + 1), Some(&c) if c != b'\n') {
                        return HeadStep::Error(400);
                    }
                }
                b'\t' => {}
                0..=0x1f | 0x7f => return HeadStep::Error(400),
                _ => {}
            }
            i += 1;
        }
        if !self.line_seen && buf.len() > limits.max_request_line + 1 {
            return HeadStep::Error(414);
        }
        count(i - start);
        let Some(end) = end else {
            if buf.len() > limits.max_header {
                return HeadStep::Error(431);
            }
            // A CR at the very end is looked at again with its successor.
            self.scanned = buf.len().saturating_sub(1).max(start);
            return HeadStep::Partial;
        };
        if end > limits.max_header {
            return HeadStep::Error(431);
        }
        count(end);
        parse_complete_head(&buf[..end])
    }
}

/// Whether none of the eight bytes in `w` is a control character (below 0x20, or DEL): none
/// is CR, LF or anything a header section forbids, so the scan has nothing to check in them.
/// (Tab is allowed, but takes the byte-by-byte path.)
fn ordinary8(w: u64) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // A byte below n (n <= 0x80) sets its high bit in (w - n) & !w; a zero byte (here: a DEL
    // byte of w, zeroed by the xor) sets it in (x - 1) & !x. Exact for "any", which is all we ask.
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
    let x = w ^ (ONES * 0x7f);
    let del = x.wrapping_sub(ONES) & !x & HIGHS;
    below_space | del == 0
}

/// Answers every complete request at the front of `buf`, appending the responses to `out`,
/// with no state kept between calls: `consumed` counts only whole requests, and a partial one
/// is parsed again from its first byte next time. For loops that keep no [`Conn`] (the tokio
/// twin in the benches, unit tests); a server facing untrusted clients uses [`Conn`].
pub fn respond(buf: &[u8], out: &mut Vec<u8>, limits: &Limits, date: &[u8]) -> Progress {
    let mut total = Progress::default();
    let mut done = 0;
    loop {
        let mut conn = Conn::new(*limits);
        conn.send_continue = false;
        conn.one = true;
        let p = conn.advance(&buf[done..], out, date, usize::MAX);
        total.answered += p.answered;
        if p.close {
            total.close = true;
            total.consumed = buf.len();
            return total;
        }
        if p.answered == 0 {
            total.consumed = done;
            total.in_headers = conn.phase(buf.len() - done) == Phase::Head;
            return total;
        }
        done += p.consumed;
    }
}

#[cfg(test)]
mod tests {
    use super::ordinary8;

    fn naive(bytes: [u8; 8]) -> bool {
        bytes.iter().all(|&b| b >= 0x20 && b != 0x7f)
    }

    #[test]
    fn ordinary8_agrees_with_the_byte_by_byte_rule() {
        // Every byte value at every position, among ordinary bytes and among high ones.
        for fill in [b'a', 0x80, 0xff, b' '] {
            for pos in 0..8 {
                for b in 0..=255u8 {
                    let mut w = [fill; 8];
                    w[pos] = b;
                    assert_eq!(ordinary8(u64::from_le_bytes(w)), naive(w), "{w:?}");
                }
            }
        }
        // Pseudo-random words, control bytes next to high bytes included.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let w = x.to_le_bytes();
            assert_eq!(ordinary8(x), naive(w), "{w:?}");
        }
    }
}
