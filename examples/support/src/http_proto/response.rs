//! What the server answers: the routes, the response head, error answers, and the cached
//! `Date` header.

use super::head::{Head, Method, Target};
use std::time::{SystemTime, UNIX_EPOCH};

const HELLO: &[u8] = b"Hello, World!";

/// What [`route`] answers.
pub(super) fn route(req: &Head, body: &[u8], out: &mut Vec<u8>, date: &[u8]) {
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
