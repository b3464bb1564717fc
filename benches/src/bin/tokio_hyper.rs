//! The hyper server of `examples/hyper.rs` on tokio, for the A/B benches: the same hyper and
//! hyper-util versions, hyper-util's `auto` builder (HTTP/1.1 or h2c by preface), the same
//! routes (`GET /` answers a greeting, `POST /echo` streams the body back, anything else is
//! 404), over tokio's own I/O (`hyper_util::rt::TokioIo`) instead of coreloop's adapter.
//!
//! Flags: `--addr` (127.0.0.1:8080), `--flavor current|multi`, `--workers N` (multi only).
//! Exits 0 on SIGINT/SIGTERM.

use bytes::Bytes;
use coreloop_benches::args::Args;
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use tokio::net::TcpStream;

type Body = Either<Full<Bytes>, Incoming>;

/// The same application as the coreloop example's `handle`.
async fn handle(req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let text = |status, s: String| {
        let mut res = Response::new(Either::Left(Full::new(Bytes::from(s))));
        *res.status_mut() = status;
        res
    };
    Ok(match (req.method(), req.uri().path()) {
        (&Method::GET, "/") => text(
            StatusCode::OK,
            format!("Hello from tokio ({:?})\n", req.version()),
        ),
        (&Method::POST, "/echo") => Response::new(Either::Right(req.into_body())),
        _ => text(StatusCode::NOT_FOUND, "not found\n".into()),
    })
}

async fn serve(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut server = auto::Builder::new(TokioExecutor::new());
    server.http1().timer(TokioTimer::new());
    server.http2().timer(TokioTimer::new());
    let conn = server.serve_connection(TokioIo::new(stream), service_fn(handle));
    if let Err(e) = conn.await {
        eprintln!("tokio_hyper: connection: {e}");
    }
}

fn main() -> std::io::Result<()> {
    let args = Args::from_env();
    coreloop_benches::tokio_server::serve(&args, serve)
}
