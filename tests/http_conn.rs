//! The HTTP connection loop of `examples/http.rs`, in-process on both reactors: a blocking
//! client thread on one end of a Unix socket pair, `serve_conn` on the other.

use coreloop::net::UnixStream as CoreUnixStream;
use coreloop_examples_support::http_proto;
use coreloop_examples_support::http_server::{Config, End, serve_conn};
use coreloop_examples_support::shutdown::Shutdown;
use std::io::{Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A connected pair: the server's end for `serve_conn`, the client's blocking end.
fn pair() -> (CoreUnixStream, UnixStream) {
    let (server, client) = UnixStream::pair().expect("socketpair");
    client
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("read timeout");
    (CoreUnixStream::from_std(server).expect("register"), client)
}

#[derive(Debug)]
struct Response {
    status: u16,
    close: bool,
    body: Vec<u8>,
}

/// Reads responses until `want` are parsed or the server closes.
fn read_responses(c: &mut UnixStream, want: usize) -> Vec<Response> {
    let mut got = Vec::new();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    while got.len() < want {
        // Parse whatever is complete.
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut r = httparse::Response::new(&mut headers);
            let Ok(httparse::Status::Complete(n)) = r.parse(&buf) else {
                break;
            };
            let mut len = 0;
            let mut close = false;
            for h in r.headers.iter() {
                if h.name.eq_ignore_ascii_case("content-length") {
                    len = std::str::from_utf8(h.value).unwrap().parse().unwrap();
                }
                if h.name.eq_ignore_ascii_case("connection") {
                    close = h.value.eq_ignore_ascii_case(b"close");
                }
            }
            if buf.len() < n + len {
                break;
            }
            got.push(Response {
                status: r.code.unwrap(),
                close,
                body: buf[n..n + len].to_vec(),
            });
            buf.drain(..n + len);
            if got.len() == want {
                return got;
            }
        }
        match c.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    got
}

/// Sends `input`, then reads `want` responses, on a thread of its own.
fn client(mut c: UnixStream, input: Vec<u8>, want: usize) -> JoinHandle<Vec<Response>> {
    std::thread::spawn(move || {
        c.write_all(&input).expect("client write");
        read_responses(&mut c, want)
    })
}

/// Waits for a client thread without blocking the core: on io_uring a dropped read is only
/// cancelled (and the socket's last reference released, so the peer sees the close) when the
/// core next runs its loop.
async fn join<T: Send + 'static>(t: JoinHandle<T>) -> T {
    coreloop::spawn_blocking(move || t.join().expect("client thread panicked"))
        .await
        .expect("join task")
}

fn quick() -> Config {
    Config {
        header_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(500),
        linger: Duration::from_millis(200),
        ..Config::default()
    }
}

async fn good_request_still_answered(cfg: &Config, sd: &Shutdown) {
    let (s, c) = pair();
    let t = client(
        c,
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        1,
    );
    assert_eq!(serve_conn(s, cfg, sd).await, End::Done);
    let r = join(t).await;
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].status, r[0].body.as_slice()),
        (200, &b"Hello, World!"[..])
    );
}

coreloop::reactor_test! {
    async fn plaintext_keep_alive_then_peer_close() {
        let (s, c) = pair();
        let sd = Shutdown::new();
        let t = std::thread::spawn(move || {
            let mut c = c;
            let mut all = Vec::new();
            for _ in 0..3 {
                c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
                all.extend(read_responses(&mut c, 1));
            }
            all
        });
        assert_eq!(serve_conn(s, &quick(), &sd).await, End::Done);
        let r = join(t).await;
        assert_eq!(r.len(), 3);
        assert!(r.iter().all(|r| r.status == 200 && !r.close && r.body == b"Hello, World!"));
    }
}

coreloop::reactor_test! {
    async fn bad_inputs_get_status_and_server_goes_on() {
        let cfg = Config { limits: http_proto::Limits { max_body: 1000, ..Default::default() }, ..quick() };
        let sd = Shutdown::new();
        let long_line = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(9000));
        let long_headers = format!("GET / HTTP/1.1\r\nHost: x\r\n{}\r\n", "X-Pad: 0123456789abcdef\r\n".repeat(1000));
        let cases: Vec<(Vec<u8>, u16)> = vec![
            (b"NOT HTTP AT ALL\r\n\r\n".to_vec(), 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n".to_vec(), 400),
            (b"GET / HTTP/1.1\r\n\r\n".to_vec(), 400),
            (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(), 400),
            (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na".to_vec(), 400),
            (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: x1\r\n\r\n".to_vec(), 400),
            (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n".to_vec(), 413),
            (long_line.into_bytes(), 414),
            (long_headers.into_bytes(), 431),
            (b"GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), 404),
        ];
        for (input, want) in cases {
            let (s, c) = pair();
            let t = client(c, input, 1);
            assert_eq!(serve_conn(s, &cfg, &sd).await, End::Done);
            let r = join(t).await;
            assert_eq!(r.len(), 1, "want {want}");
            assert_eq!(r[0].status, want);
            assert!(r[0].close);
            good_request_still_answered(&cfg, &sd).await;
        }
    }
}

coreloop::reactor_test! {
    async fn pipelined_burst_of_100_in_order() {
        let (s, c) = pair();
        let sd = Shutdown::new();
        let mut input = Vec::new();
        for i in 0..100 {
            let body = format!("request {i}");
            input.extend_from_slice(
                format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}", body.len())
                    .as_bytes(),
            );
        }
        let t = client(c, input, 100);
        let end = coreloop::time::timeout(Duration::from_secs(5), serve_conn(s, &quick(), &sd)).await;
        assert!(matches!(end, Ok(End::Done) | Ok(End::Idle)), "{end:?}");
        let r = join(t).await;
        assert_eq!(r.len(), 100);
        for (i, r) in r.iter().enumerate() {
            assert_eq!(r.status, 200);
            assert_eq!(r.body, format!("request {i}").into_bytes());
        }
    }
}

coreloop::reactor_test! {
    async fn chunked_body_echoes_intact_across_many_reads() {
        let (s, c) = pair();
        let sd = Shutdown::new();
        let payload: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let t = std::thread::spawn(move || {
            let mut c = c;
            c.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n").unwrap();
            let mut sizes = [1usize, 7, 4096, 333, 65536, 10].iter().cycle();
            let mut off = 0;
            let payload2 = payload.clone();
            while off < payload2.len() {
                let n = (*sizes.next().unwrap()).min(payload2.len() - off);
                c.write_all(format!("{n:x}\r\n").as_bytes()).unwrap();
                c.write_all(&payload2[off..off + n]).unwrap();
                c.write_all(b"\r\n").unwrap();
                off += n;
            }
            c.write_all(b"0\r\n\r\n").unwrap();
            (read_responses(&mut c, 1), payload)
        });
        assert_eq!(serve_conn(s, &quick(), &sd).await, End::Done);
        let (r, payload) = join(t).await;
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].status, 200);
        assert!(r[0].body == payload, "echoed body differs");
    }
}

coreloop::reactor_test! {
    async fn slowloris_cut_off_within_header_timeout() {
        let (s, c) = pair();
        let sd = Shutdown::new();
        let t = std::thread::spawn(move || {
            let mut c = c;
            // One byte every 50 ms: never a complete header section.
            for b in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
                if c.write_all(&[*b]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let start = Instant::now();
        let cfg = quick();
        assert_eq!(serve_conn(s, &cfg, &sd).await, End::HeaderTimeout);
        let took = start.elapsed();
        assert!(took >= cfg.header_timeout, "{took:?}");
        // The 408 and the half-close leave at the deadline; the lingering close then drains
        // the trickle for at most `linger`.
        assert!(took < cfg.header_timeout + cfg.linger + Duration::from_millis(500), "{took:?}");
        join(t).await;
    }
}

coreloop::reactor_test! {
    async fn idle_keep_alive_connection_closed() {
        let (s, c) = pair();
        let sd = Shutdown::new();
        let t = client(c, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 2);
        let start = Instant::now();
        let cfg = quick();
        assert_eq!(serve_conn(s, &cfg, &sd).await, End::Idle);
        assert!(start.elapsed() >= cfg.idle_timeout);
        // One answer, then the close.
        assert_eq!(join(t).await.len(), 1);
    }
}

coreloop::reactor_test! {
    async fn shutdown_closes_idle_connection_at_once() {
        let (s, c) = pair();
        let sd = Arc::new(Shutdown::new());
        let t = client(c, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 2);
        let trigger = sd.clone();
        let _k = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            trigger.trigger();
        });
        let start = Instant::now();
        let cfg = Config { idle_timeout: Duration::from_secs(30), ..quick() };
        assert_eq!(serve_conn(s, &cfg, &sd).await, End::Shutdown);
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(join(t).await.len(), 1);
    }
}

/// Reads until EOF; a reset is a failure (the answer before it may have been destroyed).
fn read_to_eof(c: &mut UnixStream) -> Vec<u8> {
    let mut rest = Vec::new();
    c.read_to_end(&mut rest)
        .expect("EOF, not a reset or a hang");
    rest
}

coreloop::reactor_test! {
    async fn chunked_parse_work_is_linear_in_bytes_received() {
        let (s, c) = pair();
        let sd = Shutdown::new();
        // 60 KB of small chunks at once, then 300 one-byte chunks in reads of their own: a
        // parser that starts again from the request's first byte on every read examines
        // ~18 MB; an incremental one about what was sent.
        let t = std::thread::spawn(move || {
            let mut c = c;
            let mut sent = 0usize;
            let mut first = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            let mut data = 300;
            while first.len() < 60_000 {
                first.extend_from_slice(b"3\r\nabc\r\n");
                data += 3;
            }
            c.write_all(&first).unwrap();
            sent += first.len();
            for _ in 0..300 {
                c.write_all(b"1\r\nz\r\n").unwrap();
                sent += 6;
                std::thread::sleep(Duration::from_micros(500));
            }
            c.write_all(b"0\r\n\r\n").unwrap();
            sent += 5;
            let r = read_responses(&mut c, 1);
            (r, sent, data)
        });
        let before = http_proto::parser_work();
        let cfg = Config { limits: http_proto::Limits { max_body: 1 << 20, ..Default::default() }, ..quick() };
        let end = coreloop::time::timeout(Duration::from_secs(10), serve_conn(s, &cfg, &sd)).await;
        let work = http_proto::parser_work() - before;
        let (r, sent, data) = join(t).await;
        assert!(matches!(end, Ok(End::Done | End::Idle)), "{end:?}");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].status, 200);
        assert_eq!(r[0].body.len(), data);
        assert!(work <= 2 * sent as u64, "examined {work} bytes for {sent} received");
    }
}

coreloop::reactor_test! {
    async fn trickled_body_is_cut_by_the_minimum_rate_with_408() {
        let (s, c) = pair();
        let sd = Shutdown::new();
        let t = std::thread::spawn(move || {
            let mut c = c;
            c.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n").unwrap();
            // One byte every 50 ms (20 B/s) against a 200 B/s minimum.
            let _ = c.set_write_timeout(Some(Duration::from_secs(5)));
            for _ in 0..100 {
                if c.write_all(b"x").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let cfg = Config { min_body_rate: 200, ..quick() };
        let start = Instant::now();
        assert_eq!(serve_conn(s, &cfg, &sd).await, End::BodyTimeout);
        // Each byte re-armed nothing: cut after the grace (the header timeout) plus what the
        // bytes earned, far before the 5 s the trickle would take.
        assert!(start.elapsed() < Duration::from_secs(3), "{:?}", start.elapsed());
        join(t).await;
    }
}

coreloop::reactor_test! {
    async fn body_over_the_total_body_time_is_cut_with_408() {
        let (s, c) = pair();
        let sd = Shutdown::new();
        let t = std::thread::spawn(move || {
            let mut c = c;
            c.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n").unwrap();
            // A fast enough rate, but a body that never ends in time.
            let mut got = Vec::new();
            for _ in 0..200 {
                if c.write_all(&[b'x'; 200]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = c.read_to_end(&mut got);
            got
        });
        let cfg = Config { min_body_rate: 1, body_timeout: Duration::from_millis(400), ..quick() };
        assert_eq!(serve_conn(s, &cfg, &sd).await, End::BodyTimeout);
        let got = join(t).await;
        let got = String::from_utf8_lossy(&got);
        assert!(got.starts_with("HTTP/1.1 408 "), "{got}");
        assert!(got.contains("Connection: close\r\n"), "{got}");
    }
}

coreloop::reactor_test! {
    async fn never_reading_client_is_cut_by_the_write_timeout() {
        let (s, c) = pair();
        let sd = Shutdown::new();
        let t = std::thread::spawn(move || {
            let mut c = c;
            // 4 MiB of pipelined GETs, never a read: the server's writes block, it stops
            // reading (backpressure), the write deadline passes, it closes.
            let one = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
            let all = one.repeat(4 * 1024 * 1024 / one.len());
            let _ = c.set_write_timeout(Some(Duration::from_secs(10)));
            let res = c.write_all(&all);
            res.is_err()
        });
        let cfg = Config { write_timeout: Duration::from_millis(300), ..quick() };
        let start = Instant::now();
        assert_eq!(serve_conn(s, &cfg, &sd).await, End::WriteTimeout);
        assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
        // The server stopped reading: the client could not send it all.
        assert!(join(t).await, "the client's 4 MiB all went in: no backpressure");
    }
}

coreloop::reactor_test! {
    async fn shutdown_mid_request_answers_with_connection_close_then_closes_cleanly() {
        let (s, c) = pair();
        let sd = Arc::new(Shutdown::new());
        let trigger = sd.clone();
        let t = std::thread::spawn(move || {
            let mut c = c;
            c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let first = read_responses(&mut c, 1);
            c.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello").unwrap();
            std::thread::sleep(Duration::from_millis(50));
            trigger.trigger();
            std::thread::sleep(Duration::from_millis(50));
            // The rest of the body, and a pipelined request the server will not take.
            c.write_all(b"worldGET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let second = read_responses(&mut c, 1);
            let rest = read_to_eof(&mut c);
            (first, second, rest)
        });
        let cfg = Config { idle_timeout: Duration::from_secs(30), ..quick() };
        assert_eq!(serve_conn(s, &cfg, &sd).await, End::Shutdown);
        let (first, second, rest) = join(t).await;
        assert!(!first[0].close);
        assert_eq!(second.len(), 1);
        assert_eq!((second[0].status, second[0].body.as_slice()), (200, &b"helloworld"[..]));
        assert!(second[0].close, "the last answer says Connection: close");
        assert!(rest.is_empty());
    }
}
