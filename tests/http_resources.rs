//! The built HTTP example under resource attacks, on both reactors: a trailer flood, a body
//! trickled a byte at a time, a client that sends pipelined requests and never reads, and
//! forty keep-alive connections left idle after a 1 MiB echo. The server's RSS, sampled all
//! along, stays under 64 MiB; every attacker is cut off (with its 431 or 408 where it is
//! still reading); and the server answers `GET /` afterwards.

use coreloop_examples_support::testing::example_binary;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const MIB: u64 = 1024 * 1024;

fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The example process; killed if the test fails before it is stopped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(reactor: &str) -> (Server, SocketAddr) {
    let mut child = Command::new(example_binary("http"))
        .args([
            "--addr",
            "127.0.0.1:0",
            "--reactor",
            reactor,
            "--header-timeout",
            "1s",
            "--body-timeout",
            "3s",
            "--min-body-rate",
            "1000",
            "--write-timeout",
            "1s",
            "--linger",
            "300ms",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the http example");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    (Server(child), addr)
}

fn connect(addr: SocketAddr) -> TcpStream {
    let c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    c
}

/// Reads to EOF (or a reset after it); panics on a hang. Returns what arrived.
fn read_until_cut(c: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        match c.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("the connection was not cut: {e}"),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The server's trailer flood: a valid chunked request, then `a: b` lines without end.
/// Returns what the client read and how long until the server cut it off.
fn trailer_flood(addr: SocketAddr) -> (String, Duration) {
    let mut c = connect(addr);
    let start = Instant::now();
    let mut w = c.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = w.write_all(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n",
        );
        let block = b"a: b\r\n".repeat(2000);
        // Until the server cuts us off (or 10 s: then the test fails below).
        while start.elapsed() < Duration::from_secs(10) {
            if w.write_all(&block).is_err() {
                return start.elapsed();
            }
        }
        start.elapsed()
    });
    let got = read_until_cut(&mut c);
    (got, writer.join().unwrap())
}

/// A body announced as 1000 bytes and sent one byte every 100 ms.
fn trickle(addr: SocketAddr) -> (String, Duration) {
    let mut c = connect(addr);
    let start = Instant::now();
    let mut w = c.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = w.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
        for _ in 0..100 {
            if w.write_all(b"x").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let got = read_until_cut(&mut c);
    let took = start.elapsed();
    writer.join().unwrap();
    (got, took)
}

/// 8 MiB of pipelined GETs, never reading an answer. Returns how long until the server cut
/// the connection (our write failed).
fn never_read(addr: SocketAddr) -> Option<Duration> {
    let mut c = connect(addr);
    let start = Instant::now();
    let one = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let all = one.repeat(8 * 1024 * 1024 / one.len());
    for part in all.chunks(64 * 1024) {
        if c.write_all(part).is_err() {
            return Some(start.elapsed());
        }
    }
    // Everything went in: the server kept reading while it could not write.
    None
}

fn get_ok(c: &mut TcpStream) {
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.ends_with(b"Hello, World!") {
        let n = match c.read(&mut chunk) {
            // std's read reports a signal that interrupted it; a client reads again.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => r.expect("an answer"),
        };
        assert!(n > 0, "closed instead of answering");
        buf.extend_from_slice(&chunk[..n]);
    }
    assert!(buf.starts_with(b"HTTP/1.1 200 OK\r\n"));
}

fn echo_1mib(c: &mut TcpStream) {
    let body = vec![b'e'; 1000 * 1024];
    c.write_all(
        format!(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .unwrap();
    let mut w = c.try_clone().unwrap();
    let writer = std::thread::spawn(move || w.write_all(&body).unwrap());
    let mut got = 0;
    let mut chunk = [0u8; 65536];
    let want = 1000 * 1024;
    let mut head_done = false;
    let mut head = Vec::new();
    while got < want {
        let n = match c.read(&mut chunk) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => r.expect("the echo"),
        };
        assert!(n > 0, "closed during the echo");
        if head_done {
            got += n;
        } else {
            head.extend_from_slice(&chunk[..n]);
            if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                head_done = true;
                got = head.len() - i - 4;
            }
        }
    }
    writer.join().unwrap();
}

#[test]
fn attacks_keep_rss_bounded_and_are_cut_off() {
    for reactor in coreloop::testing::reactors(module_path!())
        .into_iter()
        .map(|k| k.name())
    {
        let (mut child, addr) = start(reactor);
        let pid = child.0.id();
        let peak = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (peak, stop) = (peak.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(rss(pid), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        };
        let base = rss(pid);

        // The three attacks at once, and a well-behaved client beside them.
        let flood = std::thread::spawn(move || trailer_flood(addr));
        let slow = std::thread::spawn(move || trickle(addr));
        let deaf = std::thread::spawn(move || never_read(addr));
        let mut good = connect(addr);
        for _ in 0..20 {
            get_ok(&mut good);
            std::thread::sleep(Duration::from_millis(20));
        }
        let (flood_got, flood_took) = flood.join().unwrap();
        let (slow_got, slow_took) = slow.join().unwrap();
        let deaf_took = deaf.join().unwrap();
        assert!(
            flood_got.starts_with("HTTP/1.1 431 "),
            "{reactor}: {flood_got}"
        );
        assert!(
            flood_took < Duration::from_secs(5),
            "{reactor}: flood ran {flood_took:?}"
        );
        assert!(
            slow_got.starts_with("HTTP/1.1 408 "),
            "{reactor}: {slow_got}"
        );
        assert!(
            slow_took < Duration::from_secs(5),
            "{reactor}: trickle ran {slow_took:?}"
        );
        let deaf_took = deaf_took.unwrap_or_else(|| panic!("{reactor}: 8 MiB went in unread"));
        assert!(
            deaf_took < Duration::from_secs(8),
            "{reactor}: {deaf_took:?}"
        );

        // Forty keep-alive connections left idle after a 1 MiB echo each: buffers go back to
        // their small size, so they cost little more than after a GET.
        let before = rss(pid);
        let mut idle = Vec::new();
        for _ in 0..40 {
            let mut c = connect(addr);
            echo_1mib(&mut c);
            idle.push(c);
        }
        std::thread::sleep(Duration::from_millis(100));
        let grown = rss(pid).saturating_sub(before);
        assert!(
            grown < 24 * MIB,
            "{reactor}: 40 idle connections after a 1 MiB echo hold {} MiB",
            grown / MIB
        );
        for c in &mut idle {
            get_ok(c);
        }
        get_ok(&mut good);

        stop.store(true, Ordering::Relaxed);
        sampler.join().unwrap();
        let peak = peak.load(Ordering::Relaxed);
        assert!(
            peak < 64 * MIB,
            "{reactor}: RSS peaked at {} MiB (from {} MiB)",
            peak / MIB,
            base / MIB
        );
        // SAFETY: kill takes no pointers; the pid is our own child's.
        unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        assert!(child.0.wait().unwrap().success());
    }
}
