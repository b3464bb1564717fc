//! Fuzz targets for the HTTP example (proptest; `#[ignore]`d, so not in CI). Run for minutes:
//!
//! ```text
//! PROPTEST_CASES=200000 cargo test --release --test http_fuzz -- --ignored --nocapture
//! ```
//!
//! Inputs are requests from a seed list (valid ones and the hostile classics), mutated
//! (bytes inserted, deleted, replaced by framing characters, slices repeated) and cut into
//! reads at random points. The oracle:
//! - `state_machine`: [`Conn::advance`] fed read by read never panics, consumes only what it
//!   was given, every byte of output is a sequence of well-formed HTTP/1.1 responses (status
//!   line, fields, a `Content-Length` matched by the content, or none for HEAD), nothing
//!   follows an answer that says `Connection: close`, and its work stays linear in the input;
//! - `server_loop`, on io_uring and on epoll: the same inputs over TCP to the real connection
//!   loop; the output is well-formed, the connection ends (we half-close after sending), and
//!   the server still answers `GET /` on a new connection afterwards.

use coreloop::ReactorKind;
use coreloop::net::TcpListener;
use coreloop_examples_support::http_proto::{Conn, Limits, parser_work};
use coreloop_examples_support::http_server::{Config, serve_conn};
use coreloop_examples_support::server;
use coreloop_examples_support::shutdown::Shutdown;
use proptest::prelude::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

const DATE: &[u8] = b"Thu, 01 Jan 1970 00:00:00 GMT";

const SEEDS: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET http://x/?a=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;e=v\r\nhello\r\n0\r\nT: 1\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",
    b"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n",
    b"CONNECT x:80 HTTP/1.1\r\nHost: x:80\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
];

const SPECIAL: &[u8] = b"\r\n\0 \t:;,0123456789abcdefABCDEF-+\"\x7f\xff";

#[derive(Debug, Clone)]
enum Mutation {
    Insert(usize, u8),
    Delete(usize),
    Replace(usize, u8),
    Repeat(usize, usize, usize),
}

fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => proptest::sample::select(SPECIAL.to_vec()),
        1 => any::<u8>(),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), byte()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), byte()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        (any::<usize>(), 1usize..16, 1usize..50).prop_map(|(i, n, k)| Mutation::Repeat(i, n, k)),
    ]
}

fn apply(mut v: Vec<u8>, ms: &[Mutation]) -> Vec<u8> {
    for m in ms {
        let len = v.len().max(1);
        match *m {
            Mutation::Insert(i, b) => v.insert(i % (v.len() + 1), b),
            Mutation::Delete(i) if !v.is_empty() => {
                v.remove(i % len);
            }
            Mutation::Replace(i, b) if !v.is_empty() => v[i % len] = b,
            Mutation::Repeat(i, n, k) if !v.is_empty() => {
                let a = i % len;
                let b = (a + n).min(v.len());
                let piece = v[a..b].to_vec();
                for _ in 0..k {
                    v.splice(b..b, piece.iter().copied());
                }
            }
            _ => {}
        }
    }
    v
}

/// Requests (one to three seeds, each maybe mutated) and the read sizes to cut them into.
fn input() -> impl Strategy<Value = (Vec<u8>, Vec<usize>)> {
    (
        proptest::collection::vec(
            (
                proptest::sample::select(SEEDS.to_vec()),
                proptest::collection::vec(mutation(), 0..4),
            ),
            1..4,
        ),
        proptest::collection::vec(1usize..64, 1..32),
    )
        .prop_map(|(reqs, cuts)| {
            let mut v = Vec::new();
            for (seed, ms) in reqs {
                v.extend(apply(seed.to_vec(), &ms));
            }
            (v, cuts)
        })
}

/// Checks that `out` is a sequence of well-formed responses; returns whether the last one
/// closes the connection.
fn check_well_formed(out: &[u8]) -> Result<bool, String> {
    let mut pos = 0;
    let mut closed = false;
    while pos < out.len() {
        if closed {
            return Err(format!("bytes after Connection: close at {pos}"));
        }
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut r = httparse::Response::new(&mut headers);
        let n = match r.parse(&out[pos..]) {
            Ok(httparse::Status::Complete(n)) => n,
            other => return Err(format!("not a response at {pos}: {other:?}")),
        };
        let status = r.code.unwrap_or(0);
        if r.version != Some(1) || !(100..600).contains(&status) {
            return Err(format!("bad status line at {pos}"));
        }
        let mut len = None;
        let mut close = false;
        for h in r.headers.iter() {
            if h.name.eq_ignore_ascii_case("content-length") {
                if len.is_some() {
                    return Err("two Content-Length".into());
                }
                len = std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|v| v.parse::<usize>().ok());
                if len.is_none() {
                    return Err("bad Content-Length".into());
                }
            }
            if h.name.eq_ignore_ascii_case("connection") {
                close = h.value.eq_ignore_ascii_case(b"close");
            }
        }
        let body_start = pos + n;
        if status < 200 {
            pos = body_start;
            continue;
        }
        let Some(len) = len else {
            return Err(format!("final response without Content-Length at {pos}"));
        };
        // With content, or without it (an answer to HEAD): whichever is followed by the end
        // or by the next response.
        let next_ok = |at: usize| at == out.len() || out[at..].starts_with(b"HTTP/1.1 ");
        pos = if body_start + len <= out.len() && next_ok(body_start + len) {
            body_start + len
        } else if next_ok(body_start) {
            body_start
        } else {
            return Err(format!("content does not match Content-Length at {pos}"));
        };
        closed = close;
    }
    Ok(closed)
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    #[ignore = "fuzz target: run by hand, see the module doc"]
    fn state_machine((wire, cuts) in input()) {
        let limits = Limits { max_body: 4096, max_header: 2048, max_request_line: 512 };
        let mut conn = Conn::new(limits);
        let mut out = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        let mut fed = 0;
        let mut closed = false;
        let before = parser_work();
        let mut cut = cuts.iter().cycle();
        while fed < wire.len() && !closed {
            let n = (*cut.next().unwrap()).min(wire.len() - fed);
            pending.extend_from_slice(&wire[fed..fed + n]);
            fed += n;
            loop {
                let p = conn.advance(&pending, &mut out, DATE, 4096);
                prop_assert!(p.consumed <= pending.len());
                pending.drain(..p.consumed);
                if p.close {
                    closed = true;
                    break;
                }
                if !p.more {
                    break;
                }
            }
            prop_assert!(pending.len() <= limits.max_header + 64, "kept {} bytes", pending.len());
        }
        let work = parser_work() - before;
        prop_assert!(work <= 4 * wire.len() as u64 + 64, "work {} for {} bytes", work, wire.len());
        let last_closes = check_well_formed(&out).map_err(TestCaseError::fail)?;
        if closed {
            prop_assert!(last_closes, "closed without saying so: {:?}", String::from_utf8_lossy(&out));
        }
    }
}

/// A server for the whole run: `serve_conn` behind the accept loop, on its own runtime thread.
fn start_server(kind: ReactorKind) -> (SocketAddr, Arc<Shutdown>, std::thread::JoinHandle<()>) {
    let sd = Arc::new(Shutdown::new());
    let (tx, rx) = std::sync::mpsc::channel();
    let thread_sd = sd.clone();
    let t = std::thread::spawn(move || {
        let rt = coreloop::Runtime::builder()
            .cores(1)
            .reactor(kind)
            .build()
            .expect("runtime");
        let tx = std::sync::Mutex::new(Some(tx));
        rt.run(|_| {
            let sd = thread_sd.clone();
            let tx = tx.lock().unwrap().take();
            async move {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                if let Some(tx) = tx {
                    tx.send(listener.local_addr().unwrap()).unwrap();
                }
                let cfg = Rc::new(Config {
                    limits: Limits {
                        max_body: 4096,
                        ..Limits::default()
                    },
                    header_timeout: Duration::from_secs(2),
                    linger: Duration::from_millis(100),
                    ..Config::default()
                });
                let conn_sd = sd.clone();
                server::accept_loop(listener, &sd, Duration::from_secs(1), move |s| {
                    let cfg = cfg.clone();
                    let sd = conn_sd.clone();
                    async move {
                        serve_conn(s, &cfg, &sd).await;
                    }
                })
                .await;
            }
        })
        .expect("run");
    });
    (rx.recv().unwrap(), sd, t)
}

fn exchange(addr: SocketAddr, wire: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_nodelay(true).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut w = c.try_clone().unwrap();
    let wire = wire.to_vec();
    let cuts = cuts.to_vec();
    let writer = std::thread::spawn(move || {
        let mut fed = 0;
        let mut cut = cuts.iter().cycle();
        while fed < wire.len() {
            let n = (*cut.next().unwrap()).min(wire.len() - fed);
            if w.write_all(&wire[fed..fed + n]).is_err() {
                break;
            }
            fed += n;
        }
        let _ = w.shutdown(std::net::Shutdown::Write);
    });
    let mut out = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        match c.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("no end of the connection: {e}"),
        }
    }
    writer.join().unwrap();
    out
}

fn get_root(addr: SocketAddr) -> Vec<u8> {
    exchange(
        addr,
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        &[64],
    )
}

#[test]
#[ignore = "fuzz target: run by hand, see the module doc"]
fn server_loop() {
    for kind in [ReactorKind::Uring, ReactorKind::Epoll] {
        let (addr, sd, t) = start_server(kind);
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::default()
        });
        runner
            .run(&input(), |(wire, cuts)| {
                let out = exchange(addr, &wire, &cuts);
                check_well_formed(&out).map_err(TestCaseError::fail)?;
                let ok = get_root(addr);
                prop_assert!(
                    ok.starts_with(b"HTTP/1.1 200 OK\r\n") && ok.ends_with(b"Hello, World!")
                );
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        sd.trigger();
        t.join().unwrap();
    }
}
