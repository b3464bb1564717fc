//! One core, one socketpair, two tasks: a 1-byte ping-pong, N round trips, on each reactor.
//! Prints time per round trip and the reactor's own count of syscalls per round trip.
//!
//! `cargo run --release -p coreloop-benches --bin pingpong -- [--rounds N] [--reactor uring|epoll|both] [--repeat K] [--op-latency off|on|both]`
//!
//! `--op-latency both` runs each reactor with per-op latency recording off and on,
//! interleaved: the cost of recording, per round trip (two ops).

use coreloop_runtime::op::{Position, SharedFd, read::Read, write::Write};
use coreloop_runtime::reactor::Op;
use coreloop_runtime::sys::socket::{AF_UNIX, SOCK_STREAM, socketpair};
use coreloop_runtime::{ReactorKind, Runtime, reactor_stats, spawn};
use std::time::{Duration, Instant};

async fn bounce(fd: SharedFd, rounds: u64, serve: bool) {
    let fd = &fd;
    // Larger than a message, as a real server reads: a short read tells the epoll reactor the
    // socket is drained, so it waits for the next edge instead of trying (and failing) again.
    let mut buf = Vec::with_capacity(64);
    for _ in 0..rounds {
        if !serve {
            let (res, _) = Op::new(Write::new(fd, b"x".as_slice(), Position::Stream)).await;
            assert_eq!(res.expect("ping write"), 1);
        }
        buf.clear();
        let (res, b) = Op::new(Read::new(fd, buf, Position::Stream)).await;
        assert_eq!(res.expect("read"), 1, "peer closed early");
        buf = b;
        if serve {
            let (res, _) = Op::new(Write::new(fd, b"y".as_slice(), Position::Stream)).await;
            assert_eq!(res.expect("pong write"), 1);
        }
    }
}

fn one(kind: ReactorKind, lat: bool, rounds: u64) -> (Duration, coreloop_runtime::ReactorStats) {
    let rt = Runtime::builder()
        .reactor(kind)
        .env_override(false)
        .op_latency(lat)
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let (a, b) = socketpair(AF_UNIX, SOCK_STREAM, 0).expect("socketpair");
        let before = reactor_stats().unwrap();
        let start = Instant::now();
        let server = spawn(bounce(SharedFd::new(b), rounds, true));
        bounce(SharedFd::new(a), rounds, false).await;
        server.await.expect("server task");
        let elapsed = start.elapsed();
        let after = reactor_stats().unwrap();
        let d = after.since(&before);
        (elapsed, d)
    })
}

fn main() {
    let mut rounds = 1_000_000u64;
    let mut kinds = vec![ReactorKind::Uring, ReactorKind::Epoll];
    let mut repeat = 3;
    let mut lats = vec![false];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--rounds" => rounds = v.parse().expect("--rounds N"),
            "--repeat" => repeat = v.parse().expect("--repeat K"),
            "--reactor" => {
                kinds = match v.as_str() {
                    "both" => vec![ReactorKind::Uring, ReactorKind::Epoll],
                    other => vec![ReactorKind::parse(other).expect("--reactor uring|epoll|both")],
                }
            }
            "--op-latency" => {
                lats = match v.as_str() {
                    "off" => vec![false],
                    "on" => vec![true],
                    "both" => vec![false, true],
                    _ => panic!("--op-latency off|on|both"),
                }
            }
            other => panic!("unknown flag {other}"),
        }
    }
    println!(
        "one-core socketpair ping-pong, {rounds} round trips, {repeat} runs each, interleaved"
    );
    type Row = (ReactorKind, bool, Vec<f64>, coreloop_runtime::ReactorStats);
    let mut results: Vec<Row> = kinds
        .iter()
        .flat_map(|k| {
            lats.iter()
                .map(|l| (*k, *l, Vec::new(), Default::default()))
        })
        .collect();
    for _ in 0..repeat {
        for r in results.iter_mut() {
            let (t, s) = one(r.0, r.1, rounds);
            r.2.push(t.as_nanos() as f64 / rounds as f64);
            r.3 = s;
        }
    }
    println!(
        "{:<8} {:>12} {:>10} {:>10} {:>14} {:>14} {:>12}",
        "reactor", "median ns/rt", "min", "max", "syscalls/rt", "eagain/rt", "parks/rt"
    );
    for (kind, lat, mut ns, s) in results {
        ns.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let per = |n: u64| n as f64 / rounds as f64;
        println!(
            "{:<8} {:>12.0} {:>10.0} {:>10.0} {:>14.3} {:>14.3} {:>12.3}",
            if lat {
                format!("{}+lat", kind.name())
            } else {
                kind.name().to_string()
            },
            ns[ns.len() / 2],
            ns[0],
            ns[ns.len() - 1],
            per(s.syscalls()),
            per(s.eagain),
            per(s.parks)
        );
    }
}
