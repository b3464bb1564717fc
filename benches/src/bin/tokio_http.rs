//! The HTTP server of `examples/http.rs` on tokio, for the A/B benches: the same protocol
//! module (`coreloop_benches::http`), the same `Date` cache, the same loop shape (read,
//! answer every complete request, one write).
//!
//! Flags: `--addr` (127.0.0.1:8080), `--flavor current|multi`, `--workers N` (multi only;
//! default: tokio's, one per CPU the process may use), `--max-body`, `--header-timeout`,
//! `--idle-timeout`. Exits 0 on SIGINT/SIGTERM.

use coreloop_benches::args::Args;
use coreloop_benches::http::{DateCache, Limits, respond};
use std::cell::RefCell;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Clone, Copy)]
struct Config {
    limits: Limits,
    header_timeout: Duration,
    idle_timeout: Duration,
}

thread_local! {
    static DATE: RefCell<DateCache> = RefCell::new(DateCache::new());
}

fn main() -> std::io::Result<()> {
    let args = Args::from_env();
    let cfg = Config {
        limits: Limits {
            max_body: args.get("--max-body", Limits::default().max_body),
            ..Limits::default()
        },
        header_timeout: args.duration("--header-timeout", Duration::from_secs(10)),
        idle_timeout: args.duration("--idle-timeout", Duration::from_secs(60)),
    };
    coreloop_benches::tokio_server::serve(&args, move |stream| serve(stream, cfg))
}

async fn serve(mut stream: TcpStream, cfg: Config) {
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut out: Vec<u8> = Vec::with_capacity(4096);
    let mut in_headers = false;
    loop {
        if buf.len() == buf.capacity() {
            buf.reserve(buf.capacity());
        }
        let limit = if in_headers {
            cfg.header_timeout
        } else {
            cfg.idle_timeout
        };
        let n = match tokio::time::timeout(limit, stream.read_buf(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(n)) => n,
        };
        debug_assert!(n > 0);
        let p = DATE.with(|d| {
            let mut d = d.borrow_mut();
            respond(&buf, &mut out, &cfg.limits, d.get())
        });
        buf.drain(..p.consumed);
        in_headers = p.in_headers;
        if !out.is_empty() {
            if stream.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
        if p.close {
            let _ = stream.shutdown().await;
            return;
        }
    }
}
