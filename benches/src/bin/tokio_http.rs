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
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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
    let addr: SocketAddr = args.get("--addr", "127.0.0.1:8080".parse().unwrap());
    let flavor = args.raw("--flavor").unwrap_or("current").to_string();
    let cfg = Config {
        limits: Limits {
            max_body: args.get("--max-body", Limits::default().max_body),
            ..Limits::default()
        },
        header_timeout: args.duration("--header-timeout", Duration::from_secs(10)),
        idle_timeout: args.duration("--idle-timeout", Duration::from_secs(60)),
    };
    let rt = match flavor.as_str() {
        "current" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        "multi" => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            if let Some(n) = args.raw("--workers") {
                b.worker_threads(n.parse().expect("--workers N"));
            }
            b.enable_all().build()?
        }
        other => {
            eprintln!("--flavor {other:?}: expected current or multi");
            std::process::exit(2)
        }
    };
    rt.block_on(async move {
        let listener = TcpListener::bind(addr).await?;
        println!("listening on {} (tokio {flavor})", listener.local_addr()?);
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        loop {
            tokio::select! {
                res = listener.accept() => match res {
                    Ok((stream, _)) => {
                        tokio::spawn(serve(stream, cfg));
                    }
                    Err(e) => {
                        // EMFILE and friends: back off, then accept again.
                        eprintln!("accept: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                },
                _ = term.recv() => break,
                _ = tokio::signal::ctrl_c() => break,
            }
        }
        Ok::<_, std::io::Error>(())
    })?;
    // Connections still open are dropped with the runtime.
    drop(rt);
    Ok(())
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
