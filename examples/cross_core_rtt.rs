//! What a cross-core round trip costs with each of the ecosystem's channels: core 0 sends a
//! number to core 1, core 1 sends it back, 20,000 times; the median and 99th percentile are
//! printed per channel. Core 1 parks between messages when it has nothing to do, so each trip
//! includes the wake-up of a parked core (the eventfd write and the unpark).
//!
//! ```text
//! cargo run --release --example cross_core_rtt -- --reactor uring
//! ```

use coreloop::{ReactorKind, Runtime};
use futures_util::StreamExt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TRIPS: usize = 20_000;

/// One core's end of a two-way channel pair, so every channel runs the same loop.
trait Pipe: Send + 'static {
    fn send(&self, v: u64);
    fn recv(&mut self) -> impl std::future::Future<Output = Option<u64>>;
}

struct Tokio(
    tokio::sync::mpsc::UnboundedSender<u64>,
    tokio::sync::mpsc::UnboundedReceiver<u64>,
);
impl Pipe for Tokio {
    fn send(&self, v: u64) {
        self.0.send(v).unwrap()
    }
    async fn recv(&mut self) -> Option<u64> {
        self.1.recv().await
    }
}

struct Futures(
    futures_channel::mpsc::UnboundedSender<u64>,
    futures_channel::mpsc::UnboundedReceiver<u64>,
);
impl Pipe for Futures {
    fn send(&self, v: u64) {
        self.0.unbounded_send(v).unwrap()
    }
    async fn recv(&mut self) -> Option<u64> {
        self.1.next().await
    }
}

struct AsyncChannel(async_channel::Sender<u64>, async_channel::Receiver<u64>);
impl Pipe for AsyncChannel {
    fn send(&self, v: u64) {
        self.0.try_send(v).unwrap()
    }
    async fn recv(&mut self) -> Option<u64> {
        self.1.recv().await.ok()
    }
}

struct Flume(flume::Sender<u64>, flume::Receiver<u64>);
impl Pipe for Flume {
    fn send(&self, v: u64) {
        self.0.send(v).unwrap()
    }
    async fn recv(&mut self) -> Option<u64> {
        self.1.recv_async().await.ok()
    }
}

/// Round trips between core 0 and core 1 over `ends` (core 0's end, core 1's end, each
/// sending to the other): the trip times, sorted.
fn measure<P: Pipe>(kind: ReactorKind, ends: (P, P)) -> Vec<Duration> {
    let rt = Runtime::builder().cores(2).reactor(kind).build().unwrap();
    let ends = [Mutex::new(Some(ends.0)), Mutex::new(Some(ends.1))];
    let out = rt
        .run(|core| {
            let mut pipe = ends[core.index].lock().unwrap().take().unwrap();
            async move {
                let mut times = Vec::with_capacity(TRIPS);
                for i in 0..TRIPS as u64 {
                    if core.index == 0 {
                        let t = Instant::now();
                        pipe.send(i);
                        assert_eq!(pipe.recv().await, Some(i));
                        times.push(t.elapsed());
                    } else {
                        let v = pipe.recv().await.unwrap();
                        pipe.send(v);
                    }
                }
                times
            }
        })
        .unwrap();
    let mut times = out.into_iter().next().unwrap();
    times.sort();
    times
}

fn main() {
    let kind = match std::env::args().nth(2) {
        Some(r) => ReactorKind::parse(&r).unwrap(),
        None => ReactorKind::Auto,
    };
    let report = |name: &str, t: Vec<Duration>| {
        let p = |q: f64| t[((t.len() as f64 * q) as usize).min(t.len() - 1)];
        println!("{name:<14} median {:>6.1?}  p99 {:>6.1?}", p(0.5), p(0.99));
    };
    report(
        "tokio::sync",
        measure(kind, {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            let (tx2, rx2) = tokio::sync::mpsc::unbounded_channel();
            (Tokio(tx, rx2), Tokio(tx2, rx))
        }),
    );
    report(
        "futures",
        measure(kind, {
            let (tx, rx) = futures_channel::mpsc::unbounded();
            let (tx2, rx2) = futures_channel::mpsc::unbounded();
            (Futures(tx, rx2), Futures(tx2, rx))
        }),
    );
    report(
        "async-channel",
        measure(kind, {
            let (tx, rx) = async_channel::unbounded();
            let (tx2, rx2) = async_channel::unbounded();
            (AsyncChannel(tx, rx2), AsyncChannel(tx2, rx))
        }),
    );
    report(
        "flume",
        measure(kind, {
            let (tx, rx) = flume::unbounded();
            let (tx2, rx2) = flume::unbounded();
            (Flume(tx, rx2), Flume(tx2, rx))
        }),
    );
}
