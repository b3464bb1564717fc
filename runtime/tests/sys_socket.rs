//! Sockets against the real kernel, on loopback only: socketpairs, TCP over IPv4 and IPv6,
//! UDP, descriptor passing, shutdown, options, and EPIPE instead of SIGPIPE. (`SockAddr` has
//! its own file, `sys_addr.rs`.)

use coreloop_runtime::sys::epoll::{self, EPOLL_CTL_ADD, EPOLLIN, EPOLLOUT, EpollEvent};
use coreloop_runtime::sys::io::{self, O_NONBLOCK, fcntl_cmd::*};
use coreloop_runtime::sys::socket::*;
use coreloop_runtime::sys::{Errno, OwnedFd};
use std::io::{IoSlice, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::RawFd;

const WAIT_MS: i32 = 5_000;

/// Waits (at most WAIT_MS) until `fd` reports one of `events`.
fn wait_for(fd: RawFd, events: u32) {
    let ep = epoll::epoll_create().unwrap();
    epoll::epoll_ctl(ep.raw(), EPOLL_CTL_ADD, fd, events, 7).unwrap();
    let mut out = [EpollEvent::default(); 1];
    let n = epoll::epoll_wait(ep.raw(), &mut out, WAIT_MS).unwrap();
    assert_eq!(n, 1, "fd {fd} not ready within {WAIT_MS} ms");
    assert_eq!(out[0].data(), 7);
}

fn assert_cloexec_nonblock(fd: RawFd) {
    assert_ne!(
        io::fcntl(fd, F_GETFD, 0).unwrap() & FD_CLOEXEC,
        0,
        "fd {fd} CLOEXEC"
    );
    assert_ne!(
        io::fcntl(fd, F_GETFL, 0).unwrap() as u32 & O_NONBLOCK,
        0,
        "fd {fd} NONBLOCK"
    );
}

fn accept_wait(listener: RawFd) -> (OwnedFd, SockAddr) {
    loop {
        match accept4(listener) {
            Ok(c) => return c,
            Err(Errno::EAGAIN) => wait_for(listener, EPOLLIN),
            Err(e) => panic!("accept4: {e}"),
        }
    }
}

fn recv_wait(fd: RawFd, buf: &mut [u8]) -> usize {
    loop {
        match recv(fd, buf, 0) {
            Ok(n) => return n,
            Err(Errno::EAGAIN) => wait_for(fd, EPOLLIN),
            Err(e) => panic!("recv: {e}"),
        }
    }
}

fn recv_exact(fd: RawFd, want: usize) -> Vec<u8> {
    let mut got = vec![0u8; want];
    let mut at = 0;
    while at < want {
        let n = recv_wait(fd, &mut got[at..]);
        assert_ne!(n, 0, "early EOF");
        at += n;
    }
    got
}

#[test]
fn socketpair_round_trip() {
    let (a, b) = socketpair(AF_UNIX, SOCK_STREAM, 0).unwrap();
    assert_cloexec_nonblock(a.raw());
    assert_cloexec_nonblock(b.raw());
    assert_eq!(send(a.raw(), b"ping", 0).unwrap(), 4);
    assert_eq!(recv_exact(b.raw(), 4), b"ping");
    assert_eq!(send(b.raw(), b"pong!", 0).unwrap(), 5);
    assert_eq!(recv_exact(a.raw(), 5), b"pong!");
    let mut buf = [0u8; 8];
    assert_eq!(recv(a.raw(), &mut buf, 0), Err(Errno::EAGAIN));
    // An unbound socketpair end has an unnamed address.
    assert!(getsockname(a.raw()).unwrap().is_unnamed_unix());
}

/// Listens on `addr` (port 0), connects a non-blocking client, accepts, and talks both ways.
fn tcp_loopback(addr: SocketAddr) {
    let family = if addr.is_ipv4() { AF_INET } else { AF_INET6 };
    let listener = socket(family, SOCK_STREAM, 0).unwrap();
    setsockopt_int(listener.raw(), SOL_SOCKET, SO_REUSEADDR, 1).unwrap();
    bind(listener.raw(), &SockAddr::from(addr)).unwrap();
    listen(listener.raw(), SOMAXCONN).unwrap();
    let local = getsockname(listener.raw()).unwrap();
    let local_sa = local.as_socket_addr().unwrap();
    assert_eq!(local_sa.ip(), addr.ip());
    assert_ne!(local_sa.port(), 0);

    let client = socket(family, SOCK_STREAM, 0).unwrap();
    match connect(client.raw(), &local).unwrap() {
        ConnectStatus::Connected => {}
        ConnectStatus::InProgress => {
            wait_for(client.raw(), EPOLLOUT);
            assert_eq!(take_socket_error(client.raw()).unwrap(), None);
        }
    }
    let (server, peer) = accept_wait(listener.raw());
    for fd in [listener.raw(), client.raw(), server.raw()] {
        assert_cloexec_nonblock(fd);
    }

    let client_name = getsockname(client.raw()).unwrap().as_socket_addr();
    assert_eq!(peer.as_socket_addr(), client_name);
    assert_eq!(
        getpeername(server.raw()).unwrap().as_socket_addr(),
        client_name
    );
    assert_eq!(
        getpeername(client.raw()).unwrap().as_socket_addr(),
        Some(local_sa)
    );

    assert_eq!(send(client.raw(), b"hello server", 0).unwrap(), 12);
    assert_eq!(recv_exact(server.raw(), 12), b"hello server");
    assert_eq!(send(server.raw(), b"hello client", 0).unwrap(), 12);
    assert_eq!(recv_exact(client.raw(), 12), b"hello client");
}

#[test]
fn tcp_loopback_ipv4() {
    tcp_loopback("127.0.0.1:0".parse().unwrap());
}

#[test]
fn tcp_loopback_ipv6() {
    // Some sandboxes have no IPv6 at all; say so rather than fail.
    match socket(AF_INET6, SOCK_STREAM, 0) {
        Err(Errno::EAFNOSUPPORT) => return eprintln!("skipped: no IPv6 in this kernel"),
        r => drop(r.unwrap()),
    }
    let probe = socket(AF_INET6, SOCK_STREAM, 0).unwrap();
    if bind(
        probe.raw(),
        &SockAddr::from("[::1]:0".parse::<SocketAddr>().unwrap()),
    ) == Err(Errno::EADDRNOTAVAIL)
    {
        return eprintln!("skipped: ::1 is not configured");
    }
    tcp_loopback("[::1]:0".parse().unwrap());
}

#[test]
fn connect_to_a_closed_port_is_refused() {
    // Bind a port, then close it without listening: nothing accepts there.
    let s = socket(AF_INET, SOCK_STREAM, 0).unwrap();
    bind(
        s.raw(),
        &SockAddr::from("127.0.0.1:0".parse::<SocketAddr>().unwrap()),
    )
    .unwrap();
    let addr = getsockname(s.raw()).unwrap();
    drop(s);
    let c = socket(AF_INET, SOCK_STREAM, 0).unwrap();
    match connect(c.raw(), &addr) {
        Err(e) => assert_eq!(e, Errno::ECONNREFUSED),
        Ok(ConnectStatus::Connected) => panic!("connected to a closed port"),
        Ok(ConnectStatus::InProgress) => {
            wait_for(c.raw(), EPOLLOUT);
            assert_eq!(
                take_socket_error(c.raw()).unwrap(),
                Some(Errno::ECONNREFUSED)
            );
        }
    }
}

#[test]
fn udp_keeps_datagram_boundaries() {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let a = socket(AF_INET, SOCK_DGRAM, 0).unwrap();
    let b = socket(AF_INET, SOCK_DGRAM, 0).unwrap();
    bind(a.raw(), &SockAddr::from(any)).unwrap();
    bind(b.raw(), &SockAddr::from(any)).unwrap();
    let a_addr = getsockname(a.raw()).unwrap();
    let b_addr = getsockname(b.raw()).unwrap();

    let sizes = [1usize, 100, 7, 1200];
    for (i, &n) in sizes.iter().enumerate() {
        let d = vec![i as u8 + 1; n];
        assert_eq!(sendto(a.raw(), &d, 0, &b_addr).unwrap(), n);
    }
    let mut buf = [0u8; 2048];
    for (i, &n) in sizes.iter().enumerate() {
        wait_for(b.raw(), EPOLLIN);
        let (got, from) = recvfrom(b.raw(), &mut buf, 0).unwrap();
        assert_eq!(got, n, "datagram {i}");
        assert!(buf[..got].iter().all(|&x| x == i as u8 + 1));
        assert_eq!(from.as_socket_addr(), a_addr.as_socket_addr());
    }

    // MSG_TRUNC reports the datagram's real length even when the buffer is smaller.
    sendto(a.raw(), &[9u8; 50], 0, &b_addr).unwrap();
    wait_for(b.raw(), EPOLLIN);
    let mut small = [0u8; 10];
    assert_eq!(recv(b.raw(), &mut small, MSG_TRUNC).unwrap(), 50);

    // recvmsg reports the sender and MSG_TRUNC in its flags.
    sendto(a.raw(), &[3u8; 20], 0, &b_addr).unwrap();
    wait_for(b.raw(), EPOLLIN);
    let mut iov = [IoSliceMut::new(&mut small)];
    let r = recvmsg(b.raw(), &mut iov, &mut [], 0).unwrap();
    assert_eq!(r.bytes, 10);
    assert_ne!(r.flags as u32 & MSG_TRUNC, 0);
    assert_eq!(r.addr.as_socket_addr(), a_addr.as_socket_addr());
}

#[test]
fn scm_rights_passes_a_pipe() {
    let (a, b) = socketpair(AF_UNIX, SOCK_STREAM, 0).unwrap();
    let (pr, pw) = io::pipe(false).unwrap();
    let sent = sendmsg_with_fds(a.raw(), &[IoSlice::new(b"fd!")], &[pr.raw()], 0).unwrap();
    assert_eq!(sent, 3);
    drop(pr);

    wait_for(b.raw(), EPOLLIN);
    let mut data = [0u8; 8];
    let mut iov = [IoSliceMut::new(&mut data)];
    let (r, fds) = recvmsg_with_fds(b.raw(), &mut iov, 4, 0).unwrap();
    assert_eq!(r.bytes, 3);
    assert_eq!(&data[..3], b"fd!");
    assert_eq!(r.flags as u32 & MSG_CTRUNC, 0);
    assert_eq!(fds.len(), 1);
    let got = &fds[0];
    assert_ne!(io::fcntl(got.raw(), F_GETFD, 0).unwrap() & FD_CLOEXEC, 0);

    io::write(pw.raw(), b"through the passed fd").unwrap();
    let mut buf = [0u8; 64];
    let n = io::read(got.raw(), &mut buf).unwrap();
    assert_eq!(&buf[..n], b"through the passed fd");
}

#[test]
fn scm_rights_by_hand_with_the_raw_forms() {
    let (a, b) = socketpair(AF_UNIX, SOCK_DGRAM, 0).unwrap();
    let (p1r, _p1w) = io::pipe(false).unwrap();
    let (p2r, _p2w) = io::pipe(false).unwrap();
    let control = scm_rights(&[p1r.raw(), p2r.raw()]);
    assert_eq!(control.len(), scm_rights_space(2));
    let parsed: Vec<Cmsg<'_>> = cmsgs(&control).collect();
    assert_eq!(parsed.len(), 1);
    assert_eq!(
        (parsed[0].level, parsed[0].ty),
        (SOL_SOCKET as i32, SCM_RIGHTS)
    );
    assert_eq!(parsed[0].data.len(), 8);

    let iov = [IoSlice::new(b"two")];
    let msg = MsgHdr {
        msg_iov: iov.as_ptr() as *mut _,
        msg_iovlen: 1,
        msg_control: control.as_ptr() as *mut u8,
        msg_controllen: control.len(),
        ..MsgHdr::zeroed()
    };
    // SAFETY: msg, the iovec, its bytes and the control buffer live until the call returns.
    assert_eq!(unsafe { sendmsg_raw(a.raw(), &msg, 0) }.unwrap(), 3);

    let mut data = [0u8; 8];
    let mut riov = [IoSliceMut::new(&mut data)];
    let mut rcontrol = [0u8; 64];
    let mut rmsg = MsgHdr {
        msg_iov: riov.as_mut_ptr().cast(),
        msg_iovlen: 1,
        msg_control: rcontrol.as_mut_ptr(),
        msg_controllen: rcontrol.len(),
        ..MsgHdr::zeroed()
    };
    // SAFETY: rmsg and every buffer it points to are writable and live for the call.
    let n = unsafe { recvmsg_raw(b.raw(), &mut rmsg, MSG_CMSG_CLOEXEC) }.unwrap();
    assert_eq!(n, 3);
    // SAFETY: exactly the control bytes this recvmsg filled, taken once.
    let fds = unsafe { take_fds(&rcontrol[..rmsg.msg_controllen]) };
    assert_eq!(fds.len(), 2);
    for fd in &fds {
        assert_ne!(io::fcntl(fd.raw(), F_GETFD, 0).unwrap() & FD_CLOEXEC, 0);
    }
}

#[test]
fn shutdown_write_gives_eof_to_the_peer() {
    let (a, b) = socketpair(AF_UNIX, SOCK_STREAM, 0).unwrap();
    send(a.raw(), b"last", 0).unwrap();
    shutdown(a.raw(), SHUT_WR).unwrap();
    assert_eq!(recv_exact(b.raw(), 4), b"last");
    let mut buf = [0u8; 4];
    assert_eq!(recv_wait(b.raw(), &mut buf), 0, "EOF after SHUT_WR");
    assert_eq!(send(a.raw(), b"more", 0), Err(Errno::EPIPE));
    // The other direction still works.
    send(b.raw(), b"back", 0).unwrap();
    assert_eq!(recv_exact(a.raw(), 4), b"back");
}

#[test]
fn socket_options_round_trip() {
    let s = socket(AF_INET, SOCK_STREAM, 0).unwrap();
    let fd = s.raw();
    assert_eq!(getsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR).unwrap(), 0);
    setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1).unwrap();
    assert_eq!(getsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR).unwrap(), 1);
    setsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT, 1).unwrap();
    assert_eq!(getsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT).unwrap(), 1);

    setsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY, 1).unwrap();
    assert_eq!(getsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY).unwrap(), 1);
    setsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY, 0).unwrap();
    assert_eq!(getsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY).unwrap(), 0);

    let linger = Linger {
        l_onoff: 1,
        l_linger: 5,
    };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger).unwrap();
    assert_eq!(
        getsockopt::<Linger>(fd, SOL_SOCKET, SO_LINGER).unwrap(),
        linger
    );

    setsockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1).unwrap();
    assert_eq!(getsockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE).unwrap(), 1);
    setsockopt_int(fd, IPPROTO_IP, IP_TTL, 17).unwrap();
    assert_eq!(getsockopt_int(fd, IPPROTO_IP, IP_TTL).unwrap(), 17);
    // The kernel doubles the requested buffer size for its own bookkeeping.
    setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, 64 * 1024).unwrap();
    assert!(getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF).unwrap() >= 64 * 1024);
    assert_eq!(
        getsockopt_int(fd, SOL_SOCKET, SO_TYPE).unwrap(),
        SOCK_STREAM as i32
    );
    assert_eq!(take_socket_error(fd).unwrap(), None);

    let u = socket(AF_INET, SOCK_DGRAM, 0).unwrap();
    setsockopt_int(u.raw(), SOL_SOCKET, SO_BROADCAST, 1).unwrap();
    assert_eq!(
        getsockopt_int(u.raw(), SOL_SOCKET, SO_BROADCAST).unwrap(),
        1
    );
    setsockopt_int(u.raw(), IPPROTO_IP, IP_MULTICAST_TTL, 3).unwrap();
    assert_eq!(
        getsockopt_int(u.raw(), IPPROTO_IP, IP_MULTICAST_TTL).unwrap(),
        3
    );

    // An unknown option is ENOPROTOOPT, not a panic or garbage.
    assert_eq!(
        getsockopt_int(fd, SOL_SOCKET, 9999),
        Err(Errno::ENOPROTOOPT)
    );
}

#[test]
fn ipv6_only_option() {
    let Ok(s) = socket(AF_INET6, SOCK_DGRAM, 0) else {
        return eprintln!("skipped: no IPv6 in this kernel");
    };
    setsockopt_int(s.raw(), IPPROTO_IPV6, IPV6_V6ONLY, 1).unwrap();
    assert_eq!(
        getsockopt_int(s.raw(), IPPROTO_IPV6, IPV6_V6ONLY).unwrap(),
        1
    );
    setsockopt_int(s.raw(), IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0).unwrap();
    assert_eq!(
        getsockopt_int(s.raw(), IPPROTO_IPV6, IPV6_MULTICAST_LOOP).unwrap(),
        0
    );
}

const SIGPIPE_CHILD: &str = "CORELOOP_TEST_SIGPIPE_CHILD";

/// Sends to a socket whose peer is gone, with SIGPIPE at its default (fatal) action, in a
/// child process: the send must fail with EPIPE and the child must live to exit normally.
#[test]
fn send_to_closed_peer_is_epipe_not_sigpipe() {
    if std::env::var_os(SIGPIPE_CHILD).is_some() {
        // The Rust runtime ignores SIGPIPE at start-up; put back the default that kills.
        // SAFETY: SIG_DFL installs no handler; this child process runs only this test.
        let old = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
        assert_ne!(old, libc::SIG_ERR);
        let (a, b) = socketpair(AF_UNIX, SOCK_STREAM, 0).unwrap();
        drop(b);
        assert_eq!(send(a.raw(), b"anyone?", 0), Err(Errno::EPIPE));
        let iov = [IoSlice::new(b"x")];
        assert_eq!(sendmsg(a.raw(), &iov, &[], None, 0), Err(Errno::EPIPE));
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "send_to_closed_peer_is_epipe_not_sigpipe",
            "--nocapture",
        ])
        .args(["--test-threads", "1"])
        .env(SIGPIPE_CHILD, "1")
        .output()
        .unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), None, "child killed by a signal");
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
}

#[test]
fn layouts_and_constants_match_libc() {
    assert_eq!(size_of::<MsgHdr>(), size_of::<libc::msghdr>());
    assert_eq!(size_of::<CmsgHdr>(), size_of::<libc::cmsghdr>());
    assert_eq!(size_of::<Linger>(), size_of::<libc::linger>());
    assert_eq!(size_of::<IpMreq>(), size_of::<libc::ip_mreq>());
    assert_eq!(size_of::<Ipv6Mreq>(), size_of::<libc::ipv6_mreq>());
    assert_eq!(
        size_of::<SockAddrStorage>(),
        size_of::<libc::sockaddr_storage>()
    );
    assert_eq!(
        align_of::<SockAddrStorage>(),
        align_of::<libc::sockaddr_storage>()
    );
    for n in [0u32, 1, 4, 5, 8, 12, 100] {
        // SAFETY: CMSG_SPACE and CMSG_LEN are pure arithmetic.
        let (space, len) = unsafe { (libc::CMSG_SPACE(n), libc::CMSG_LEN(n)) };
        assert_eq!(cmsg_space(n as usize), space as usize, "CMSG_SPACE({n})");
        assert_eq!(cmsg_len(n as usize), len as usize, "CMSG_LEN({n})");
    }
    let c = |a: u32, b: i32| assert_eq!(a as i64, b as i64);
    c(AF_UNIX as u32, libc::AF_UNIX);
    c(AF_INET as u32, libc::AF_INET);
    c(AF_INET6 as u32, libc::AF_INET6);
    c(SOCK_STREAM, libc::SOCK_STREAM);
    c(SOCK_DGRAM, libc::SOCK_DGRAM);
    c(SOCK_SEQPACKET, libc::SOCK_SEQPACKET);
    c(SOCK_CLOEXEC, libc::SOCK_CLOEXEC);
    c(SOCK_NONBLOCK, libc::SOCK_NONBLOCK);
    c(SOL_SOCKET, libc::SOL_SOCKET);
    c(SO_REUSEADDR, libc::SO_REUSEADDR);
    c(SO_REUSEPORT, libc::SO_REUSEPORT);
    c(SO_ERROR, libc::SO_ERROR);
    c(SO_TYPE, libc::SO_TYPE);
    c(SO_KEEPALIVE, libc::SO_KEEPALIVE);
    c(SO_LINGER, libc::SO_LINGER);
    c(SO_BROADCAST, libc::SO_BROADCAST);
    c(SO_RCVBUF, libc::SO_RCVBUF);
    c(SO_SNDBUF, libc::SO_SNDBUF);
    c(IPPROTO_IP, libc::IPPROTO_IP);
    c(IPPROTO_TCP, libc::IPPROTO_TCP);
    c(IPPROTO_UDP, libc::IPPROTO_UDP);
    c(IPPROTO_IPV6, libc::IPPROTO_IPV6);
    c(TCP_NODELAY, libc::TCP_NODELAY);
    c(IP_TTL, libc::IP_TTL);
    c(IP_MULTICAST_TTL, libc::IP_MULTICAST_TTL);
    c(IP_MULTICAST_LOOP, libc::IP_MULTICAST_LOOP);
    c(IP_ADD_MEMBERSHIP, libc::IP_ADD_MEMBERSHIP);
    c(IP_DROP_MEMBERSHIP, libc::IP_DROP_MEMBERSHIP);
    c(IPV6_V6ONLY, libc::IPV6_V6ONLY);
    c(IPV6_MULTICAST_LOOP, libc::IPV6_MULTICAST_LOOP);
    c(IPV6_ADD_MEMBERSHIP, libc::IPV6_ADD_MEMBERSHIP);
    c(IPV6_DROP_MEMBERSHIP, libc::IPV6_DROP_MEMBERSHIP);
    c(MSG_NOSIGNAL, libc::MSG_NOSIGNAL);
    c(MSG_PEEK, libc::MSG_PEEK);
    c(MSG_DONTWAIT, libc::MSG_DONTWAIT);
    c(MSG_CMSG_CLOEXEC, libc::MSG_CMSG_CLOEXEC);
    c(MSG_TRUNC, libc::MSG_TRUNC);
    c(MSG_CTRUNC, libc::MSG_CTRUNC);
    c(MSG_WAITALL, libc::MSG_WAITALL);
    c(SHUT_RD, libc::SHUT_RD);
    c(SHUT_WR, libc::SHUT_WR);
    c(SHUT_RDWR, libc::SHUT_RDWR);
    c(SCM_RIGHTS as u32, libc::SCM_RIGHTS);
    c(SOMAXCONN as u32, libc::SOMAXCONN);
}
