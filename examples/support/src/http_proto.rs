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
//!   this is not a proxy. An unknown method (a valid token) is 501; a version other than
//!   HTTP/1.0 and HTTP/1.1 is 505.
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

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

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

const HELLO: &[u8] = b"Hello, World!";

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

/// Where the chunked decoder is (RFC 9112 §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chunk {
    /// At the start of a chunk-size line.
    SizeStart,
    /// In the hex digits: the size so far and the line length so far.
    Size {
        size: usize,
        line: usize,
    },
    /// After the digits and some whitespace: only `;` may follow.
    SizeWs {
        size: usize,
        line: usize,
    },
    /// In the extensions.
    Ext {
        size: usize,
        line: usize,
    },
    /// Saw the CR ending a size line.
    SizeLf {
        size: usize,
    },
    /// In a chunk's data: bytes left.
    Data(usize),
    /// After the data: CR, then LF.
    DataCr,
    DataLf,
    /// At the start of a trailer line (or the final CRLF): trailer bytes and fields so far.
    TrailerStart {
        bytes: usize,
        fields: usize,
    },
    /// In a trailer field's name.
    TrailerName {
        bytes: usize,
        fields: usize,
    },
    /// In a trailer field's value.
    TrailerValue {
        bytes: usize,
        fields: usize,
    },
    /// Saw the CR ending a trailer line (`end`: it was the empty line).
    TrailerLf {
        bytes: usize,
        fields: usize,
        end: bool,
    },
}

/// What the router needs of a request's head.
#[derive(Clone, Copy, Debug, Default)]
struct Head {
    method: Method,
    target: Target,
    http10: bool,
    keep_alive: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Method {
    #[default]
    Get,
    Head,
    Post,
    Put,
    Delete,
    Options,
    Trace,
    Patch,
    Connect,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Target {
    #[default]
    Root,
    Echo,
    Asterisk,
    Authority,
    Other,
}

/// The outcome of a header section.
enum HeadStep {
    /// More bytes needed.
    Partial,
    /// An error status (then close).
    Error(u16),
    /// A complete head of `len` bytes; the body framing; whether to send `100 Continue`.
    Done {
        head: Head,
        len: usize,
        body: Framing,
        expect_continue: bool,
    },
}

enum Framing {
    Fixed(usize),
    Chunked,
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

    /// Runs the chunked decoder over `buf[*pos..]`: `Ok(Some(()))` when the body (trailers
    /// included) is complete, `Ok(None)` when it needs more bytes, `Err(status)` on a framing
    /// error or a limit.
    fn decode_chunked(
        &mut self,
        mut c: Chunk,
        buf: &[u8],
        pos: &mut usize,
    ) -> Result<Option<()>, u16> {
        let max_body = self.limits.max_body;
        let max_framing = max_body.saturating_mul(2).saturating_add(64 * 1024);
        let max_trailer = self.limits.max_header;
        let mut i = *pos;
        let result = loop {
            if let Chunk::Data(left) = c {
                let take = left.min(buf.len() - i);
                self.body.extend_from_slice(&buf[i..i + take]);
                i += take;
                if take < left {
                    c = Chunk::Data(left - take);
                    break Ok(None);
                }
                c = Chunk::DataCr;
                continue;
            }
            let Some(&b) = buf.get(i) else {
                break Ok(None);
            };
            i += 1;
            self.framing += 1;
            if self.framing > max_framing {
                break Err(413);
            }
            c = match c {
                Chunk::SizeStart => match hex(b) {
                    Some(d) => Chunk::Size { size: d, line: 1 },
                    None => break Err(400),
                },
                Chunk::Size { line, .. } | Chunk::SizeWs { line, .. } | Chunk::Ext { line, .. }
                    if line >= MAX_CHUNK_LINE =>
                {
                    break Err(400);
                }
                Chunk::Size { size, line } => match b {
                    b'\r' => Chunk::SizeLf { size },
                    b';' => Chunk::Ext {
                        size,
                        line: line + 1,
                    },
                    b' ' | b'\t' => Chunk::SizeWs {
                        size,
                        line: line + 1,
                    },
                    _ => match hex(b) {
                        Some(d) => {
                            let size = match size.checked_mul(16).and_then(|s| s.checked_add(d)) {
                                Some(s) if s <= max_body => s,
                                // Larger than any body we take: 413 whatever it says.
                                _ => break Err(413),
                            };
                            Chunk::Size {
                                size,
                                line: line + 1,
                            }
                        }
                        None => break Err(400),
                    },
                },
                Chunk::SizeWs { size, line } => match b {
                    b' ' | b'\t' => Chunk::SizeWs {
                        size,
                        line: line + 1,
                    },
                    b';' => Chunk::Ext {
                        size,
                        line: line + 1,
                    },
                    _ => break Err(400),
                },
                Chunk::Ext { size, line } => match b {
                    b'\r' => Chunk::SizeLf { size },
                    b'\t' | b' '..=b'~' | 0x80..=0xff => Chunk::Ext {
                        size,
                        line: line + 1,
                    },
                    _ => break Err(400),
                },
                Chunk::SizeLf { size } => {
                    if b != b'\n' {
                        break Err(400);
                    }
                    if size == 0 {
                        Chunk::TrailerStart {
                            bytes: 0,
                            fields: 0,
                        }
                    } else {
                        if self.body.len() + size > max_body {
                            break Err(413);
                        }
                        Chunk::Data(size)
                    }
                }
                Chunk::Data(_) => unreachable!("handled above"),
                Chunk::DataCr => match b {
                    b'\r' => Chunk::DataLf,
                    _ => break Err(400),
                },
                Chunk::DataLf => match b {
                    b'\n' => Chunk::SizeStart,
                    _ => break Err(400),
                },
                Chunk::TrailerStart { bytes, fields }
                | Chunk::TrailerName { bytes, fields }
                | Chunk::TrailerValue { bytes, fields }
                    if bytes >= max_trailer || fields > MAX_HEADERS =>
                {
                    break Err(431);
                }
                Chunk::TrailerStart { bytes, fields } => match b {
                    b'\r' => Chunk::TrailerLf {
                        bytes: bytes + 1,
                        fields,
                        end: true,
                    },
                    _ if is_tchar(b) => Chunk::TrailerName {
                        bytes: bytes + 1,
                        fields: fields + 1,
                    },
                    // obs-fold, a missing name, a bare LF, a control character.
                    _ => break Err(400),
                },
                Chunk::TrailerName { bytes, fields } => match b {
                    b':' => Chunk::TrailerValue {
                        bytes: bytes + 1,
                        fields,
                    },
                    _ if is_tchar(b) => Chunk::TrailerName {
                        bytes: bytes + 1,
                        fields,
                    },
                    _ => break Err(400),
                },
                Chunk::TrailerValue { bytes, fields } => match b {
                    b'\r' => Chunk::TrailerLf {
                        bytes: bytes + 1,
                        fields,
                        end: false,
                    },
                    b'\t' | b' '..=b'~' | 0x80..=0xff => Chunk::TrailerValue {
                        bytes: bytes + 1,
                        fields,
                    },
                    _ => break Err(400),
                },
                Chunk::TrailerLf { bytes, fields, end } => {
                    if b != b'\n' {
                        break Err(400);
                    }
                    if end {
                        break Ok(Some(()));
                    }
                    Chunk::TrailerStart {
                        bytes: bytes + 1,
                        fields,
                    }
                }
            };
        };
        count(i - *pos);
        *pos = i;
        if let Ok(None) = result {
            self.state = State::Chunked(c);
        }
        result
    }
}

/// Parses a complete header section (its bytes end with the blank line; every line ending
/// and control character in it is already checked).
fn parse_complete_head(buf: &[u8]) -> HeadStep {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return HeadStep::Error(400),
        Err(httparse::Error::TooManyHeaders) => return HeadStep::Error(431),
        Err(httparse::Error::Version) => return HeadStep::Error(version_status(buf)),
        Err(_) => return HeadStep::Error(400),
    }
    let http10 = req.version == Some(0);
    let Some(method) = parse_method(req.method.unwrap_or("")) else {
        return HeadStep::Error(501);
    };
    let Some(target) = parse_target(method, req.path.unwrap_or("")) else {
        return HeadStep::Error(400);
    };

    let mut content_length: Option<usize> = None;
    let mut te_seen = false;
    let mut chunked = false;
    // A coding after `chunked`, `chunked` twice: the framing is unknowable.
    let mut te_bad_order = false;
    let mut te_unknown = false;
    let mut hosts = 0;
    let mut close = false;
    let mut keep_alive_token = false;
    let mut expect_continue = false;
    let mut expect_other = false;
    for h in req.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case("content-length") {
            if content_length.is_some() {
                return HeadStep::Error(400);
            }
            match parse_content_length(h.value) {
                Some(n) => content_length = Some(n),
                None => return HeadStep::Error(400),
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            te_seen = true;
            for coding in h.value.split(|&b| b == b',').map(trim) {
                if coding.is_empty() {
                    continue;
                }
                if chunked {
                    // Anything after `chunked` (another `chunked` included).
                    te_bad_order = true;
                }
                if coding.eq_ignore_ascii_case(b"chunked") {
                    chunked = true;
                } else {
                    te_unknown = true;
                }
            }
        } else if name.eq_ignore_ascii_case("host") {
            hosts += 1;
            if !valid_host(trim(h.value)) {
                return HeadStep::Error(400);
            }
        } else if name.eq_ignore_ascii_case("connection") {
            for token in h.value.split(|&b| b == b',') {
                let token = trim(token);
                close |= token.eq_ignore_ascii_case(b"close");
                keep_alive_token |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name.eq_ignore_ascii_case("expect") && !http10 {
            if trim(h.value).eq_ignore_ascii_case(b"100-continue") {
                expect_continue = true;
            } else {
                expect_other = true;
            }
        }
    }
    if hosts > 1 || (!http10 && hosts != 1) {
        return HeadStep::Error(400);
    }
    let mut keep_alive = if http10 {
        keep_alive_token && !close
    } else {
        !close
    };
    let body = if te_seen {
        if content_length.is_some() || !chunked || te_bad_order {
            return HeadStep::Error(400);
        }
        if te_unknown {
            return HeadStep::Error(501);
        }
        // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding closes after it.
        if http10 {
            keep_alive = false;
        }
        Framing::Chunked
    } else {
        Framing::Fixed(content_length.unwrap_or(0))
    };
    if expect_other {
        return HeadStep::Error(417);
    }
    if method == Method::Connect {
        // Not a proxy; and what follows a CONNECT is not HTTP.
        return HeadStep::Error(405);
    }
    HeadStep::Done {
        head: Head {
            method,
            target,
            http10,
            keep_alive,
        },
        len: buf.len(),
        body,
        expect_continue,
    }
}

/// 505 for a well-formed `HTTP/x.y` other than 1.0 and 1.1, else 400.
fn version_status(buf: &[u8]) -> u16 {
    let line = &buf[..memchr(b'\r', buf).unwrap_or(buf.len())];
    match line.rsplit(|&b| b == b' ').next() {
        Some([b'H', b'T', b'T', b'P', b'/', a, b'.', b])
            if a.is_ascii_digit() && b.is_ascii_digit() =>
        {
            505
        }
        _ => 400,
    }
}

fn parse_method(m: &str) -> Option<Method> {
    Some(match m {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "OPTIONS" => Method::Options,
        "TRACE" => Method::Trace,
        "PATCH" => Method::Patch,
        "CONNECT" => Method::Connect,
        _ => return None,
    })
}

/// The request-target's form, checked against the method (RFC 9112 §3.2); `None` is 400.
fn parse_target(method: Method, t: &str) -> Option<Target> {
    let t = t.as_bytes();
    if method == Method::Connect {
        // authority-form = uri-host ":" port, the port not empty.
        let has_port = match t.iter().rposition(|&b| b == b':') {
            Some(i) => i + 1 < t.len() && !t[i..].contains(&b']'),
            None => false,
        };
        return (valid_authority(t) && has_port).then_some(Target::Authority);
    }
    if t == b"*" {
        return (method == Method::Options).then_some(Target::Asterisk);
    }
    let path = if t.first() == Some(&b'/') {
        t
    } else {
        // absolute-form: scheme "://" authority [path-abempty] ["?" query]
        let sep = find(t, b"://")?;
        let scheme = &t[..sep];
        if !scheme.eq_ignore_ascii_case(b"http") && !scheme.eq_ignore_ascii_case(b"https") {
            return None;
        }
        let rest = &t[sep + 3..];
        let auth_end = rest
            .iter()
            .position(|&b| b == b'/' || b == b'?')
            .unwrap_or(rest.len());
        let authority = &rest[..auth_end];
        // userinfo is deprecated for http(s) and a known way to confuse a host check.
        if !valid_authority(authority) || authority.contains(&b'@') {
            return None;
        }
        match rest.get(auth_end) {
            Some(b'/') => &rest[auth_end..],
            _ => b"/",
        }
    };
    let path = &path[..path.iter().position(|&b| b == b'?').unwrap_or(path.len())];
    Some(match path {
        b"/" => Target::Root,
        b"/echo" => Target::Echo,
        _ => Target::Other,
    })
}

/// `uri-host [":" port]`, not empty (the authority of a CONNECT or an absolute-form target).
fn valid_authority(a: &[u8]) -> bool {
    !a.is_empty() && !a.starts_with(b":") && valid_host(a)
}

/// A `Host` value: `uri-host [":" port]` (RFC 9110 §7.2), possibly empty.
fn valid_host(h: &[u8]) -> bool {
    let (host, port) = if let Some(rest) = h.strip_prefix(b"[") {
        // IP-literal.
        let Some(close) = memchr(b']', rest) else {
            return false;
        };
        let inner = &rest[..close];
        if inner.is_empty()
            || !inner
                .iter()
                .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return false;
        }
        match &rest[close + 1..] {
            [] => (&b""[..], None),
            [b':', port @ ..] => (&b""[..], Some(port)),
            _ => return false,
        }
    } else {
        match h.iter().rposition(|&b| b == b':') {
            Some(i) => (&h[..i], Some(&h[i + 1..])),
            None => (h, None),
        }
    };
    let host_ok = host
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&b));
    let port_ok = port.is_none_or(|p| p.len() <= 5 && p.iter().all(u8::is_ascii_digit));
    host_ok && port_ok
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn hex(b: u8) -> Option<usize> {
    match b {
        b'0'..=b'9' => Some(usize::from(b - b'0')),
        b'a'..=b'f' => Some(usize::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(usize::from(b - b'A' + 10)),
        _ => None,
    }
}

/// Plain decimal digits only (no sign, no list, no spaces inside), without overflow.
fn parse_content_length(v: &[u8]) -> Option<usize> {
    let v = trim(v);
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    v.iter().try_fold(0usize, |n, &d| {
        n.checked_mul(10)?.checked_add(usize::from(d - b'0'))
    })
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

/// What [`route`] answers.
fn route(req: &Head, body: &[u8], out: &mut Vec<u8>, date: &[u8]) {
    let conn = connection_header(req);
    let head_only = req.method == Method::Head;
    let (status, ctype, content, allow): (u16, &str, &[u8], &[u8]) = match (req.method, req.target)
    {
        (Method::Get | Method::Head, Target::Root) => (200, "text/plain", HELLO, b""),
        (Method::Post, Target::Echo) => (200, "application/octet-stream", body, b""),
        (Method::Options, Target::Asterisk) => (
            200,
            "text/plain",
            b"",
            b"Allow: GET, HEAD, POST, OPTIONS\r\n",
        ),
        (Method::Options, Target::Root) => {
            (200, "text/plain", b"", b"Allow: GET, HEAD, OPTIONS\r\n")
        }
        (Method::Options, Target::Echo) => (200, "text/plain", b"", b"Allow: POST, OPTIONS\r\n"),
        (_, Target::Root) => (405, "text/plain", b"", b"Allow: GET, HEAD, OPTIONS\r\n"),
        (_, Target::Echo) => (405, "text/plain", b"", b"Allow: POST, OPTIONS\r\n"),
        _ => (404, "text/plain", b"Not Found", b""),
    };
    head(out, status, ctype, content.len(), conn, allow, date);
    if !head_only {
        out.extend_from_slice(content);
    }
}

/// The `Connection` header line an answer needs, if any.
fn connection_header(req: &Head) -> &'static [u8] {
    match (req.http10, req.keep_alive) {
        (true, true) => b"Connection: keep-alive\r\n",
        (_, false) => b"Connection: close\r\n",
        (false, true) => b"",
    }
}

fn head(
    out: &mut Vec<u8>,
    status: u16,
    ctype: &str,
    len: usize,
    conn: &[u8],
    extra: &[u8],
    date: &[u8],
) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status_line(status).as_bytes());
    out.extend_from_slice(b"\r\nServer: coreloop\r\nContent-Type: ");
    out.extend_from_slice(ctype.as_bytes());
    out.extend_from_slice(b"\r\nContent-Length: ");
    push_decimal(out, len);
    out.extend_from_slice(b"\r\nDate: ");
    out.extend_from_slice(date);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(extra);
    out.extend_from_slice(conn);
    out.extend_from_slice(b"\r\n");
}

/// Appends an error answer (no content) that closes the connection: for the loop's own
/// errors (a request timed out) as well as the parser's.
pub fn write_error(out: &mut Vec<u8>, status: u16, date: &[u8]) {
    head(
        out,
        status,
        "text/plain",
        0,
        b"Connection: close\r\n",
        b"",
        date,
    );
}

fn status_line(status: u16) -> &'static str {
    match status {
        200 => "200 OK",
        400 => "400 Bad Request",
        404 => "404 Not Found",
        405 => "405 Method Not Allowed",
        408 => "408 Request Timeout",
        413 => "413 Content Too Large",
        414 => "414 URI Too Long",
        417 => "417 Expectation Failed",
        431 => "431 Request Header Fields Too Large",
        501 => "501 Not Implemented",
        505 => "505 HTTP Version Not Supported",
        _ => "500 Internal Server Error",
    }
}

fn push_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The `Date` header value (IMF-fixdate), formatted at most once a second per thread.
pub struct DateCache {
    second: u64,
    text: [u8; 29],
}

impl Default for DateCache {
    fn default() -> DateCache {
        DateCache::new()
    }
}

impl DateCache {
    /// A cache holding the current second's date.
    pub fn new() -> DateCache {
        let mut c = DateCache {
            second: u64::MAX,
            text: [b' '; 29],
        };
        c.refresh();
        c
    }

    /// The date, reformatted only if the second has changed since the last call.
    pub fn get(&mut self) -> &[u8] {
        self.refresh();
        &self.text
    }

    fn refresh(&mut self) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if now != self.second {
            self.second = now;
            self.text = imf_fixdate(now);
        }
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` for `secs` since the epoch (RFC 9110 §5.6.7).
pub fn imf_fixdate(secs: u64) -> [u8; 29] {
    const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    let mut t = [0u8; 29];
    t[..3].copy_from_slice(DAYS[(days % 7) as usize]);
    t[3..5].copy_from_slice(b", ");
    two(&mut t[5..7], d as u64);
    t[7] = b' ';
    t[8..11].copy_from_slice(MONTHS[(m - 1) as usize]);
    t[11] = b' ';
    let y = y as u64;
    two(&mut t[12..14], y / 100);
    two(&mut t[14..16], y % 100);
    t[16] = b' ';
    two(&mut t[17..19], rem / 3600);
    t[19] = b':';
    two(&mut t[20..22], rem / 60 % 60);
    t[22] = b':';
    two(&mut t[23..25], rem % 60);
    t[25..29].copy_from_slice(b" GMT");
    t
}

fn two(dst: &mut [u8], n: u64) {
    dst[0] = b'0' + (n / 10 % 10) as u8;
    dst[1] = b'0' + (n % 10) as u8;
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
