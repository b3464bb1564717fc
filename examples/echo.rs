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

use coreloop::net::TcpStream;
use coreloop_examples_support::args::Args;
use coreloop_examples_support::{echo_conn, server};

fn main() {
    let args = Args::from_env();
    let opts = server::ServerOpts::from_args(&args);
    let res = server::run("echo", &opts, |shutdown| {
        move |stream: TcpStream| echo_conn::echo(stream, shutdown.clone())
    });
    if let Err(e) = res {
        eprintln!("echo: {e}");
        std::process::exit(1);
    }
}
