//! What the tokio twins of the examples share: the runtime flavor (`--flavor current|multi`,
//! `--workers N`), the listener on `--addr`, and the accept loop that backs off 10 ms on an
//! accept error (EMFILE and friends) and stops on SIGINT/SIGTERM, as the coreloop examples do.

use crate::args::Args;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// Serves every accepted connection with `handle` until SIGINT or SIGTERM.
pub fn serve<F, Fut>(args: &Args, handle: F) -> io::Result<()>
where
    F: Fn(TcpStream) -> Fut + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let addr: SocketAddr = args.get("--addr", "127.0.0.1:8080".parse().expect("a valid default"));
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
                        tokio::spawn(handle(stream));
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
        Ok::<_, io::Error>(())
    })?;
    // Connections still open are dropped with the runtime.
    drop(rt);
    Ok(())
}
