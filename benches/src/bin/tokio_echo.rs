//! The echo server of `examples/echo.rs` on tokio, for the A/B benches.
//!
//! Flags: `--addr` (127.0.0.1:8080), `--flavor current|multi`, `--workers N`.
//! Exits 0 on SIGINT/SIGTERM.

use coreloop_benches::args::Args;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn main() -> std::io::Result<()> {
    let args = Args::from_env();
    coreloop_benches::tokio_server::serve(&args, echo)
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
