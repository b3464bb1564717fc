//! What the compat adapter costs beside native owned-buffer I/O, on one core over a Unix
//! socket pair (no network stack in the way, so the adapter's share shows): bulk transfer
//! of 1 GiB in 64 KiB pieces, and 100,000 ping-pongs of 64 bytes.
//!
//! ```text
//! cargo run --release --example compat_cost -- --reactor uring
//! ```

use coreloop::io::{AsyncReadRentExt, AsyncWriteRentExt};
use coreloop::net::UnixStream;
use coreloop::{ReactorKind, Runtime};
use coreloop_compat::Compat;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BULK: usize = 1 << 30;
const PIECE: usize = 64 << 10;
const PINGS: usize = 100_000;
const PING: usize = 64;

async fn native_bulk() -> Duration {
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let t = Instant::now();
    let writer = async move {
        let mut buf = vec![7u8; PIECE];
        for _ in 0..BULK / PIECE {
            let (res, b) = a.write_all(buf).await;
            res.unwrap();
            buf = b;
        }
    };
    let reader = async move {
        let mut buf = Vec::with_capacity(PIECE);
        let mut got = 0;
        while got < BULK {
            buf.clear();
            let (res, b) = coreloop::io::AsyncReadRent::read(&mut b, buf).await;
            got += res.unwrap();
            buf = b;
        }
    };
    futures_util::future::join(writer, reader).await;
    t.elapsed()
}

async fn compat_bulk() -> Duration {
    let (a, b) = UnixStream::pair().unwrap();
    let (mut a, mut b) = (Compat::new(a), Compat::new(b));
    let t = Instant::now();
    let writer = async move {
        let buf = vec![7u8; PIECE];
        for _ in 0..BULK / PIECE {
            a.write_all(&buf).await.unwrap();
        }
        a.flush().await.unwrap();
    };
    let reader = async move {
        let mut buf = vec![0u8; PIECE];
        let mut got = 0;
        while got < BULK {
            got += b.read(&mut buf).await.unwrap();
        }
    };
    futures_util::future::join(writer, reader).await;
    t.elapsed()
}

async fn native_ping() -> Duration {
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let t = Instant::now();
    let echo = async move {
        let mut buf = Vec::with_capacity(PING);
        for _ in 0..PINGS {
            buf.clear();
            let (res, x) = b.read_exact(buf).await;
            res.unwrap();
            let (res, x) = b.write_all(x).await;
            res.unwrap();
            buf = x;
        }
    };
    let client = async move {
        let mut buf = vec![1u8; PING];
        for _ in 0..PINGS {
            let (res, mut x) = a.write_all(buf).await;
            res.unwrap();
            x.clear();
            let (res, x) = a.read_exact(x).await;
            res.unwrap();
            buf = x;
        }
    };
    futures_util::future::join(echo, client).await;
    t.elapsed()
}

async fn compat_ping() -> Duration {
    let (a, b) = UnixStream::pair().unwrap();
    let (mut a, mut b) = (Compat::new(a), Compat::new(b));
    let t = Instant::now();
    let echo = async move {
        let mut buf = [0u8; PING];
        for _ in 0..PINGS {
            b.read_exact(&mut buf).await.unwrap();
            b.write_all(&buf).await.unwrap();
            b.flush().await.unwrap();
        }
    };
    let client = async move {
        let mut buf = [1u8; PING];
        for _ in 0..PINGS {
            a.write_all(&buf).await.unwrap();
            a.flush().await.unwrap();
            a.read_exact(&mut buf).await.unwrap();
        }
    };
    futures_util::future::join(echo, client).await;
    t.elapsed()
}

fn main() {
    let kind = match std::env::args().nth(2) {
        Some(r) => ReactorKind::parse(&r).unwrap(),
        None => ReactorKind::Auto,
    };
    let rt = Runtime::builder().reactor(kind).build().unwrap();
    println!("reactor {:?}, one core, Unix socket pair", rt.reactor());
    let gib = |d: Duration| BULK as f64 / d.as_secs_f64() / (1u64 << 30) as f64;
    let (n, c) = (rt.block_on(native_bulk()), rt.block_on(compat_bulk()));
    println!(
        "bulk 1 GiB in 64 KiB: native {:.2} GiB/s, compat {:.2} GiB/s ({:.2}x the time)",
        gib(n),
        gib(c),
        c.as_secs_f64() / n.as_secs_f64()
    );
    let per = |d: Duration| d.as_secs_f64() * 1e9 / PINGS as f64;
    let (n, c) = (rt.block_on(native_ping()), rt.block_on(compat_ping()));
    println!(
        "ping-pong 64 B: native {:.0} ns, compat {:.0} ns per round trip ({:.2}x)",
        per(n),
        per(c),
        c.as_secs_f64() / n.as_secs_f64()
    );
}
