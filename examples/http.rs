//! An HTTP/1.1 server (RFC 9112) on coreloop, in the shape a production server takes:
//! `GET /` and `HEAD /` answer `Hello, World!` (the TechEmpower plaintext shape), `POST /echo`
//! sends the request body back (Content-Length or chunked, `Expect: 100-continue` honoured),
//! anything else is 404/405/501. Keep-alive, pipelining with backpressure, request limits,
//! header/body/write/idle deadlines, lingering close, graceful shutdown on SIGINT/SIGTERM.
//! The protocol and the connection loop live in `coreloop-examples-support`
//! (`http_proto`, `http_server`); this file is the program around them.
//!
//! ```text
//! cargo run --release --example http -- --addr 127.0.0.1:8080 --cores 2 --reactor uring --pin
//! ```
//!
//! Flags: `--addr` (127.0.0.1:8080), `--cores N` (one `SO_REUSEPORT` listener per core),
//! `--reactor uring|epoll|auto`, `--pin`, `--max-body BYTES` (1 MiB), `--header-timeout`
//! (10s), `--idle-timeout` (60s), `--body-timeout` (60s: a whole body), `--min-body-rate
//! BYTES_PER_SEC` (1024, after the header timeout's grace; 0 turns it off), `--write-timeout`
//! (10s), `--linger` (2s: how long a closing connection drains its input), `--grace` (5s: how
//! long shutdown waits for requests in flight). SIGUSR1 prints the reactor counters to
//! stderr; so does the exit.

use coreloop::net::TcpStream;
use coreloop_examples_support::args::Args;
use coreloop_examples_support::http_proto::Limits;
use coreloop_examples_support::http_server::{Config, serve_conn};
use coreloop_examples_support::server;
use std::rc::Rc;

fn main() {
    let args = Args::from_env();
    let opts = server::ServerOpts::from_args(&args);
    let d = Config::default();
    let cfg = Config {
        limits: Limits {
            max_body: args.get("--max-body", d.limits.max_body),
            ..d.limits
        },
        header_timeout: args.duration("--header-timeout", d.header_timeout),
        idle_timeout: args.duration("--idle-timeout", d.idle_timeout),
        body_timeout: args.duration("--body-timeout", d.body_timeout),
        min_body_rate: args.get("--min-body-rate", d.min_body_rate),
        write_timeout: args.duration("--write-timeout", d.write_timeout),
        linger: args.duration("--linger", d.linger),
    };
    let res = server::run("http", &opts, |shutdown| {
        let cfg = Rc::new(cfg);
        move |stream: TcpStream| {
            let cfg = cfg.clone();
            let shutdown = shutdown.clone();
            async move {
                let _ = stream.set_nodelay(true);
                serve_conn(stream, &cfg, &shutdown).await;
            }
        }
    });
    if let Err(e) = res {
        eprintln!("http: {e}");
        std::process::exit(1);
    }
}
