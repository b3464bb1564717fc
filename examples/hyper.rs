//! hyper on coreloop: HTTP/1.1 and HTTP/2 (h2c, prior knowledge) on the same port, one
//! `SO_REUSEPORT` listener per core, each connection served on the core that accepted it
//! through the compat adapter (`coreloop::compat`). hyper-util's `auto` builder tells the two
//! protocols apart by the connection preface.
//!
//! ```text
//! cargo run --release --example hyper -- --addr 127.0.0.1:3000 --cores 2 --reactor uring
//! curl http://127.0.0.1:3000/
//! curl --http2-prior-knowledge http://127.0.0.1:3000/
//! curl --data-binary @some-file http://127.0.0.1:3000/echo
//! ```
//!
//! `GET /` answers which core and protocol served it; `POST /echo` streams the request body
//! back as it arrives; anything else is 404. Flags: `--addr` (127.0.0.1:3000), `--cores N`
//! (every core by default), `--reactor uring|epoll|auto`. SIGUSR1 prints the reactor
//! counters to stderr (for coreloop-bench).

use bytes::Bytes;
use coreloop::net::TcpListener;
use coreloop::signal::unix::SignalKind;
use coreloop::{ReactorKind, Runtime};
use coreloop_compat::Compat;
use coreloop_compat::hyper::{CoreExecutor, CoreTimer};
use coreloop_examples_support::server;
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::server::conn::auto;
use std::convert::Infallible;

type Body = Either<Full<Bytes>, Incoming>;

/// The whole application: a greeting, an echo, and a 404.
async fn handle(req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let text = |status, s: String| {
        let mut res = Response::new(Either::Left(Full::new(Bytes::from(s))));
        *res.status_mut() = status;
        res
    };
    Ok(match (req.method(), req.uri().path()) {
        (&Method::GET, "/") => text(
            StatusCode::OK,
            format!(
                "Hello from coreloop core {} ({:?}, {:?})\n",
                coreloop::current_core().unwrap_or(0),
                coreloop::current_reactor().unwrap_or(ReactorKind::Auto),
                req.version(),
            ),
        ),
        // The body streams back frame by frame: hyper pulls from the request as it writes.
        (&Method::POST, "/echo") => Response::new(Either::Right(req.into_body())),
        _ => text(StatusCode::NOT_FOUND, "not found\n".into()),
    })
}

/// Prints the counters line of every core (`stats reactor=… reactor_syscalls=…`) on each
/// SIGUSR1.
async fn print_stats_on_sigusr1(kind: ReactorKind) {
    let Ok(mut usr1) = coreloop::signal::unix::signal(SignalKind::user_defined1()) else {
        return;
    };
    while usr1.recv().await.is_some() {
        let per_core = server::all_core_stats().await;
        eprintln!("{}", server::stats_line(kind, &per_core));
    }
}

fn main() -> std::io::Result<()> {
    let mut addr = String::from("127.0.0.1:3000");
    let mut cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut reactor = ReactorKind::Auto;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "--addr" => addr = value,
            "--cores" => cores = value.parse().map_err(std::io::Error::other)?,
            "--reactor" => reactor = ReactorKind::parse(&value)?,
            other => return Err(std::io::Error::other(format!("unknown flag {other}"))),
        }
    }
    // SIGUSR1 prints the reactor counters (as the other example servers do; coreloop-bench
    // reads them): blocked before the cores start, so every core thread inherits the mask.
    coreloop::signal::block(&[SignalKind::user_defined1()])?;
    let rt = Runtime::builder().cores(cores).reactor(reactor).build()?;
    eprintln!("hyper: http://{addr}/ on {cores} cores, {:?}", rt.reactor());
    rt.run(|core| {
        let addr = addr.clone();
        async move {
            if core.index == 0 {
                coreloop::spawn(print_stats_on_sigusr1(core.reactor));
            }
            let listener = TcpListener::builder(addr.as_str())
                .reuse_port(true)
                .listen()?;
            loop {
                let (stream, _) = listener.accept().await?;
                let _ = stream.set_nodelay(true);
                coreloop::spawn(async move {
                    let mut server = auto::Builder::new(CoreExecutor);
                    server.http1().timer(CoreTimer);
                    server.http2().timer(CoreTimer);
                    let conn = server.serve_connection(Compat::new(stream), service_fn(handle));
                    if let Err(e) = conn.await {
                        eprintln!("hyper: connection: {e}");
                    }
                });
            }
            #[allow(unreachable_code)]
            Ok::<(), std::io::Error>(())
        }
    })?
    .into_iter()
    .collect()
}
