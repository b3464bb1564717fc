//! Step 3: time. Deadlines on I/O with `timeout`, a periodic `interval`, and `select`ing
//! between two futures by hand (no macro needed: a `poll_fn` that polls both).
//!
//! Self-contained: a slow server task answers after 300 ms; a client first waits 100 ms for
//! the answer (and gives up), then races a second request against a 1 s timer and an interval
//! that prints a heartbeat while it waits. Timers live on the core that created them.
//!
//! ```text
//! cargo run --example timeout_select
//! ```

use coreloop::Runtime;
use coreloop::io::AsyncWriteRentExt;
use coreloop::net::{TcpListener, TcpStream};
use coreloop::time::{interval, sleep, timeout};
use std::future::Future;
use std::io;
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

fn main() -> io::Result<()> {
    let rt = Runtime::new()?;
    rt.block_on(demo())
}

async fn demo() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    // The slow server: every request is answered 300 ms later.
    coreloop::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            coreloop::spawn(async move {
                let mut buf = Vec::with_capacity(64);
                loop {
                    let (res, b) = stream.read(buf).await;
                    if !matches!(res, Ok(n) if n > 0) {
                        return;
                    }
                    sleep(Duration::from_millis(300)).await;
                    let (res, mut b) = stream.write_all(b).await;
                    if res.is_err() {
                        return;
                    }
                    b.clear();
                    buf = b;
                }
            });
        }
    });

    let mut stream = TcpStream::connect(addr).await?;

    // 1. A deadline on one operation: `timeout` resolves to Err(Elapsed) if it is not done.
    let (res, _) = stream.write_all(b"first".to_vec()).await;
    res?;
    let start = Instant::now();
    match timeout(
        Duration::from_millis(100),
        stream.read(Vec::with_capacity(64)),
    )
    .await
    {
        Ok((res, buf)) => println!("answered in time: {:?} {:?}", res, buf),
        Err(_elapsed) => println!("no answer within 100 ms ({:?})", start.elapsed()),
    }
    // The read was dropped (cancelled); the answer is still on its way and arrives next.

    // 2. Racing two futures: the next answer against a heartbeat that ticks every 100 ms,
    //    all under a 1 s deadline.
    let mut ticks = interval(Duration::from_millis(100));
    let mut read = pin!(timeout(
        Duration::from_secs(1),
        stream.read(Vec::with_capacity(64))
    ));
    loop {
        let mut tick = pin!(ticks.tick());
        match select(read.as_mut(), tick.as_mut()).await {
            Either::Left(Ok((res, buf))) => {
                let n = res?;
                println!(
                    "answer after {:?}: {:?}",
                    start.elapsed(),
                    String::from_utf8_lossy(&buf[..n])
                );
                return Ok(());
            }
            Either::Left(Err(_elapsed)) => {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "no answer in 1 s"));
            }
            Either::Right(at) => println!("still waiting at {:?}", at - start),
        }
    }
}

/// Which of two futures finished first.
enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Polls `a`, then `b`, until one is ready. Both are borrowed: the one that lost is not
/// dropped and can be polled again (here the read, across heartbeats).
async fn select<A: Future + Unpin, B: Future + Unpin>(
    mut a: A,
    mut b: B,
) -> Either<A::Output, B::Output> {
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = std::pin::Pin::new(&mut a).poll(cx) {
            return Poll::Ready(Either::Left(v));
        }
        if let Poll::Ready(v) = std::pin::Pin::new(&mut b).poll(cx) {
            return Poll::Ready(Either::Right(v));
        }
        Poll::Pending
    })
    .await
}
