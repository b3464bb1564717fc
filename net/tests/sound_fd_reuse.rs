//! Issue 10, defect 4 (sockets): an op whose future was dropped, on a stream that was then
//! dropped, must never run against the next descriptor that reuses the fd number: a dropped
//! `write` must not deliver its bytes to an unrelated connection, and a dropped `read` must
//! not consume an unrelated connection's data.
//!
//! The unrelated connection is a plain `std` socket pair made once; each iteration `dup`s
//! its client end right after the victim stream is closed, so the dup takes the victim's fd
//! number while the stale op may still be queued (io_uring: pushed to the SQ, not yet
//! entered).

use coreloop_net::{TcpListener, TcpStream};
use coreloop_runtime::{reactor_test, time};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::time::Duration;

const MARKER: &[u8] = b"STALE-OP-MARKER!";
const ROUNDS: usize = 200;

/// A connected std pair: (client, server).
fn bystander() -> (std::net::TcpStream, std::net::TcpStream) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    (c, s)
}

reactor_test! {
    async fn dropped_write_never_reaches_a_connection_that_reuses_the_fd() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let at = l.local_addr().unwrap();
        let (client, server) = bystander();
        let mut reused = 0;
        for _ in 0..ROUNDS {
            let x = TcpStream::connect(at).await.unwrap();
            let (px, _) = l.accept().await.unwrap();
            let n = x.as_raw_fd();
            coreloop_runtime::testing::start_then_drop(x.write(MARKER)).await;
            drop(x);
            // Takes the lowest free number: the victim's, just closed.
            let d = client.try_clone().unwrap();
            if d.as_raw_fd() == n {
                reused += 1;
            }
            // Let the reactor submit and complete whatever is queued.
            time::sleep(Duration::from_millis(1)).await;
            drop(d);
            drop(px);
        }
        if coreloop_runtime::current_reactor() == Some(coreloop_runtime::ReactorKind::Uring) {
            // The stale send may still be queued on the ring: it keeps its descriptor open,
            // so the number cannot be reused under it.
            assert_eq!(reused, 0, "a number was reused while a dropped op still held it");
        } else {
            assert!(reused > 0, "the test never reused a number");
        }
        time::sleep(Duration::from_millis(20)).await;
        server.set_nonblocking(true).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match (&server).read(&mut buf) {
                Ok(0) => break,
                Ok(k) => got.extend_from_slice(&buf[..k]),
                Err(_) => break,
            }
        }
        assert!(
            got.is_empty(),
            "a dropped write on a closed stream delivered {} bytes ({:?}…) to an unrelated \
             connection that reused its fd number",
            got.len(),
            String::from_utf8_lossy(&got[..got.len().min(32)])
        );
    }
}

reactor_test! {
    async fn dropped_read_never_consumes_a_connection_that_reuses_the_fd() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let at = l.local_addr().unwrap();
        let (client, mut server) = bystander();
        client
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        for round in 0..ROUNDS {
            let x = TcpStream::connect(at).await.unwrap();
            let (px, _) = l.accept().await.unwrap();
            coreloop_runtime::testing::start_then_drop(x.read(Vec::with_capacity(64))).await;
            drop(x);
            let mut d = client.try_clone().unwrap();
            server.write_all(MARKER).unwrap();
            // Let the reactor submit and complete whatever is queued.
            time::sleep(Duration::from_millis(1)).await;
            let mut got = [0u8; 16];
            let r = d.read_exact(&mut got);
            assert!(
                r.is_ok() && got == MARKER,
                "round {round}: the connection that reused a dropped read's fd number lost its \
                 data to the stale read ({r:?})"
            );
            drop(d);
            drop(px);
        }
    }
}
