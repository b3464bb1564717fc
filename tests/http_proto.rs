//! The HTTP protocol module on byte buffers alone: framing, limits, routes, `Date`.

use coreloop_examples_support::http_proto::{Conn, Limits, Progress, imf_fixdate, respond};

const DATE: &[u8] = b"Thu, 01 Jan 1970 00:00:00 GMT";

fn run(input: &[u8]) -> (Progress, String) {
    run_with(input, &Limits::default())
}

fn run_with(input: &[u8], limits: &Limits) -> (Progress, String) {
    let mut out = Vec::new();
    let p = respond(input, &mut out, limits, DATE);
    (p, String::from_utf8(out).expect("responses are ASCII"))
}

fn statuses(out: &str) -> Vec<u16> {
    out.match_indices("HTTP/1.1 ")
        .map(|(i, _)| out[i + 9..i + 12].parse().unwrap())
        .collect()
}

#[test]
fn plaintext_has_techempower_shape() {
    let (p, out) = run(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(p.answered, 1);
    assert!(!p.close);
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.contains("Content-Type: text/plain\r\n"));
    assert!(out.contains("Content-Length: 13\r\n"));
    assert!(out.contains("Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"));
    assert!(out.ends_with("\r\n\r\nHello, World!"));
}

#[test]
fn partial_headers_wait_and_say_so() {
    let (p, out) = run(b"GET / HTTP/1.1\r\nHo");
    assert_eq!((p.consumed, p.answered, p.in_headers), (0, 0, true));
    assert!(out.is_empty());
}

#[test]
fn partial_body_waits_outside_headers() {
    let (p, _) = run(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    assert_eq!((p.consumed, p.answered, p.in_headers), (0, 0, false));
}

#[test]
fn pipelined_requests_all_answered_in_order() {
    let mut input = Vec::new();
    for i in 0..100 {
        if i % 2 == 0 {
            input.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        } else {
            input.extend_from_slice(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
        }
    }
    let (p, out) = run(&input);
    assert_eq!(p.answered, 100);
    assert_eq!(p.consumed, input.len());
    let s = statuses(&out);
    assert_eq!(s.len(), 100);
    for (i, st) in s.iter().enumerate() {
        assert_eq!(*st, if i % 2 == 0 { 200 } else { 404 });
    }
}

#[test]
fn pipelined_with_trailing_partial_consumes_only_complete() {
    let a = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut input = a.to_vec();
    input.extend_from_slice(b"GET / HT");
    let (p, _) = run(&input);
    assert_eq!((p.answered, p.consumed, p.in_headers), (1, a.len(), true));
}

#[test]
fn echo_content_length() {
    let (p, out) = run(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    assert_eq!(p.answered, 1);
    assert!(out.contains("Content-Length: 5\r\n"));
    assert!(out.ends_with("\r\n\r\nhello"));
}

#[test]
fn echo_chunked_with_extensions_and_trailers() {
    let req = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
                5;name=v\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: y\r\n\r\n";
    let (p, out) = run(req);
    assert_eq!((p.answered, p.consumed), (1, req.len()));
    assert!(out.contains("Content-Length: 16\r\n"), "{out}");
    assert!(out.ends_with("\r\n\r\nhello 0123456789"));
}

#[test]
fn chunked_partial_waits() {
    let req = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel";
    let (p, _) = run(req);
    assert_eq!((p.answered, p.in_headers), (0, false));
}

#[test]
fn bad_chunk_size_is_400() {
    let req = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
    let (p, out) = run(req);
    assert!(p.close);
    assert_eq!(statuses(&out), [400]);
}

#[test]
fn connection_close_honoured() {
    let input =
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let (p, out) = run(input);
    assert_eq!(p.answered, 1);
    assert!(p.close);
    assert!(out.contains("Connection: close\r\n"));
}

#[test]
fn http10_closes_unless_keep_alive() {
    let (p, out) = run(b"GET / HTTP/1.0\r\n\r\n");
    assert!(p.close);
    assert!(out.contains("Connection: close\r\n"));
    let (p, out) = run(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    assert!(!p.close);
    assert!(out.contains("Connection: keep-alive\r\n"));
}

#[test]
fn bad_inputs_get_their_status_and_close() {
    let long_line = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(9000));
    let long_headers = format!(
        "GET / HTTP/1.1\r\nHost: x\r\n{}\r\n",
        "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(400)
    );
    let cases: Vec<(&[u8], u16)> = vec![
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
        ),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -3\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1,1\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 413),
        (long_line.as_bytes(), 414),
        (long_headers.as_bytes(), 431),
    ];
    for (input, want) in cases {
        let (p, out) = run(input);
        assert_eq!(
            statuses(&out),
            [want],
            "input {:?}",
            String::from_utf8_lossy(&input[..input.len().min(80)])
        );
        assert!(p.close);
        assert!(out.contains("Connection: close\r\n"));
        assert_eq!(p.consumed, input.len());
    }
}

#[test]
fn long_request_line_is_414_before_it_ends() {
    let partial = format!("GET /{}", "a".repeat(9000));
    let (p, out) = run(partial.as_bytes());
    assert!(p.close);
    assert_eq!(statuses(&out), [414]);
}

#[test]
fn oversized_header_section_is_431_before_it_ends() {
    let partial = format!(
        "GET / HTTP/1.1\r\n{}",
        "X-Pad: aaaaaaaaaaaaaaaaaaaa\r\n".repeat(1000)
    );
    let (p, out) = run(partial.as_bytes());
    assert!(p.close);
    assert_eq!(statuses(&out), [431]);
}

#[test]
fn chunked_body_over_limit_is_413() {
    let limits = Limits {
        max_body: 4,
        ..Limits::default()
    };
    let req = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
    let (p, out) = run_with(req, &limits);
    assert!(p.close);
    assert_eq!(statuses(&out), [413]);
}

#[test]
fn good_request_answered_before_a_bad_one_in_the_same_read() {
    let input = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nBOGUS\r\n\r\n";
    let (p, out) = run(input);
    assert_eq!(statuses(&out), [200, 400]);
    assert!(p.close);
}

#[test]
fn imf_fixdate_known_values() {
    assert_eq!(&imf_fixdate(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
    assert_eq!(&imf_fixdate(784_111_777), b"Sun, 06 Nov 1994 08:49:37 GMT");
    assert_eq!(&imf_fixdate(951_782_400), b"Tue, 29 Feb 2000 00:00:00 GMT");
    assert_eq!(
        &imf_fixdate(4_102_444_799),
        b"Thu, 31 Dec 2099 23:59:59 GMT"
    );
}

#[test]
fn chunked_framing_cannot_outgrow_the_body_limit() {
    let limits = Limits {
        max_body: 1024,
        ..Limits::default()
    };
    let mut req = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let ext = "e".repeat(3000);
    for _ in 0..40 {
        req.extend_from_slice(format!("1;{ext}\r\nX\r\n").as_bytes());
    }
    let (p, out) = run_with(&req, &limits);
    assert!(p.close);
    assert_eq!(statuses(&out), [413]);
}

#[test]
fn body_buffer_is_released_after_a_large_request() {
    let mut conn = Conn::new(Limits::default());
    let mut out = Vec::new();
    let body = vec![b'b'; 1000 * 1024];
    let mut input = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    input.extend_from_slice(&body[..500 * 1024]);
    let p = conn.advance(&input, &mut out, DATE, usize::MAX);
    assert_eq!((p.answered, p.consumed), (0, input.len()));
    assert!(conn.retained() >= 500 * 1024);
    let p = conn.advance(&body[500 * 1024..], &mut out, DATE, usize::MAX);
    assert_eq!(p.answered, 1);
    assert!(conn.retained() <= 16 * 1024, "{}", conn.retained());
}

#[test]
fn pipelined_answers_leave_in_bounded_batches() {
    let one = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let input = one.repeat(40_000);
    let mut conn = Conn::new(Limits::default());
    let mut out = Vec::new();
    let mut pos = 0;
    let mut answered = 0;
    let mut batches = 0;
    while pos < input.len() {
        out.clear();
        let p = conn.advance(&input[pos..], &mut out, DATE, 64 * 1024);
        assert!(
            out.len() < 64 * 1024 + 256,
            "a batch of {} bytes",
            out.len()
        );
        pos += p.consumed;
        answered += p.answered;
        batches += 1;
        assert!(p.more || pos == input.len());
    }
    assert_eq!(answered, 40_000);
    assert!(batches > 50);
}

#[test]
fn chunked_body_is_consumed_as_it_arrives() {
    // Every byte handed over is used at once: nothing of a partial body is parsed again.
    let mut conn = Conn::new(Limits::default());
    let mut out = Vec::new();
    let mut wire = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..1000 {
        wire.extend_from_slice(b"2;x=y\r\nab\r\n");
    }
    wire.extend_from_slice(b"0\r\nT: v\r\n\r\n");
    let mut pending = Vec::new();
    for (i, b) in wire.iter().enumerate() {
        pending.push(*b);
        let p = conn.advance(&pending, &mut out, DATE, usize::MAX);
        pending.drain(..p.consumed);
        if i + 1 < wire.len() {
            assert_eq!(p.answered, 0);
        } else {
            assert_eq!(p.answered, 1);
        }
        // Only a header section in progress is kept (and an incomplete empty line).
        assert!(
            pending.len() < 80,
            "{} bytes kept at byte {i}",
            pending.len()
        );
    }
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("Content-Length: 2000\r\n"), "{out}");
}

#[test]
fn head_answers_like_get_without_content() {
    let (p, out) = run(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(p.answered, 2);
    let second = out[1..].find("HTTP/1.1 200 OK").unwrap() + 1;
    let (head, get) = out.split_at(second);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.ends_with("\r\n\r\n"), "{head}");
    assert!(head.contains("Content-Length: 13\r\n"));
    assert_eq!(head.len() + 13, get.len());
    assert!(get.ends_with("\r\n\r\nHello, World!"));
}
