//! A TCP echo server on coreloop: every byte read is written back.
//!
//! ```text
//! cargo run --release --example echo -- --addr 127.0.0.1:8080 --cores 2 --reactor epoll
//! ```
//!
//! Flags: `--addr` (127.0.0.1:8080), `--cores N` (one `SO_REUSEPORT` listener per core),
//! `--reactor uring|epoll|auto`, `--pin`, `--grace` (5s). It keeps serving when it runs out
//! of descriptors (accept backs off 10 ms and tries again), a reset ends only its own
//! connection, and a peer that half-closes gets everything it sent back, then our FIN.
//! SIGINT/SIGTERM stop it (exit 0); SIGUSR1 prints the reactor counters to stderr.

#[path = "common/args.rs"]
mod args;
#[path = "common/server.rs"]
mod server;
#[path = "common/shutdown.rs"]
mod shutdown;

use args::Args;
use coreloop::io::AsyncWriteRentExt;
use coreloop::net::TcpStream;
use shutdown::{Either, Shutdown, select};
use std::sync::Arc;

fn main() {
    let args = Args::from_env();
    let opts = server::ServerOpts::from_args(&args);
    let res = server::run("echo", &opts, |shutdown| {
        move |stream: TcpStream| echo(stream, shutdown.clone())
    });
    if let Err(e) = res {
        eprintln!("echo: {e}");
        std::process::exit(1);
    }
}

async fn echo(mut stream: TcpStream, shutdown: Arc<Shutdown>) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut stop = std::pin::pin!(shutdown.wait());
    loop {
        buf.clear();
        let (res, back) = match select(stream.read(buf), stop.as_mut()).await {
            Either::Left(r) => r,
            Either::Right(()) => return,
        };
        buf = back;
        match res {
            Ok(0) => {
                // The peer half-closed: all it sent is back, so close our half too.
                let _ = stream.shutdown(std::net::Shutdown::Write).await;
                return;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // Reset or another error: this connection only.
            Err(_) => return,
        }
        let (res, back) = stream.write_all(buf).await;
        buf = back;
        if res.is_err() {
            return;
        }
    }
}
