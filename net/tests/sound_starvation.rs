//! Issue 10, defect 11: a connection that always has data must not starve the core: a 5 ms
//! timer fires while a task reads it as fast as it can. (A correctness bound, not a
//! performance one: the timer must fire within 1 s; on main it fires only when the reader
//! stops, after 3 s, on epoll.)

use coreloop_net::TcpStream;
use coreloop_runtime::{reactor_test, spawn, time};
use std::cell::Cell;
use std::io::Write;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

reactor_test! {
    async fn an_always_readable_connection_does_not_starve_a_timer() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let at = l.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        // A peer that keeps the connection readable.
        let feeder = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let chunk = vec![7u8; 64 * 1024];
            while !flag.load(Ordering::Acquire) {
                if s.write_all(&chunk).is_err() {
                    break;
                }
            }
        });
        let s = TcpStream::connect(at).await.unwrap();
        // Let the socket buffer fill up.
        std::thread::sleep(Duration::from_millis(50));
        let reads = Rc::new(Cell::new(0u64));
        let n = reads.clone();
        let reader = spawn(async move {
            let start = Instant::now();
            let mut buf = Vec::with_capacity(64);
            // Reads until it is stopped, or for 3 s at most (a bound for the test).
            while start.elapsed() < Duration::from_secs(3) {
                buf.clear();
                let (res, b) = s.read(buf).await;
                buf = b;
                if matches!(res, Ok(0) | Err(_)) {
                    break;
                }
                n.set(n.get() + 1);
            }
            start.elapsed()
        });
        let start = Instant::now();
        time::sleep(Duration::from_millis(5)).await;
        let fired = start.elapsed();
        let reads_then = reads.get();
        reader.abort();
        let _ = reader.await;
        stop.store(true, Ordering::Release);
        feeder.join().unwrap();
        assert!(
            fired < Duration::from_secs(1),
            "a 5 ms timer fired after {fired:?} ({reads_then} reads by then): a task reading an \
             always-readable connection never yields"
        );
    }
}
