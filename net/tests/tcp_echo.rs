//! TCP echo over IPv4 and IPv6: 1 byte, 64 KiB and 16 MiB, byte-identical, on both reactors.

mod common;

use common::{check_echo, serve_echo};
use coreloop_net::{TcpListener, TcpStream};
use coreloop_runtime::{reactor_test, spawn};

async fn echo_sizes(addr: &str) {
    let l = TcpListener::bind(addr).unwrap();
    let at = l.local_addr().unwrap();
    let server = spawn(async move {
        for _ in 0..3 {
            let (s, _) = l.accept().await.unwrap();
            spawn(serve_echo(s));
        }
    });
    for n in [1, 64 * 1024, 16 * 1024 * 1024] {
        let s = TcpStream::connect(at).await.unwrap();
        check_echo(s, n).await;
    }
    server.await.unwrap();
}

reactor_test! {
    async fn echo_ipv4() {
        echo_sizes("127.0.0.1:0").await;
    }
}

reactor_test! {
    async fn echo_ipv6() {
        echo_sizes("[::1]:0").await;
    }
}
