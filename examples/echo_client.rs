//! Step 2: a client. Connects to an echo server, sends a few messages, reads each one back
//! whole (`read_exact` finishes short reads), checks it and prints the round-trip times.
//!
//! ```text
//! cargo run --example echo_minimal &
//! cargo run --example echo_client -- 127.0.0.1:8080 1000
//! ```
//!
//! Arguments: the server's address (127.0.0.1:8080) and how many messages (10).

use coreloop::Runtime;
use coreloop::buf::IoBuf;
use coreloop::io::{AsyncReadRentExt, AsyncWriteRentExt};
use coreloop::net::TcpStream;
use std::io;
use std::time::{Duration, Instant};

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".into());
    let count: usize = args.next().map_or(10, |n| n.parse().expect("a count"));
    // One core is enough for a client: `block_on` runs one future on it.
    let rt = Runtime::new()?;
    let times = rt.block_on(round_trips(addr, count))?;
    let total: Duration = times.iter().sum();
    let worst = times.iter().max().copied().unwrap_or_default();
    println!(
        "{count} round trips, mean {:?}, worst {worst:?}",
        total / count.max(1) as u32
    );
    Ok(())
}

async fn round_trips(addr: String, count: usize) -> io::Result<Vec<Duration>> {
    let mut stream = TcpStream::connect(addr.as_str()).await?;
    stream.set_nodelay(true)?;
    let mut times = Vec::with_capacity(count);
    let mut back: Vec<u8> = Vec::new();
    for i in 0..count {
        let msg = format!("message {i}\n").into_bytes();
        let start = Instant::now();
        let (res, msg) = stream.write_all(msg).await;
        res?;
        // Read exactly as many bytes as were sent into a reused buffer: `slice` hands the
        // read a range of it, and `read_exact` fills the range.
        back.clear();
        back.reserve(msg.len());
        let (res, b) = stream.read_exact(back.slice(0..msg.len())).await;
        back = b.into_inner();
        res?;
        times.push(start.elapsed());
        if back != msg {
            return Err(io::Error::other(format!("echo of message {i} differs")));
        }
    }
    Ok(times)
}
