//! A TLS echo server on coreloop: tokio-rustls (ring provider) over the compat adapter, with
//! a self-signed certificate for `localhost` generated at start-up (rcgen). One
//! `SO_REUSEPORT` listener per core; each connection echoes what it reads until the client
//! closes. It also answers a single HTTP request line with a small HTTP response, so
//! `curl -k` gets an answer.
//!
//! ```text
//! cargo run --release --example tls_echo -- --addr 127.0.0.1:4433
//! curl -k https://127.0.0.1:4433/
//! openssl s_client -connect 127.0.0.1:4433 -quiet     # then type lines: they come back
//! ```
//!
//! Flags: `--addr` (127.0.0.1:4433), `--cores N` (every core by default),
//! `--reactor uring|epoll|auto`.

use coreloop::net::TcpListener;
use coreloop::{ReactorKind, Runtime};
use coreloop_compat::Compat;
use std::io;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

/// A server config for a fresh self-signed `localhost` certificate; the certificate too, for
/// a client that wants to trust it.
fn self_signed() -> io::Result<(Arc<ServerConfig>, CertificateDer<'static>)> {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .map_err(io::Error::other)?;
    let cert = ck.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .map_err(io::Error::other)?;
    Ok((Arc::new(config), cert))
}

/// Echoes until the client closes; a first read that looks like an HTTP request gets an HTTP
/// answer instead.
async fn echo(acceptor: TlsAcceptor, stream: coreloop::net::TcpStream) -> io::Result<()> {
    let mut tls = acceptor.accept(Compat::new(stream)).await?;
    let mut buf = vec![0u8; 16 * 1024];
    let mut first = true;
    loop {
        let n = tls.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        if first && buf[..n].starts_with(b"GET ") {
            let body = "Hello over TLS from coreloop\n";
            let res = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            tls.write_all(res.as_bytes()).await?;
            break;
        }
        first = false;
        tls.write_all(&buf[..n]).await?;
        tls.flush().await?;
    }
    tls.shutdown().await
}

fn main() -> io::Result<()> {
    let mut addr = String::from("127.0.0.1:4433");
    let mut cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut reactor = ReactorKind::Auto;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "--addr" => addr = value,
            "--cores" => cores = value.parse().map_err(io::Error::other)?,
            "--reactor" => reactor = ReactorKind::parse(&value)?,
            other => return Err(io::Error::other(format!("unknown flag {other}"))),
        }
    }
    let (config, _) = self_signed()?;
    let rt = Runtime::builder().cores(cores).reactor(reactor).build()?;
    eprintln!(
        "tls_echo: https://{addr}/ on {cores} cores, {:?}",
        rt.reactor()
    );
    rt.run(|_core| {
        let (addr, acceptor) = (addr.clone(), TlsAcceptor::from(config.clone()));
        async move {
            let listener = TcpListener::builder(addr.as_str())
                .reuse_port(true)
                .listen()?;
            loop {
                let (stream, peer) = listener.accept().await?;
                let acceptor = acceptor.clone();
                coreloop::spawn(async move {
                    if let Err(e) = echo(acceptor, stream).await {
                        eprintln!("tls_echo: {peer}: {e}");
                    }
                });
            }
            #[allow(unreachable_code)]
            Ok::<(), io::Error>(())
        }
    })?
    .into_iter()
    .collect()
}
