//! Issue 10, defect 3: `Recv` with `MSG_TRUNC` on a datagram socket. The kernel reports the
//! datagram's full length; the buffer's initialized length must never exceed what was given
//! (a `Vec` of capacity 8 must not get length 100).

use coreloop_runtime::ReactorKind;
use coreloop_runtime::op::{SharedFd, recv::Recv};
use coreloop_runtime::reactor::Op;
use coreloop_runtime::sys::socket::MSG_TRUNC;
use std::time::Duration;

/// One `recv(fd, buf, MSG_TRUNC)` on a datagram socket: the result and the buffer back.
async fn recv_trunc(fd: &SharedFd, buf: Vec<u8>) -> (std::io::Result<usize>, Vec<u8>) {
    Op::new(Recv::new(fd, buf, MSG_TRUNC).datagram()).await
}

/// Runs in a child process: on main, a debug build aborts in `Vec::set_len`'s precondition
/// check (a release build silently gets len > capacity).
fn case(kind: ReactorKind, name: &str) {
    if coreloop_runtime::testing::in_child(
        name,
        "CORELOOP_SOUND_RECV_TRUNC",
        Duration::from_secs(20),
    ) {
        coreloop_runtime::testing::run(kind, recv_msg_trunc());
    }
}

#[test]
fn recv_msg_trunc_never_sets_len_past_capacity_uring() {
    if !coreloop_runtime::testing::should_run(ReactorKind::Uring, module_path!()) {
        return;
    }
    case(
        ReactorKind::Uring,
        "recv_msg_trunc_never_sets_len_past_capacity_uring",
    );
}

#[test]
fn recv_msg_trunc_never_sets_len_past_capacity_epoll() {
    case(
        ReactorKind::Epoll,
        "recv_msg_trunc_never_sets_len_past_capacity_epoll",
    );
}

async fn recv_msg_trunc() {
    let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    a.set_nonblocking(true).unwrap();
    let fd: std::os::fd::OwnedFd = a.try_clone().unwrap().into();
    let fd = SharedFd::new(fd.into());
    b.send_to(&[7u8; 100], a.local_addr().unwrap()).unwrap();
    let (res, mut buf) = coreloop_runtime::time::timeout(
        Duration::from_secs(5),
        recv_trunc(&fd, Vec::with_capacity(8)),
    )
    .await
    .expect("the datagram arrives");
    let (len, cap) = (buf.len(), buf.capacity());
    if len > cap {
        // Never touch the bytes past the allocation, not even to drop them.
        // SAFETY: shrinking a length to zero is always sound.
        unsafe { buf.set_len(0) };
    }
    assert!(
        len <= cap,
        "MSG_TRUNC gave a Vec of capacity {cap} the length {len} (result {res:?})"
    );
}
