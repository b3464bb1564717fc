//! UDP and Unix datagrams keep message boundaries; UDP options.

use coreloop_net::{UdpSocket, UnixDatagram};
use coreloop_runtime::reactor_test;
use std::net::Ipv4Addr;

reactor_test! {
    async fn udp_round_trips_keep_boundaries() {
        for addr in ["127.0.0.1:0", "[::1]:0"] {
            let a = UdpSocket::bind(addr).unwrap();
            let b = UdpSocket::bind(addr).unwrap();
            let b_at = b.local_addr().unwrap();
            for msg in [b"one".as_slice(), b"second", b"3"] {
                let (res, _) = a.send_to(msg, b_at).await;
                assert_eq!(res.unwrap(), msg.len());
            }
            for msg in [b"one".as_slice(), b"second", b"3"] {
                let (res, buf) = b.recv_from(Vec::with_capacity(64)).await;
                let (n, from) = res.unwrap();
                assert_eq!((n, buf.as_slice(), from), (msg.len(), msg, a.local_addr().unwrap()));
            }
            a.connect(b_at).await.unwrap();
            b.connect(a.local_addr().unwrap()).await.unwrap();
            assert_eq!(a.peer_addr().unwrap(), b_at);
            let (res, _) = a.send(b"x".as_slice()).await;
            res.unwrap();
            let (res, _) = a.send(b"yz".as_slice()).await;
            res.unwrap();
            let (res, buf) = b.recv(Vec::with_capacity(64)).await;
            assert_eq!((res.unwrap(), buf.as_slice()), (1, b"x".as_slice()));
            let (res, buf) = b.recv(Vec::with_capacity(64)).await;
            assert_eq!((res.unwrap(), buf.as_slice()), (2, b"yz".as_slice()));
        }
    }
}

reactor_test! {
    async fn udp_options() {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_broadcast(true).unwrap();
        assert!(s.broadcast().unwrap());
        s.set_ttl(17).unwrap();
        assert_eq!(s.ttl().unwrap(), 17);
        s.set_multicast_loop_v4(false).unwrap();
        assert!(!s.multicast_loop_v4().unwrap());
        let group = Ipv4Addr::new(239, 1, 2, 3);
        // Joining needs a multicast-capable interface; where there is one, leaving must work.
        if s.join_multicast_v4(group, Ipv4Addr::UNSPECIFIED).is_ok() {
            s.leave_multicast_v4(group, Ipv4Addr::UNSPECIFIED).unwrap();
        }
    }
}

reactor_test! {
    async fn unix_datagrams_keep_boundaries() {
        let (a, b) = UnixDatagram::pair().unwrap();
        for msg in [b"alpha".as_slice(), b"b"] {
            let (res, _) = a.send(msg).await;
            res.unwrap();
        }
        for msg in [b"alpha".as_slice(), b"b"] {
            let (res, buf) = b.recv(Vec::with_capacity(64)).await;
            assert_eq!((res.unwrap(), buf.as_slice()), (msg.len(), msg));
        }
        let path = std::env::temp_dir().join(format!("coreloop-dgram-{}-{:?}",
            std::process::id(), coreloop_runtime::current_reactor()));
        let _ = std::fs::remove_file(&path);
        let srv = UnixDatagram::bind(&path).unwrap();
        let cli = UnixDatagram::unbound().unwrap();
        let (res, _) = cli.send_to(b"hi".as_slice(), &path).await;
        res.unwrap();
        let (res, buf) = srv.recv_from(Vec::with_capacity(8)).await;
        let (n, from) = res.unwrap();
        assert_eq!((n, buf.as_slice()), (2, b"hi".as_slice()));
        assert!(from.is_unnamed());
        std::fs::remove_file(&path).unwrap();
    }
}
