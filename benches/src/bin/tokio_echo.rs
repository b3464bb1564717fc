//! The echo server of `examples/echo.rs` on tokio, for the A/B benches.
//!
//! Flags: `--addr` (127.0.0.1:8080), `--flavor current|multi`, `--workers N`.
//! Exits 0 on SIGINT/SIGTERM.

use coreloop_benches::args::Args;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn main() -> std::io::Result<()> {
    let args = Args::from_env();
    let addr: SocketAddr = args.get("--addr", "127.0.0.1:8080".parse().unwrap());
    let flavor = args.raw("--flavor").unwrap_or("current").to_string();
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
                        tokio::spawn(echo(stream));
                    }
                    Err(e) => {
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
    drop(rt);
    Ok(())
}

async fn echo(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    // A peer that half-closed gets our half closed too.
    let _ = stream.shutdown().await;
}
