//! Echo load generator: `--conns N` connections each send a `--size`-byte message, wait for
//! it to come back whole, and send the next (ping-pong), for `--duration`. Prints messages
//! per second and the p50/p99/p99.9 round-trip latency (HDR histogram).
//!
//! One tokio current_thread runtime drives every connection from one thread, so the load
//! fits on one CPU (the benches pin it to CPU 1 with taskset).
//!
//! The last line is for programs: `result msgs=… secs=… msgs_per_sec=… p50_us=… p99_us=…
//! p999_us=… errors=…`.

use coreloop_benches::args::Args;
use hdrhistogram::Histogram;
use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn main() -> std::io::Result<()> {
    let args = Args::from_env();
    let addr: SocketAddr = args.get("--addr", "127.0.0.1:8080".parse().unwrap());
    let conns: usize = args.get("--conns", 100);
    let size: usize = args.get("--size", 128);
    let duration = args.duration("--duration", Duration::from_secs(3));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        // Connect everyone first, so that the measured window is ping-pong only.
        let mut streams = Vec::with_capacity(conns);
        for _ in 0..conns {
            let s = connect(addr).await?;
            s.set_nodelay(true)?;
            streams.push(s);
        }
        let hist = Rc::new(RefCell::new(
            Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("histogram bounds"),
        ));
        let errors = Rc::new(RefCell::new(0u64));
        let start = Instant::now();
        let deadline = start + duration;
        let tasks: Vec<_> = streams
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let hist = hist.clone();
                let errors = errors.clone();
                tokio::task::spawn_local(async move {
                    if let Err(e) = ping_pong(s, size, i as u8, deadline, &hist).await {
                        if *errors.borrow() == 0 {
                            eprintln!("connection {i}: {e}");
                        }
                        *errors.borrow_mut() += 1;
                    }
                })
            })
            .collect();
        for t in tasks {
            let _ = t.await;
        }
        let secs = start.elapsed().as_secs_f64().max(duration.as_secs_f64());
        let h = hist.borrow();
        let msgs = h.len();
        let us = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        println!(
            "{conns} connections, {size} B messages, {secs:.2} s: {:.0} msgs/s, latency p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs",
            msgs as f64 / secs,
            us(0.5),
            us(0.99),
            us(0.999)
        );
        println!(
            "result msgs={msgs} secs={secs:.3} msgs_per_sec={:.0} p50_us={:.1} p99_us={:.1} p999_us={:.1} errors={}",
            msgs as f64 / secs,
            us(0.5),
            us(0.99),
            us(0.999),
            errors.borrow()
        );
        Ok(())
    })
}

/// Connects, retrying for a while: a server with a full accept queue may refuse briefly.
async fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let mut tries = 0;
    loop {
        match TcpStream::connect(addr).await {
            Ok(s) => return Ok(s),
            Err(e) if tries < 50 => {
                tries += 1;
                if tries == 1 {
                    eprintln!("connect: {e}; retrying");
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn ping_pong(
    mut s: TcpStream,
    size: usize,
    fill: u8,
    deadline: Instant,
    hist: &RefCell<Histogram<u64>>,
) -> std::io::Result<()> {
    let msg = vec![fill; size];
    let mut back = vec![0u8; size];
    while Instant::now() < deadline {
        let t0 = Instant::now();
        s.write_all(&msg).await?;
        s.read_exact(&mut back).await?;
        let ns = t0.elapsed().as_nanos() as u64;
        if back != msg {
            return Err(std::io::Error::other("echo came back different"));
        }
        hist.borrow_mut().saturating_record(ns.max(1));
    }
    Ok(())
}
