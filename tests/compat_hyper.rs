//! A hyper server and a hyper client, both on coreloop through the compat adapter, on both
//! reactors: 1,000 HTTP/1.1 requests on one keep-alive connection, 1,000 HTTP/2 requests
//! multiplexed on one connection, and a 16 MiB body streamed up and echoed back down on each
//! protocol.

use bytes::Bytes;
use coreloop::net::{TcpListener, TcpStream};
use coreloop_compat::Compat;
use coreloop_compat::hyper::{CoreExecutor, CoreTimer};
use http_body_util::{BodyExt, Either, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::net::SocketAddr;

const REQUESTS: usize = 1000;
const BIG: usize = 16 << 20;
const CHUNK: usize = 64 << 10;

/// `GET /n/<i>` answers `<i>`; `POST /echo` streams the body back.
async fn handle(
    req: Request<Incoming>,
) -> Result<Response<Either<Full<Bytes>, Incoming>>, Infallible> {
    Ok(match (req.method(), req.uri().path()) {
        (&Method::POST, "/echo") => Response::new(Either::Right(req.into_body())),
        (_, path) => {
            let n = path.trim_start_matches("/n/").to_string();
            Response::new(Either::Left(Full::new(Bytes::from(n))))
        }
    })
}

/// Serves connections on this core until the test ends; its address.
fn server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    coreloop::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            // As HTTP servers do: no Nagle delay behind a short write (the fault plan makes
            // many), which would otherwise wait for the peer's delayed ACK.
            stream.set_nodelay(true).unwrap();
            coreloop::spawn(async move {
                let mut server = auto::Builder::new(CoreExecutor);
                server.http1().timer(CoreTimer);
                server.http2().timer(CoreTimer);
                server
                    .serve_connection(Compat::new(stream), service_fn(handle))
                    .await
                    .unwrap();
            });
        }
    });
    addr
}

async fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

/// Byte `i` of the big body.
fn big_byte(i: usize) -> u8 {
    (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[2]
}

/// The 16 MiB request body, produced 64 KiB at a time as hyper asks for it.
fn big_body() -> StreamBody<impl futures_util::Stream<Item = Result<Frame<Bytes>, Infallible>>> {
    let chunks = (0..BIG / CHUNK).map(|c| {
        let bytes: Vec<u8> = (c * CHUNK..(c + 1) * CHUNK).map(big_byte).collect();
        Ok(Frame::data(Bytes::from(bytes)))
    });
    StreamBody::new(futures_util::stream::iter(chunks))
}

/// Reads the echoed body frame by frame, checking every byte against the pattern.
async fn check_big(res: Response<Incoming>) {
    assert!(res.status().is_success(), "{:?}", res.status());
    let mut body = res.into_body();
    let mut seen = 0;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            for (k, b) in data.iter().enumerate() {
                assert_eq!(*b, big_byte(seen + k), "byte {} of the echo", seen + k);
            }
            seen += data.len();
        }
    }
    assert_eq!(seen, BIG, "echoed body length");
}

async fn text(res: Response<Incoming>) -> String {
    let body = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

#[coreloop::test]
async fn http1_keep_alive_1000_requests_and_16mib_stream() {
    let addr = server();
    let io = Compat::new(connect(addr).await);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
    coreloop::spawn(conn);
    for i in 0..REQUESTS {
        let req = Request::get(format!("/n/{i}"))
            .header("host", "localhost")
            .body(Either::Left(Full::new(Bytes::new())))
            .unwrap();
        let res = sender.send_request(req).await.unwrap();
        assert_eq!(text(res).await, i.to_string());
    }
    // The same connection streams 16 MiB up while the echo streams it down.
    let req = Request::post("/echo")
        .header("host", "localhost")
        .body(Either::Right(big_body()))
        .unwrap();
    check_big(sender.send_request(req).await.unwrap()).await;
}

#[coreloop::test]
async fn http2_multiplexed_1000_requests_and_16mib_stream() {
    let addr = server();
    let io = Compat::new(connect(addr).await);
    let (sender, conn) = hyper::client::conn::http2::Builder::new(CoreExecutor)
        .timer(CoreTimer)
        .handshake(io)
        .await
        .unwrap();
    coreloop::spawn(conn);
    // Every request is sent before any answer is awaited: they share the connection.
    let requests = (0..REQUESTS).map(|i| {
        let mut sender = sender.clone();
        async move {
            let req = Request::get(format!("http://localhost/n/{i}"))
                .body(Either::Left(Full::new(Bytes::new())))
                .unwrap();
            let res = sender.send_request(req).await.unwrap();
            assert_eq!(res.version(), hyper::Version::HTTP_2);
            assert_eq!(text(res).await, i.to_string());
        }
    });
    futures_util::future::join_all(requests).await;
    let req = Request::post("http://localhost/echo")
        .body(Either::Right(big_body()))
        .unwrap();
    check_big(sender.clone().send_request(req).await.unwrap()).await;
}
