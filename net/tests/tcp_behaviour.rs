//! TCP behaviour: half-close, 1,000 concurrent connections, split halves, vectored writes,
//! peek, options, std conversions, and the errors connect and bind report.

mod common;

use common::{pattern, serve_echo};
use coreloop_net::{TcpListener, TcpStream};
use coreloop_runtime::io::{AsyncReadRentExt, AsyncWriteRentExt, AsyncWriteVectoredRentExt};
use coreloop_runtime::{reactor_test, spawn};
use std::io::ErrorKind;
use std::net::Shutdown;
use std::time::Duration;

reactor_test! {
    async fn half_close_gets_everything_back_then_eof() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let at = l.local_addr().unwrap();
        let server = spawn(async move { serve_echo(l.accept().await.unwrap().0).await.unwrap() });
        let mut s = TcpStream::connect(at).await.unwrap();
        let n = 100_000;
        let (res, _) = s.write_all(pattern(n, 0)).await;
        res.unwrap();
        s.shutdown(Shutdown::Write).await.unwrap();
        let (res, got) = s.read_exact(Vec::with_capacity(n)).await;
        res.unwrap();
        assert!(got == pattern(n, 0));
        let (res, _) = s.read(Vec::with_capacity(8)).await;
        assert_eq!(res.unwrap(), 0);
        assert_eq!(server.await.unwrap(), n as u64);
    }
}

reactor_test! {
    async fn thousand_concurrent_connections_all_served() {
        let l = TcpListener::builder("127.0.0.1:0").backlog(2048).listen().unwrap();
        let at = l.local_addr().unwrap();
        let server = spawn(async move {
            for _ in 0..1000 {
                let (s, _) = l.accept().await.unwrap();
                spawn(serve_echo(s));
            }
        });
        let clients: Vec<_> = (0..1000u32)
            .map(|i| {
                spawn(async move {
                    let mut s = TcpStream::connect(at).await.unwrap();
                    let msg = i.to_le_bytes().to_vec();
                    let (res, _) = s.write_all(msg.clone()).await;
                    res.unwrap();
                    let (res, got) = s.read_exact(Vec::with_capacity(4)).await;
                    res.unwrap();
                    assert_eq!(got, msg);
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
        server.await.unwrap();
    }
}

reactor_test! {
    async fn split_halves_vectored_writes_and_peek() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let at = l.local_addr().unwrap();
        let server = spawn(async move { serve_echo(l.accept().await.unwrap().0).await.unwrap() });
        let s = TcpStream::connect(at).await.unwrap();
        let (mut r, mut w) = s.into_split();
        let writer = spawn(async move {
            let bufs = vec![pattern(70_000, 0), Vec::new(), b"tail".to_vec(), pattern(3, 0)];
            let (res, bufs) = w.write_all_vectored(bufs).await;
            res.unwrap();
            assert_eq!(bufs.len(), 4);
            w.shutdown().await.unwrap();
        });
        let mut want = pattern(70_000, 0);
        want.extend_from_slice(b"tail");
        want.extend(pattern(3, 0));
        let (res, peeked) = r.peek(Vec::with_capacity(2)).await;
        assert!(res.unwrap() >= 1);
        assert_eq!(peeked[0], want[0]);
        let (res, got) = r.read_exact(Vec::with_capacity(want.len())).await;
        res.unwrap();
        assert!(got == want);
        writer.await.unwrap();
        server.await.unwrap();
    }
}

reactor_test! {
    async fn options_addresses_and_std_round_trip() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let at = l.local_addr().unwrap();
        let s = TcpStream::connect(at).await.unwrap();
        let (a, peer) = l.accept().await.unwrap();
        assert_eq!(s.peer_addr().unwrap(), at);
        assert_eq!(s.local_addr().unwrap(), peer);
        assert_eq!(a.peer_addr().unwrap(), peer);
        s.set_nodelay(true).unwrap();
        assert!(s.nodelay().unwrap());
        s.set_keepalive(true).unwrap();
        assert!(s.keepalive().unwrap());
        s.set_linger(Some(Duration::from_secs(3))).unwrap();
        assert_eq!(s.linger().unwrap(), Some(Duration::from_secs(3)));
        s.set_linger(None).unwrap();
        assert_eq!(s.linger().unwrap(), None);
        let std_s = s.into_std().unwrap();
        let s = TcpStream::from_std(std_s).unwrap();
        let (res, _) = s.write(b"x".as_slice()).await;
        assert_eq!(res.unwrap(), 1);
        let (res, got) = a.read(Vec::with_capacity(4)).await;
        assert_eq!(res.unwrap(), 1);
        assert_eq!(got, b"x");
    }
}

reactor_test! {
    async fn refused_and_addr_in_use() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let at = l.local_addr().unwrap();
        assert_eq!(TcpListener::bind(at).unwrap_err().kind(), ErrorKind::AddrInUse);
        drop(l);
        let e = TcpStream::connect(at).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
        assert_eq!(e.raw_os_error(), Some(111));
        let e = TcpStream::connect_timeout(at, Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
    }
}

reactor_test! {
    async fn reuse_port_lets_two_listeners_share() {
        let a = TcpListener::builder("127.0.0.1:0").reuse_port(true).listen().unwrap();
        let at = a.local_addr().unwrap();
        let b = TcpListener::builder(at).reuse_port(true).listen().unwrap();
        assert_eq!(b.local_addr().unwrap(), at);
        let v6 = TcpListener::builder("[::1]:0").only_v6(true).listen().unwrap();
        assert!(v6.local_addr().unwrap().is_ipv6());
    }
}

reactor_test! {
    async fn connect_timeout_succeeds_and_times_out() {
        // A listener that never accepts, with the smallest queue: once it is full, the
        // kernel drops further SYNs and a connect waits.
        let l = TcpListener::builder("127.0.0.1:0").backlog(0).listen().unwrap();
        let at = l.local_addr().unwrap();
        let mut kept = Vec::new();
        let mut timed_out = false;
        for _ in 0..16 {
            match TcpStream::connect_timeout(at, Duration::from_millis(200)).await {
                Ok(s) => kept.push(s),
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
                    timed_out = true;
                    break;
                }
            }
        }
        assert!(!kept.is_empty(), "the first connect fits in the queue");
        assert!(timed_out, "a full queue makes connect wait");
    }
}

reactor_test! {
    async fn incoming_is_a_stream() {
        use futures_core::Stream;
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let at = l.local_addr().unwrap();
        let c = spawn(async move { TcpStream::connect(at).await.unwrap() });
        let mut inc = std::pin::pin!(l.incoming());
        let s = std::future::poll_fn(|cx| inc.as_mut().poll_next(cx)).await.unwrap().unwrap();
        let c = c.await.unwrap();
        assert_eq!(s.peer_addr().unwrap(), c.local_addr().unwrap());
    }
}

reactor_test! {
    async fn address_in_use_and_connect_timeout_errors_name_the_address() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let at = l.local_addr().unwrap();
        let e = TcpListener::bind(at).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AddrInUse);
        assert!(e.to_string().contains(&at.to_string()), "{e}");
        let e = coreloop_net::UdpSocket::bind("127.0.0.1:0")
            .and_then(|u| coreloop_net::UdpSocket::bind(u.local_addr()?))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AddrInUse);
        assert!(e.to_string().contains("127.0.0.1:"), "{e}");

        // A listener whose accept queue is full (backlog 0, never accepting) drops further
        // SYNs, so a connect to it waits until its timeout.
        let full = TcpListener::builder("127.0.0.1:0").backlog(0).listen().unwrap();
        let at = full.local_addr().unwrap();
        let mut kept = Vec::new();
        let mut timed_out = None;
        for _ in 0..16 {
            match TcpStream::connect_timeout(at, Duration::from_millis(300)).await {
                Ok(s) => kept.push(s),
                Err(e) => {
                    timed_out = Some(e);
                    break;
                }
            }
        }
        let e = timed_out.expect("a connect to a full accept queue timed out");
        assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
        assert!(e.to_string().contains(&at.to_string()), "{e}");
        assert!(e.to_string().contains("300ms"), "{e}");
    }
}
