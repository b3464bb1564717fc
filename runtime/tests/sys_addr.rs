//! `SockAddr`: IPv4/IPv6 in the kernel's layout (checked against libc's structs), Unix paths
//! and abstract names round-tripped through bind/getsockname, and the paths it must refuse.

use coreloop_runtime::sys::Errno;
use coreloop_runtime::sys::socket::*;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::path::Path;

/// Receives one datagram on a non-blocking socket, waiting at most five seconds.
fn recv_wait(fd: i32, buf: &mut [u8]) -> usize {
    for _ in 0..5_000 {
        match recv(fd, buf, 0) {
            Ok(n) => return n,
            Err(Errno::EAGAIN) => std::thread::sleep(std::time::Duration::from_millis(1)),
            Err(e) => panic!("recv: {e}"),
        }
    }
    panic!("nothing arrived within five seconds");
}

#[test]
fn sockaddr_inet_round_trips_in_the_kernel_layout() {
    let v4: SocketAddr = "192.0.2.33:8080".parse().unwrap();
    let a = SockAddr::from(v4);
    assert_eq!((a.family(), a.len()), (AF_INET, 16));
    assert_eq!(a.as_socket_addr(), Some(v4));
    // SAFETY: a holds 16 initialised bytes of sockaddr_in; read_unaligned needs no alignment.
    let c = unsafe { a.as_ptr().cast::<libc::sockaddr_in>().read_unaligned() };
    assert_eq!(c.sin_family, libc::AF_INET as u16);
    assert_eq!(u16::from_be(c.sin_port), 8080);
    assert_eq!(c.sin_addr.s_addr.to_ne_bytes(), [192, 0, 2, 33]);

    let ip: Ipv6Addr = "fe80::1:2".parse().unwrap();
    let v6 = SocketAddr::V6(SocketAddrV6::new(ip, 443, 0x12345, 7));
    let a = SockAddr::from(v6);
    assert_eq!((a.family(), a.len()), (AF_INET6, 28));
    assert_eq!(a.as_socket_addr(), Some(v6));
    // SAFETY: a holds 28 initialised bytes of sockaddr_in6; read_unaligned needs no alignment.
    let c = unsafe { a.as_ptr().cast::<libc::sockaddr_in6>().read_unaligned() };
    assert_eq!(c.sin6_family, libc::AF_INET6 as u16);
    assert_eq!(u16::from_be(c.sin6_port), 443);
    assert_eq!(c.sin6_addr.s6_addr, ip.octets());
    assert_eq!(c.sin6_scope_id, 7);
    // Flow info passes through as std keeps it (std stores the field verbatim too).
    assert_eq!(c.sin6_flowinfo, 0x12345);

    assert_eq!(SockAddr::empty().as_socket_addr(), None);
    assert_eq!(SockAddr::from(v4).as_unix_path(), None);
}

fn unique_tmp(tag: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("cl-{tag}-{}", std::process::id()))
}

#[test]
fn sockaddr_unix_path_round_trips_through_the_kernel() {
    let path = unique_tmp("sock");
    let _ = std::fs::remove_file(&path);
    let addr = SockAddr::unix(&path).unwrap();
    assert_eq!(addr.as_unix_path(), Some(path.as_path()));
    let s = socket(AF_UNIX, SOCK_STREAM, 0).unwrap();
    bind(s.raw(), &addr).unwrap();
    let back = getsockname(s.raw()).unwrap();
    assert_eq!(back.as_unix_path(), Some(path.as_path()));
    assert_eq!(back.as_abstract(), None);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn sockaddr_abstract_round_trips_through_the_kernel() {
    let name = format!("coreloop-test-\0-{}", std::process::id()).into_bytes();
    let addr = SockAddr::unix_abstract(&name).unwrap();
    assert_eq!(addr.as_abstract(), Some(&name[..]));
    assert_eq!(addr.as_unix_path(), None);
    let s = socket(AF_UNIX, SOCK_DGRAM, 0).unwrap();
    bind(s.raw(), &addr).unwrap();
    let back = getsockname(s.raw()).unwrap();
    assert_eq!(back.as_abstract(), Some(&name[..]));

    // A datagram sent to the abstract name arrives.
    let c = socket(AF_UNIX, SOCK_DGRAM, 0).unwrap();
    sendto(c.raw(), b"abs", 0, &addr).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(recv_wait(s.raw(), &mut buf), 3);
}

#[test]
fn sockaddr_unix_rejects_bad_paths() {
    let ok = "a".repeat(SUN_PATH_MAX);
    assert!(SockAddr::unix(Path::new(&ok)).is_ok());
    let long = "a".repeat(SUN_PATH_MAX + 1);
    let e = SockAddr::unix(Path::new(&long)).unwrap_err();
    assert_eq!(e, Errno::EINVAL);
    assert_eq!(
        std::io::Error::from(e).kind(),
        std::io::ErrorKind::InvalidInput
    );
    assert_eq!(
        SockAddr::unix(Path::new("/tmp/a\0b")).unwrap_err(),
        Errno::EINVAL
    );
    assert_eq!(SockAddr::unix(Path::new("")).unwrap_err(), Errno::EINVAL);
    assert_eq!(
        SockAddr::unix_abstract(&[1; 108]).unwrap_err(),
        Errno::EINVAL
    );
    assert!(SockAddr::unix_abstract(&[1; 107]).is_ok());
    let unnamed = SockAddr::unix_unnamed();
    assert!(unnamed.is_unnamed_unix());
    assert_eq!(
        (unnamed.as_unix_path(), unnamed.as_abstract()),
        (None, None)
    );
}

/// Longest Unix path that fits `sun_path` with its terminating NUL.
const SUN_PATH_MAX: usize = 107;
