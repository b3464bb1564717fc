//! Address helpers: resolving `ToSocketAddrs`, and reading kernel addresses back as std's.

use coreloop_runtime::sys::socket::SockAddr;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Every address `addr` names. Literal addresses resolve without I/O; a host name goes
/// through the system resolver and blocks this core while it does (pass a `SocketAddr` to
/// avoid that).
pub(crate) fn resolve<A: ToSocketAddrs>(addr: A) -> io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to nothing",
        ));
    }
    Ok(addrs)
}

/// Tries `f` on each address in turn; the first success, or the last error.
pub(crate) async fn each_addr<T, F, Fut>(addrs: Vec<SocketAddr>, mut f: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut last = None;
    for a in addrs {
        match f(a).await {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("resolve never returns an empty list"))
}

/// The IPv4/IPv6 address the kernel reported.
pub(crate) fn to_inet(addr: &SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket_addr().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("expected an IPv4 or IPv6 address, got {addr:?}"),
        )
    })
}

/// The `AF_INET`/`AF_INET6` domain of an address.
pub(crate) fn domain(addr: &SocketAddr) -> u16 {
    match addr {
        SocketAddr::V4(_) => coreloop_runtime::sys::socket::AF_INET,
        SocketAddr::V6(_) => coreloop_runtime::sys::socket::AF_INET6,
    }
}

/// How an address reads in an error message: `127.0.0.1:80`, or the unix path or name.
pub(crate) fn show(addr: &SockAddr) -> String {
    if let Some(sa) = addr.as_socket_addr() {
        return sa.to_string();
    }
    if let Some(p) = addr.as_unix_path() {
        return format!("unix socket {p:?}");
    }
    format!("{addr:?}")
}

/// `e` with what was being done and the address it was done to in its message, and the same
/// `ErrorKind` (the OS code is in the message: `io::Error` keeps a raw code or a message, not
/// both).
pub(crate) fn naming(e: io::Error, doing: &str, addr: &str) -> io::Error {
    io::Error::new(e.kind(), format!("{doing} {addr}: {e}"))
}

/// Every address of a list, for a message: `127.0.0.1:80` or `[::1]:80, 127.0.0.1:80`.
pub(crate) fn show_all(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
