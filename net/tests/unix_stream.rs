//! Unix streams: echo of 1 byte, 64 KiB and 16 MiB, descriptor passing, abstract names, and
//! bad paths as InvalidInput.

mod common;

use common::{check_echo, serve_echo};
use coreloop_net::unix::SocketAddr;
use coreloop_net::{UnixListener, UnixStream};
use coreloop_runtime::{reactor_test, spawn};
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsFd;

reactor_test! {
    async fn echo_sizes_over_a_path() {
        let dir = std::env::temp_dir().join(format!("coreloop-net-{}-{:?}", std::process::id(),
            coreloop_runtime::current_reactor()));
        let _ = std::fs::remove_file(&dir);
        let l = UnixListener::bind(&dir).unwrap();
        let server = spawn(async move {
            for _ in 0..3 {
                let (s, _) = l.accept().await.unwrap();
                spawn(serve_echo(s));
            }
        });
        for n in [1, 64 * 1024, 16 * 1024 * 1024] {
            check_echo(UnixStream::connect(&dir).await.unwrap(), n).await;
        }
        server.await.unwrap();
        std::fs::remove_file(&dir).unwrap();
    }
}

reactor_test! {
    async fn passed_pipe_end_works_on_the_far_side() {
        let (a, b) = UnixStream::pair().unwrap();
        let (mut rd, wr) = std::io::pipe().unwrap();
        let (res, _) = a.send_fds(&[wr.as_fd()], b"f".as_slice()).await;
        assert_eq!(res.unwrap(), 1);
        drop(wr);
        let (res, buf) = b.recv_fds(Vec::with_capacity(4), 4).await;
        let (n, fds) = res.unwrap();
        assert_eq!((n, buf.as_slice(), fds.len()), (1, b"f".as_slice(), 1));
        let mut w = std::fs::File::from(fds.into_iter().next().unwrap());
        w.write_all(b"through the passed fd").unwrap();
        drop(w);
        let mut got = String::new();
        rd.read_to_string(&mut got).unwrap();
        assert_eq!(got, "through the passed fd");
    }
}

reactor_test! {
    async fn abstract_names_and_bad_paths() {
        let name = format!("coreloop-net-test-{}-{:?}", std::process::id(),
            coreloop_runtime::current_reactor());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let l = UnixListener::bind_addr(&addr).unwrap();
        assert_eq!(l.local_addr().unwrap().as_abstract_name(), Some(name.as_bytes()));
        let c = UnixStream::connect_addr(&addr).await.unwrap();
        let (s, _) = l.accept().await.unwrap();
        // One writev and one readv, checked byte for byte: no injected short counts here.
        let exact = coreloop_runtime::testing::exact();
        let (res, _) = c.writev(vec![b"ab".to_vec(), b"c".to_vec()]).await;
        assert_eq!(res.unwrap(), 3);
        let (res, bufs) = s.readv(vec![Vec::with_capacity(1), Vec::with_capacity(8)]).await;
        assert_eq!(res.unwrap(), 3);
        assert_eq!(bufs, vec![b"a".to_vec(), b"bc".to_vec()]);
        drop(exact);
        for bad in ["", "nul\0inside", &"x".repeat(200)] {
            let e = UnixListener::bind(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            let e = UnixStream::connect(bad).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
        }
    }
}
