//! Regression: on epoll, a read that comes back short because the peer sent its last bytes
//! and its FIN together must not clear readiness; the next read has to see the end of stream.
//! (Found by the echo example's half-close test: the FIN was never seen, about one time in
//! three.)

use coreloop::net::{TcpListener, TcpStream};
use std::io::Write;
use std::time::Duration;

#[coreloop::test]
async fn eof_after_short_read_is_seen() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    for _ in 0..20 {
        let client = std::net::TcpStream::connect(addr).unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let peer = coreloop::spawn_blocking(move || {
            // Let the server's first read wait, then send data and FIN at once.
            std::thread::sleep(Duration::from_millis(20));
            let mut c = client;
            c.write_all(b"last bytes").unwrap();
            c.shutdown(std::net::Shutdown::Write).unwrap();
            c
        });
        let stream: TcpStream = stream;
        let (res, buf) = stream.read(Vec::with_capacity(4096)).await;
        assert!(res.unwrap() > 0);
        let _c = peer.await.unwrap();
        let mut buf = buf;
        // Drain what is left, then the end of stream, within a bound.
        loop {
            buf.clear();
            let (res, back) = coreloop::time::timeout(Duration::from_secs(5), stream.read(buf))
                .await
                .expect("the end of stream was never seen");
            buf = back;
            if res.unwrap() == 0 {
                break;
            }
        }
    }
}
