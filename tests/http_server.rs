//! The HTTP example over real TCP: the accept loop in-process on both reactors, and the built
//! example binary for graceful shutdown on SIGTERM.

use coreloop_examples_support::server;
use coreloop_examples_support::testing::example_binary;

use coreloop::net::TcpListener;
use coreloop_examples_support::http_server::{Config, serve_conn};
use coreloop_examples_support::shutdown::Shutdown;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Sends `input` on a new connection and reads until the server closes it.
fn exchange(addr: SocketAddr, input: &[u8]) -> String {
    let mut c = TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = c.write_all(input);
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn statuses(out: &str) -> Vec<u16> {
    out.match_indices("HTTP/1.1 ")
        .map(|(i, _)| out[i + 9..i + 12].parse().unwrap())
        .collect()
}

#[coreloop::test]
async fn bad_requests_do_not_disturb_other_connections() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let sd = Arc::new(Shutdown::new());
    let cfg = Rc::new(Config {
        header_timeout: Duration::from_millis(500),
        ..Config::default()
    });
    let loop_sd = sd.clone();
    let server = coreloop::spawn(async move {
        let conn_sd = loop_sd.clone();
        server::accept_loop(listener, &loop_sd, Duration::from_secs(2), move |s| {
            let cfg = cfg.clone();
            let sd = conn_sd.clone();
            async move {
                serve_conn(s, &cfg, &sd).await;
            }
        })
        .await
    });
    let client = coreloop::spawn_blocking(move || {
        // A slowloris connection held open the whole time must not stop the others.
        let mut slow = TcpStream::connect(addr).unwrap();
        slow.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
        let cases: [(&[u8], u16); 4] = [
            (b"BROKEN\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\n\r\n", 400),
            (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab", 400),
            (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n", 413),
        ];
        for (input, want) in cases {
            assert_eq!(statuses(&exchange(addr, input)), [want]);
            let ok = exchange(
                addr,
                b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            );
            assert_eq!(statuses(&ok), [200]);
            assert!(ok.ends_with("Hello, World!"));
        }
        // Pipelined burst over TCP: 100 answers, in order.
        let mut burst = Vec::new();
        for i in 0..100 {
            let body = format!("{i:03}");
            burst.extend_from_slice(
                format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n{body}")
                    .as_bytes(),
            );
        }
        burst.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let out = exchange(addr, &burst);
        assert_eq!(statuses(&out).len(), 101);
        let bodies: Vec<&str> = out
            .split("\r\n\r\n")
            .skip(1)
            .map(|s| &s[..3])
            .take(100)
            .collect();
        let want: Vec<String> = (0..100).map(|i| format!("{i:03}")).collect();
        assert_eq!(bodies, want);
        // The slowloris connection was cut off within the header timeout.
        slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut rest = Vec::new();
        assert!(
            slow.read_to_end(&mut rest).is_ok(),
            "slow connection closed, not timed out by the client"
        );
    });
    client.await.expect("client");
    sd.trigger();
    let accepted = server.await.expect("server");
    assert!(accepted >= 10, "{accepted}");
}

#[test]
fn sigterm_lets_requests_in_flight_finish_then_exits_0() {
    let bin = example_binary("http");
    for reactor in coreloop::testing::reactors(module_path!())
        .into_iter()
        .map(|k| k.name())
    {
        let mut child = Command::new(&bin)
            .args([
                "--addr",
                "127.0.0.1:0",
                "--reactor",
                reactor,
                "--grace",
                "5s",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the http example");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr: SocketAddr = line
            .split_whitespace()
            .find_map(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));

        // A request in flight: headers and half its body sent.
        let mut busy = TcpStream::connect(addr).unwrap();
        busy.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        busy.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello")
            .unwrap();
        // An idle keep-alive connection.
        let mut idle = TcpStream::connect(addr).unwrap();
        idle.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut first = [0u8; 512];
        assert!(idle.read(&mut first).unwrap() > 0);
        std::thread::sleep(Duration::from_millis(100));

        let start = Instant::now();
        // SAFETY: kill takes no pointers; the pid is our own child's.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
        std::thread::sleep(Duration::from_millis(200));
        // The idle connection is closed at once.
        let mut rest = Vec::new();
        idle.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());
        // The one in flight still gets its answer.
        busy.write_all(b"world").unwrap();
        let mut out = Vec::new();
        busy.read_to_end(&mut out).unwrap();
        let out = String::from_utf8_lossy(&out);
        assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
        assert!(out.ends_with("helloworld"), "{out}");
        // Answered after SIGTERM: it says it is the last one.
        assert!(out.contains("\r\nConnection: close\r\n"), "{out}");

        let status = child.wait().unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert!(status.success(), "{reactor}: {status}; stderr: {err}");
        assert!(
            start.elapsed() < Duration::from_secs(4),
            "{:?}",
            start.elapsed()
        );
        assert!(err.contains("stats reactor="), "{err}");
        // It no longer listens.
        assert!(TcpStream::connect(addr).is_err());
    }
}
