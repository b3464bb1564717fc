//! HTTP/1.1 (RFC 9112) request handling as plain functions over byte buffers: framing,
//! limits, routes and the cached `Date` header.
//!
//! There is one copy of this file. `examples/http.rs` and the facade's tests include it with
//! `#[path]`, and so does `coreloop-benches` (its tokio server), so every server that the
//! benches compare parses and answers with the same code; only the I/O loop around it differs.
//!
//! The loop calls [`respond`] with everything read so far that was not yet consumed. It answers
//! every complete request in the buffer (pipelining), appending the responses to one output
//! buffer so that they leave in one write, and says how many bytes it consumed, whether the
//! connection must close after the write, and whether a request is partly read (headers still
//! coming: the slowloris timer runs; otherwise the idle timer runs).
//!
//! Decisions, where the RFC leaves room:
//! - A request line longer than [`Limits::max_request_line`] is 414; a header section
//!   (request line included) longer than [`Limits::max_header`] is 431; both close.
//! - Duplicate `Content-Length` headers are 400 even when they agree (the issue asks for it;
//!   RFC 9112 §6.3 allows either), as are a `Content-Length` that is not plain digits, both
//!   `Transfer-Encoding` and `Content-Length`, a `Transfer-Encoding` whose final coding is
//!   not `chunked`, and an HTTP/1.1 request without exactly one `Host`. Codings other than
//!   `chunked` before it are 501. Every error response closes the connection.
//! - A body longer than [`Limits::max_body`] is 413 and closes, without reading the body; so
//!   is a chunked body whose framing (sizes, extensions) takes more than twice that plus
//!   64 KiB on the wire.
//! - HTTP/1.0 closes unless it asked for `keep-alive`; then the answer says `keep-alive` too.

use std::time::{SystemTime, UNIX_EPOCH};

/// How much a request may be.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The request line, without its CRLF (default 8 KiB).
    pub max_request_line: usize,
    /// The request line and headers, up to and including the blank line (default 16 KiB).
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

/// What [`respond`] did with a buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Bytes at the front of the buffer that were complete requests (answered).
    pub consumed: usize,
    /// Requests answered.
    pub answered: usize,
    /// Close the connection after writing the output (error, `Connection: close`, HTTP/1.0).
    pub close: bool,
    /// Bytes of an unfinished request remain, and its header section is not complete yet.
    pub in_headers: bool,
}

/// How many headers a request may have (more is 431).
const MAX_HEADERS: usize = 100;
/// A chunk-size line (with extensions) longer than this is 400.
const MAX_CHUNK_LINE: usize = 4096;

const HELLO: &[u8] = b"Hello, World!";

/// Answers every complete request at the front of `buf`, appending the responses to `out`.
/// Stops after a request whose answer closes the connection.
pub fn respond(buf: &[u8], out: &mut Vec<u8>, limits: &Limits, date: &[u8]) -> Progress {
    let mut p = Progress::default();
    while p.consumed < buf.len() {
        match parse_one(&buf[p.consumed..], limits) {
            Step::Partial { in_headers } => {
                p.in_headers = in_headers;
                break;
            }
            Step::Error(status) => {
                write_error(out, status, date);
                p.answered += 1;
                p.close = true;
                // Nothing after a framing error can be trusted: consume it all.
                p.consumed = buf.len();
                break;
            }
            Step::Done(req) => {
                route(&req, &buf[p.consumed..], out, date);
                p.answered += 1;
                p.consumed += req.len;
                if !req.keep_alive {
                    p.close = true;
                    break;
                }
            }
        }
    }
    p
}

/// One complete request: where its parts are, relative to its first byte.
#[derive(Debug)]
struct Request {
    get: bool,
    post: bool,
    path_root: bool,
    path_echo: bool,
    http10: bool,
    keep_alive: bool,
    body: Body,
    /// Bytes the request takes, body included.
    len: usize,
}

#[derive(Debug)]
enum Body {
    /// `start..end` of the request's bytes.
    Plain(usize, usize),
    /// The data parts of each chunk, in order.
    Chunked(Vec<(usize, usize)>),
}

enum Step {
    Partial { in_headers: bool },
    Error(u16),
    Done(Request),
}

fn parse_one(buf: &[u8], limits: &Limits) -> Step {
    // The request line limit, checked before httparse so that a long line is 414 and not 431.
    match memchr(b'\n', buf) {
        Some(i) if i > limits.max_request_line + 1 => return Step::Error(414),
        None if buf.len() > limits.max_request_line + 1 => return Step::Error(414),
        _ => {}
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) if n > limits.max_header => return Step::Error(431),
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() > limits.max_header => {
            return Step::Error(431);
        }
        Ok(httparse::Status::Partial) => return Step::Partial { in_headers: true },
        Err(httparse::Error::TooManyHeaders) => return Step::Error(431),
        Err(_) => return Step::Error(400),
    };
    let http10 = req.version == Some(0);
    let method = req.method.unwrap_or("");
    let path = req.path.unwrap_or("");

    let mut content_length: Option<u64> = None;
    let mut transfer_encoding: Option<&[u8]> = None;
    let mut hosts = 0;
    let mut close = false;
    let mut keep_alive_token = false;
    for h in req.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case("content-length") {
            if content_length.is_some() {
                return Step::Error(400);
            }
            match parse_content_length(h.value) {
                Some(n) => content_length = Some(n),
                None => return Step::Error(400),
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            if transfer_encoding.is_some() {
                // Two lists are one list joined by commas; keeping it simple, refuse.
                return Step::Error(400);
            }
            transfer_encoding = Some(h.value);
        } else if name.eq_ignore_ascii_case("host") {
            hosts += 1;
        } else if name.eq_ignore_ascii_case("connection") {
            for token in h.value.split(|&b| b == b',') {
                let token = trim(token);
                close |= token.eq_ignore_ascii_case(b"close");
                keep_alive_token |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        }
    }
    if !http10 && hosts != 1 {
        return Step::Error(400);
    }
    let keep_alive = if http10 {
        keep_alive_token && !close
    } else {
        !close
    };

    let (body, len) = match (transfer_encoding, content_length) {
        (Some(_), Some(_)) => return Step::Error(400),
        (Some(te), None) => {
            let mut codings = te.split(|&b| b == b',').map(trim);
            let last = codings.next_back().unwrap_or(b"");
            if !last.eq_ignore_ascii_case(b"chunked") {
                return Step::Error(400);
            }
            if codings.next().is_some() {
                return Step::Error(501);
            }
            match parse_chunked(&buf[head_len..], limits) {
                Chunked::Partial => return Step::Partial { in_headers: false },
                Chunked::Error(s) => return Step::Error(s),
                Chunked::Done { chunks, len } => {
                    let chunks = chunks
                        .into_iter()
                        .map(|(a, b)| (a + head_len, b + head_len))
                        .collect();
                    (Body::Chunked(chunks), head_len + len)
                }
            }
        }
        (None, cl) => {
            let n = cl.unwrap_or(0);
            if n > limits.max_body as u64 {
                return Step::Error(413);
            }
            let end = head_len + n as usize;
            if buf.len() < end {
                return Step::Partial { in_headers: false };
            }
            (Body::Plain(head_len, end), end)
        }
    };
    Step::Done(Request {
        get: method == "GET",
        post: method == "POST",
        path_root: path == "/",
        path_echo: path == "/echo",
        http10,
        keep_alive,
        body,
        len,
    })
}

/// Plain decimal digits only (no sign, no list, no spaces inside), without overflow.
fn parse_content_length(v: &[u8]) -> Option<u64> {
    let v = trim(v);
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    v.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

enum Chunked {
    Partial,
    Error(u16),
    Done {
        chunks: Vec<(usize, usize)>,
        len: usize,
    },
}

/// Parses a chunked body (RFC 9112 §7.1) from its first byte: chunk-size [; ext] CRLF,
/// data CRLF, …, `0` CRLF, trailer fields, CRLF. Trailers are read and dropped.
fn parse_chunked(buf: &[u8], limits: &Limits) -> Chunked {
    let mut chunks = Vec::new();
    let mut pos = 0;
    let mut total = 0usize;
    // Framing may not cost more than the data: tiny chunks with long extensions would
    // otherwise make the buffered request grow far past `max_body`.
    let max_raw = limits.max_body.saturating_mul(2).saturating_add(64 * 1024);
    loop {
        if pos > max_raw {
            return Chunked::Error(413);
        }
        let Some(nl) = memchr(b'\n', &buf[pos..]) else {
            return if buf.len() - pos > MAX_CHUNK_LINE {
                Chunked::Error(400)
            } else {
                Chunked::Partial
            };
        };
        if nl > MAX_CHUNK_LINE || nl == 0 || buf[pos + nl - 1] != b'\r' {
            return Chunked::Error(400);
        }
        let line = &buf[pos..pos + nl - 1];
        let size_part = match memchr(b';', line) {
            Some(i) => &line[..i],
            None => line,
        };
        let size_part = trim(size_part);
        if size_part.is_empty() || size_part.len() > 15 {
            return Chunked::Error(400);
        }
        let mut size = 0usize;
        for &c in size_part {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return Chunked::Error(400),
            };
            size = size * 16 + d as usize;
        }
        pos += nl + 1;
        if size == 0 {
            // Trailer section: header lines until an empty line.
            loop {
                let Some(nl) = memchr(b'\n', &buf[pos..]) else {
                    return if buf.len() - pos > limits.max_header {
                        Chunked::Error(431)
                    } else {
                        Chunked::Partial
                    };
                };
                if nl == 0 || buf[pos + nl - 1] != b'\r' {
                    return Chunked::Error(400);
                }
                pos += nl + 1;
                if nl == 1 {
                    return Chunked::Done { chunks, len: pos };
                }
            }
        }
        total += size;
        if total > limits.max_body {
            return Chunked::Error(413);
        }
        if buf.len() < pos + size + 2 {
            return Chunked::Partial;
        }
        if &buf[pos + size..pos + size + 2] != b"\r\n" {
            return Chunked::Error(400);
        }
        chunks.push((pos, pos + size));
        pos += size + 2;
    }
}

fn route(req: &Request, bytes: &[u8], out: &mut Vec<u8>, date: &[u8]) {
    let conn = connection_header(req);
    if req.get && req.path_root {
        head(out, 200, "text/plain", HELLO.len(), conn, date);
        out.extend_from_slice(HELLO);
    } else if req.post && req.path_echo {
        match &req.body {
            Body::Plain(a, b) => {
                head(out, 200, "application/octet-stream", b - a, conn, date);
                out.extend_from_slice(&bytes[*a..*b]);
            }
            Body::Chunked(chunks) => {
                let n = chunks.iter().map(|(a, b)| b - a).sum();
                head(out, 200, "application/octet-stream", n, conn, date);
                for (a, b) in chunks {
                    out.extend_from_slice(&bytes[*a..*b]);
                }
            }
        }
    } else {
        let body = b"Not Found";
        head(out, 404, "text/plain", body.len(), conn, date);
        out.extend_from_slice(body);
    }
}

/// The `Connection` header line an answer needs, if any.
fn connection_header(req: &Request) -> &'static [u8] {
    match (req.http10, req.keep_alive) {
        (true, true) => b"Connection: keep-alive\r\n",
        (_, false) => b"Connection: close\r\n",
        (false, true) => b"",
    }
}

fn head(out: &mut Vec<u8>, status: u16, ctype: &str, len: usize, conn: &[u8], date: &[u8]) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status_line(status).as_bytes());
    out.extend_from_slice(b"\r\nServer: coreloop\r\nContent-Type: ");
    out.extend_from_slice(ctype.as_bytes());
    out.extend_from_slice(b"\r\nContent-Length: ");
    push_decimal(out, len);
    out.extend_from_slice(b"\r\nDate: ");
    out.extend_from_slice(date);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(conn);
    out.extend_from_slice(b"\r\n");
}

fn write_error(out: &mut Vec<u8>, status: u16, date: &[u8]) {
    head(out, status, "text/plain", 0, b"Connection: close\r\n", date);
}

fn status_line(status: u16) -> &'static str {
    match status {
        200 => "200 OK",
        400 => "400 Bad Request",
        404 => "404 Not Found",
        413 => "413 Content Too Large",
        414 => "414 URI Too Long",
        431 => "431 Request Header Fields Too Large",
        501 => "501 Not Implemented",
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
