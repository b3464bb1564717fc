//! A request's head: the request line and header fields, parsed once the section is complete
//! (httparse), then checked against the framing, target, Host and Expect rules of the module
//! doc.

use super::MAX_HEADERS;

/// What the router needs of a request's head.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Head {
    pub(super) method: Method,
    pub(super) target: Target,
    pub(super) http10: bool,
    pub(super) keep_alive: bool,
}

/// The methods this server knows (RFC 9110 §9); any other token is 501.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Method {
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

/// What the request-target names, once its form is checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Target {
    #[default]
    Root,
    Echo,
    Asterisk,
    Authority,
    Other,
}

/// The outcome of a header section.
pub(super) enum HeadStep {
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

/// How the body is delimited.
pub(super) enum Framing {
    Fixed(usize),
    Chunked,
}

/// Parses a complete header section (its bytes end with the blank line; every line ending
/// and control character in it is already checked).
pub(super) fn parse_complete_head(buf: &[u8]) -> HeadStep {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return HeadStep::Error(400),
        Err(httparse::Error::TooManyHeaders) => return HeadStep::Error(431),
        Err(httparse::Error::Version) => {
            return match version_status(buf) {
                // HTTP/1.2 and up is read as HTTP/1.1 (RFC 9110 §2.5): the same head with the
                // version httparse knows.
                Ok(at) => {
                    let mut patched = buf.to_vec();
                    patched[at..at + 8].copy_from_slice(b"HTTP/1.1");
                    parse_complete_head(&patched)
                }
                Err(status) => HeadStep::Error(status),
            };
        }
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
/// For a version httparse refused: `Ok(offset)` of an `HTTP/1.x` with x > 1 in the request
/// line, else the status: 505 for another well-formed `HTTP/d.d`, 400 for anything else.
fn version_status(buf: &[u8]) -> Result<usize, u16> {
    let line = &buf[..memchr(b'\r', buf).unwrap_or(buf.len())];
    let version = line.rsplit(|&b| b == b' ').next().unwrap_or(b"");
    match version {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', b'2'..=b'9'] => Ok(line.len() - 8),
        [b'H', b'T', b'T', b'P', b'/', a, b'.', b] if a.is_ascii_digit() && b.is_ascii_digit() => {
            Err(505)
        }
        _ => Err(400),
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

/// The bytes a reg-name or an IPv4 address may hold: unreserved, sub-delims and `%`
/// (RFC 3986 §3.2.2), as a table (every request's `Host` is checked byte by byte).
const HOST_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = (i as u8).is_ascii_alphanumeric();
        i += 1;
    }
    let others = b"-._~%!$&'()*+,;=";
    let mut j = 0;
    while j < others.len() {
        t[others[j] as usize] = true;
        j += 1;
    }
    t
};

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
    let host_ok = host.iter().all(|&b| HOST_BYTE[usize::from(b)]);
    let port_ok = port.is_none_or(|p| p.len() <= 5 && p.iter().all(u8::is_ascii_digit));
    host_ok && port_ok
}

pub(super) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
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
