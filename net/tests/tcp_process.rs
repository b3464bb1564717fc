//! Checks that need a process of their own (re-exec of this test binary): SIGPIPE at its
//! default action, RLIMIT_NOFILE lowered, and descriptor counts.

mod common;

use coreloop_net::{TcpListener, TcpStream};
use coreloop_runtime::sys::resource::{RLIMIT_NOFILE, Rlimit, getrlimit, setrlimit};
use coreloop_runtime::{ReactorKind, testing};
use std::time::Duration;

fn sigpipe_default() {
    // SAFETY: SIG_DFL installs no handler; this child process runs only this test.
    let old = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_ne!(old, libc::SIG_ERR);
}

async fn write_to_reset_peer() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let s = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
    let (peer, _) = l.accept().await.unwrap();
    peer.set_linger(Some(Duration::ZERO)).unwrap();
    drop(peer); // RST
    coreloop_runtime::time::sleep(Duration::from_millis(20)).await;
    let mut err = None;
    for _ in 0..100 {
        let (res, _) = s.write(vec![1u8; 1024]).await;
        if let Err(e) = res {
            err = Some(e);
            break;
        }
    }
    let e = err.expect("writing to a reset peer fails");
    assert!(matches!(e.raw_os_error(), Some(32) | Some(104)), "{e}");
    let (res, _) = s.writev(vec![vec![1u8; 8]]).await;
    assert!(res.is_err());
}

#[test]
fn write_to_reset_peer_is_an_error_not_sigpipe() {
    if !common::in_child(
        "write_to_reset_peer_is_an_error_not_sigpipe",
        "CORELOOP_NET_SIGPIPE",
    ) {
        return;
    }
    sigpipe_default();
    if !coreloop_runtime::testing::should_run(coreloop_runtime::ReactorKind::Uring, module_path!())
    {
        return;
    }
    testing::run(ReactorKind::Uring, write_to_reset_peer());
    testing::run(ReactorKind::Epoll, write_to_reset_peer());
}

async fn emfile_then_recover() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let at = l.local_addr().unwrap();
    let c = TcpStream::connect(at).await.unwrap();
    let lim = getrlimit(RLIMIT_NOFILE).unwrap();
    setrlimit(
        RLIMIT_NOFILE,
        &Rlimit {
            cur: 64,
            max: lim.max,
        },
    )
    .unwrap();
    let mut fill = Vec::new();
    while let Ok((a, b)) = coreloop_runtime::sys::io::pipe(true) {
        fill.push(a);
        fill.push(b);
    }
    let mut files = Vec::new();
    while let Ok(f) = std::fs::File::open("/dev/null") {
        files.push(f);
    }
    let e = l.accept().await.unwrap_err();
    assert_eq!(e.raw_os_error(), Some(24), "{e}");
    drop(fill);
    drop(files);
    let (s, peer) = l.accept().await.unwrap();
    assert_eq!(peer, c.local_addr().unwrap());
    drop(s);
    setrlimit(RLIMIT_NOFILE, &lim).unwrap();
}

#[test]
fn accept_reports_emfile_and_recovers() {
    if !common::in_child("accept_reports_emfile_and_recovers", "CORELOOP_NET_EMFILE") {
        return;
    }
    if !coreloop_runtime::testing::should_run(coreloop_runtime::ReactorKind::Uring, module_path!())
    {
        return;
    }
    testing::run(ReactorKind::Uring, emfile_then_recover());
    testing::run(ReactorKind::Epoll, emfile_then_recover());
}

async fn connect_close_cycles() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let at = l.local_addr().unwrap();
    // Warm up (lazily created descriptors: ring, pool), then take the baseline.
    drop(TcpStream::connect(at).await.unwrap());
    drop(l.accept().await.unwrap());
    let base = testing::open_fds();
    for _ in 0..10_000 {
        let c = TcpStream::connect(at).await.unwrap();
        // Reset instead of FIN: 10,000 ports in TIME_WAIT would exhaust the ephemeral range.
        c.set_linger(Some(Duration::ZERO)).unwrap();
        let (s, _) = l.accept().await.unwrap();
        drop(c);
        drop(s);
    }
    assert_eq!(testing::open_fds(), base);
}

#[test]
fn ten_thousand_connect_close_cycles_leak_no_fd() {
    if !common::in_child(
        "ten_thousand_connect_close_cycles_leak_no_fd",
        "CORELOOP_NET_FDS",
    ) {
        return;
    }
    if !coreloop_runtime::testing::should_run(coreloop_runtime::ReactorKind::Uring, module_path!())
    {
        return;
    }
    testing::run(ReactorKind::Uring, connect_close_cycles());
    testing::run(ReactorKind::Epoll, connect_close_cycles());
}
