//! An HTTP/1.1 server (RFC 9112) on coreloop: `GET /` answers `Hello, World!` (the
//! TechEmpower plaintext shape), `POST /echo` sends the request body back (Content-Length or
//! chunked), anything else is 404. Keep-alive, pipelining (every complete request in a read
//! is answered, the answers leave in one write), request limits, slowloris and idle timeouts,
//! graceful shutdown on SIGINT/SIGTERM.
//!
//! ```text
//! cargo run --release --example http -- --addr 127.0.0.1:8080 --cores 2 --reactor uring --pin
//! ```
//!
//! Flags: `--addr` (127.0.0.1:8080), `--cores N` (one `SO_REUSEPORT` listener per core),
//! `--reactor uring|epoll|auto`, `--pin`, `--max-body BYTES` (1 MiB), `--header-timeout`
//! (10s), `--idle-timeout` (60s), `--grace` (5s: how long shutdown waits for requests in
//! flight). SIGUSR1 prints the reactor counters to stderr; so does the exit.

#[path = "common/args.rs"]
mod args;
#[path = "common/http_proto.rs"]
mod http_proto;
#[path = "common/http_server.rs"]
mod http_server;
#[path = "common/server.rs"]
mod server;
#[path = "common/shutdown.rs"]
mod shutdown;

use args::Args;
use http_proto::Limits;
use http_server::{Config, serve_conn};
use std::rc::Rc;
use std::time::Duration;

fn main() {
    let args = Args::from_env();
    let opts = server::ServerOpts::from_args(&args);
    let cfg = Config {
        limits: Limits {
            max_body: args.get("--max-body", Limits::default().max_body),
            ..Limits::default()
        },
        header_timeout: args.duration("--header-timeout", Duration::from_secs(10)),
        idle_timeout: args.duration("--idle-timeout", Duration::from_secs(60)),
    };
    let res = server::run("http", &opts, |shutdown| {
        let cfg = Rc::new(cfg);
        move |stream: coreloop::net::TcpStream| {
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
