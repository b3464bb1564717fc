//! The HTTP server's steady state allocates nothing: on a keep-alive loopback connection, once
//! warmed up, answering more requests — one at a time, pipelined 16 or 256 at once, `GET /`,
//! `POST /echo` (Content-Length and chunked), HEAD, a 404, OPTIONS, HTTP/1.0 keep-alive — makes no heap allocation on the core that serves them (parse, route, response
//! head, `Date` header, the reads and writes, the deadlines around them), on both reactors,
//! beside other idle connections, and with 0 to 24 other timers on the core (so that a timer
//! inserted per request would land in a full node of the core's timer map in some runs).
//!
//! A counting global allocator counts only on threads that asked for it (the core serving the
//! connection), so the client thread, the test harness and any helper thread of the runtime
//! do not disturb the count. `CORELOOP_ALLOC_TRACE=1` prints a backtrace for every counted
//! allocation: the way to find what a regression allocates.

use coreloop::ReactorKind;
use coreloop::net::TcpListener;
use coreloop_examples_support::http_server::{Config, End, serve_conn};
use coreloop_examples_support::shutdown::Shutdown;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counts allocations (and reallocations) made on threads that set [`COUNTING`].
struct Counting;

/// Allocations counted so far, over every counting thread.
static COUNT: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Whether this thread's allocations are counted.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// Inside the tracer (whose backtrace allocates): not counted again.
    static TRACING: Cell<bool> = const { Cell::new(false) };
}

fn note(size: usize) {
    if !COUNTING.try_with(Cell::get).unwrap_or(false) || TRACING.with(Cell::get) {
        return;
    }
    COUNT.fetch_add(1, Ordering::Relaxed);
    // Reading the environment and capturing a backtrace allocate: not counted, not traced.
    TRACING.with(|t| t.set(true));
    if std::env::var_os("CORELOOP_ALLOC_TRACE").is_some() {
        eprintln!(
            "allocation of {size} bytes at\n{}",
            std::backtrace::Backtrace::force_capture()
        );
    }
    TRACING.with(|t| t.set(false));
}

// SAFETY: every call is passed to `System` unchanged; counting touches no allocator state.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's contract is `System::alloc`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's contract is `System::alloc_zeroed`'s.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: the caller's contract is `System::realloc`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is `System::dealloc`'s.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
const ECHO: &[u8] = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
/// One of each other route and framing, pipelined: HEAD, a 404, OPTIONS, a chunked echo,
/// HTTP/1.0 keep-alive, a query and more fields; and the statuses they get.
const MIXED: &[&[u8]] = &[
    b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"GET /?q=1 HTTP/1.1\r\nHost: example.com:8080\r\nAccept: */*\r\nUser-Agent: t\r\n\r\n",
];
const MIXED_STATUS: [u16; 6] = [200, 404, 200, 200, 200, 200];
/// Requests per pipelined burst.
const BURST: usize = 16;
/// Requests per deep pipelined burst: their answers fill several output batches.
const DEEP: usize = 256;
/// Other keep-alive connections on the same core, idle.
const IDLE: usize = 8;
/// The test runs once for each count of other timers on the core up to this: the core's timer
/// map (a B-tree) allocates a node when a timer lands in a full one, so a timer inserted per
/// request allocates with some counts and not with others.
const MAX_TIMERS: usize = 24;

/// Allocations the server's core made in each measured stretch, as the client saw them.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    plain: u64,
    pipelined: u64,
    deep: u64,
    echo: u64,
    mixed: u64,
}

/// An answer's `Content-Length`.
fn content_length(r: &httparse::Response<'_, '_>) -> usize {
    r.headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .map(|h| std::str::from_utf8(h.value).unwrap().parse().unwrap())
        .expect("a Content-Length")
}

/// Sends `request`, reads its one answer whole and returns the answer's length (every answer
/// to the same request has the same length: the `Date` value is fixed-width).
fn response_len(c: &mut TcpStream, request: &[u8]) -> usize {
    c.write_all(request).expect("client write");
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = c.read(&mut chunk).expect("client read");
        assert!(n > 0, "the server closed");
        got.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut r = httparse::Response::new(&mut headers);
        if let Ok(httparse::Status::Complete(head)) = r.parse(&got) {
            assert_eq!(r.code, Some(200));
            let len = content_length(&r);
            if got.len() >= head + len {
                assert_eq!(got.len(), head + len, "more than one answer");
                return head + len;
            }
        }
    }
}

/// Sends the [`MIXED`] requests in one write, checks their answers' statuses and returns the
/// answers' total length (the same every time: the `Date` value is fixed-width).
fn mixed_len(c: &mut TcpStream) -> usize {
    c.write_all(&MIXED.concat()).expect("client write");
    let mut got = Vec::new();
    let mut at = 0;
    let mut chunk = [0u8; 4096];
    for (i, &want) in MIXED_STATUS.iter().enumerate() {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 16];
            let mut r = httparse::Response::new(&mut headers);
            if let Ok(httparse::Status::Complete(head)) = r.parse(&got[at..]) {
                // The HEAD answer (the first) has the length but no content.
                let len = if i == 0 { 0 } else { content_length(&r) };
                if got.len() >= at + head + len {
                    assert_eq!(r.code, Some(want), "answer {i}");
                    at += head + len;
                    break;
                }
            }
            let n = c.read(&mut chunk).expect("client read");
            assert!(n > 0, "the server closed");
            got.extend_from_slice(&chunk[..n]);
        }
    }
    assert_eq!(got.len(), at, "more answers than requests");
    at
}

/// `rounds` times: sends `per_round` copies of `request` in one write, then reads their
/// answers (each `len` bytes, `200`).
fn exchange(c: &mut TcpStream, request: &[u8], len: usize, rounds: usize, per_round: usize) {
    let batch = request.repeat(per_round);
    let mut answers = vec![0u8; len * per_round];
    for _ in 0..rounds {
        c.write_all(&batch).expect("client write");
        c.read_exact(&mut answers).expect("client read");
        for a in answers.chunks(len) {
            assert!(a.starts_with(b"HTTP/1.1 200 OK\r\n"), "{a:?}");
        }
    }
}

/// `rounds` times: sends the [`MIXED`] requests in one write and reads their answers.
fn exchange_mixed(c: &mut TcpStream, batch: &[u8], len: usize, rounds: usize) {
    let mut answers = vec![0u8; len];
    for _ in 0..rounds {
        c.write_all(batch).expect("client write");
        c.read_exact(&mut answers).expect("client read");
        assert!(answers.starts_with(b"HTTP/1.1 200 OK\r\n"), "{answers:?}");
    }
}

/// The client: opens [`IDLE`] connections that make one request each and then wait, then on
/// one more connection warms up and counts what the server's core allocates over `n` more
/// requests of each kind.
fn client(addr: SocketAddr, n: usize) -> Counts {
    let connect = || {
        let c = TcpStream::connect(addr).expect("connect");
        c.set_nodelay(true).expect("nodelay");
        c.set_read_timeout(Some(Duration::from_secs(60)))
            .expect("read timeout");
        c
    };
    let _idle: Vec<TcpStream> = (0..IDLE)
        .map(|_| {
            let mut c = connect();
            response_len(&mut c, GET);
            c
        })
        .collect();
    let mut c = connect();
    let get_len = response_len(&mut c, GET);
    let echo_len = response_len(&mut c, ECHO);
    let mixed = MIXED.concat();
    let mixed_len = mixed_len(&mut c);
    // Warm-up: whatever grows to its steady size (buffers, the core's tables) does it here.
    exchange(&mut c, GET, get_len, 50, 1);
    exchange(&mut c, GET, get_len, 20, BURST);
    exchange(&mut c, GET, get_len, 4, DEEP);
    exchange(&mut c, ECHO, echo_len, 20, BURST);
    exchange_mixed(&mut c, &mixed, mixed_len, 20);
    let count = || COUNT.load(Ordering::Relaxed);
    let mut counts = Counts::default();
    let mut last = count();
    let mut step = |field: &mut u64| {
        let now = count();
        *field = now - last;
        last = now;
    };
    exchange(&mut c, GET, get_len, n, 1);
    step(&mut counts.plain);
    exchange(&mut c, GET, get_len, n / BURST, BURST);
    step(&mut counts.pipelined);
    exchange(&mut c, GET, get_len, n / DEEP, DEEP);
    step(&mut counts.deep);
    exchange(&mut c, ECHO, echo_len, n / BURST, BURST);
    step(&mut counts.echo);
    exchange_mixed(&mut c, &mixed, mixed_len, n / MIXED.len());
    step(&mut counts.mixed);
    counts
}

/// Serves [`client`]'s connections on reactor `kind` beside `timers` sleeping tasks, counting
/// the allocations of the core while the measured (last) connection is served.
fn run(kind: ReactorKind, n: usize, timers: usize) -> Counts {
    coreloop::testing::run(kind, async move {
        for _ in 0..timers {
            coreloop::spawn(coreloop::time::sleep(Duration::from_secs(36_000)));
        }
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let client = std::thread::spawn(move || client(addr, n));
        // The default deadlines in the same proportions, long enough that none fires (and
        // moves its timer) during the test however slowly it runs.
        let cfg = Config {
            header_timeout: Duration::from_secs(600),
            idle_timeout: Duration::from_secs(3600),
            body_timeout: Duration::from_secs(3600),
            write_timeout: Duration::from_secs(600),
            ..Config::default()
        };
        let shutdown = Rc::new(Shutdown::new());
        for _ in 0..IDLE {
            let (stream, _) = listener.accept().await.expect("accept");
            let shutdown = shutdown.clone();
            coreloop::spawn(async move {
                serve_conn(stream, &cfg, &shutdown).await;
            });
        }
        let (stream, _) = listener.accept().await.expect("accept");
        stream.set_nodelay(true).expect("nodelay");
        COUNTING.with(|c| c.set(true));
        let end = serve_conn(stream, &cfg, &shutdown).await;
        COUNTING.with(|c| c.set(false));
        assert_eq!(end, End::Done);
        shutdown.trigger();
        client.join().expect("client thread")
    })
}

#[test]
fn steady_state_requests_allocate_nothing() {
    const N: usize = 512;
    let mut allocating = Vec::new();
    for kind in coreloop::testing::reactors(module_path!()) {
        for timers in 0..=MAX_TIMERS {
            let counts = run(kind, N, timers);
            if counts != Counts::default() {
                allocating.push(format!("{kind} with {timers} other timers: {counts:?}"));
            }
        }
    }
    assert!(
        allocating.is_empty(),
        "heap allocations over {N} requests of each kind (one at a time, pipelined x{BURST}, \
         pipelined x{DEEP}, POST /echo pipelined x{BURST}, the other routes and framings \
         pipelined) on a core serving {IDLE} other idle \
         connections (CORELOOP_ALLOC_TRACE=1 shows where):\n{}",
        allocating.join("\n")
    );
}
