//! `ListenerBuilder`: the options of a TCP listener, set before it binds.

use super::TcpListener;
use crate::addr::{domain, resolve};
use crate::socket::Socket;
use coreloop_runtime::sys::socket::{
    IPPROTO_IPV6, IPV6_V6ONLY, SO_REUSEADDR, SO_REUSEPORT, SOCK_STREAM, SOL_SOCKET, SOMAXCONN,
};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Options for a [`TcpListener`]: `SO_REUSEADDR` is always on; `SO_REUSEPORT` (one listener
/// per core on the same port), the backlog and `IPV6_V6ONLY` are chosen here.
///
/// # Examples
///
/// ```
/// use coreloop_net::TcpListener;
///
/// let first = TcpListener::builder("127.0.0.1:0").reuse_port(true).listen()?;
/// let addr = first.local_addr()?;
/// // A second listener on the same port, as each core of `Runtime::run` binds its own; the
/// // kernel spreads new connections between them.
/// let second = TcpListener::builder(addr).reuse_port(true).backlog(128).listen()?;
/// assert_eq!(second.local_addr()?, addr);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct ListenerBuilder {
    addrs: io::Result<Vec<SocketAddr>>,
    reuse_port: bool,
    backlog: u32,
    only_v6: Option<bool>,
}

impl ListenerBuilder {
    pub(crate) fn new<A: ToSocketAddrs>(addr: A) -> ListenerBuilder {
        ListenerBuilder {
            addrs: resolve(addr),
            reuse_port: false,
            backlog: SOMAXCONN as u32,
            only_v6: None,
        }
    }

    /// `SO_REUSEPORT`: several listeners (one per core) share the port and the kernel spreads
    /// connections over them.
    pub fn reuse_port(mut self, on: bool) -> ListenerBuilder {
        self.reuse_port = on;
        self
    }

    /// The accept queue's length (the kernel caps it at `net.core.somaxconn`).
    pub fn backlog(mut self, backlog: u32) -> ListenerBuilder {
        self.backlog = backlog;
        self
    }

    /// `IPV6_V6ONLY` for an IPv6 address (default: the system's); ignored for IPv4.
    pub fn only_v6(mut self, on: bool) -> ListenerBuilder {
        self.only_v6 = Some(on);
        self
    }

    /// Binds and listens, on the first address that works (else the last error).
    pub fn listen(self) -> io::Result<TcpListener> {
        let addrs = match &self.addrs {
            Ok(a) => a,
            Err(e) => return Err(io::Error::new(e.kind(), e.to_string())),
        };
        let mut last = None;
        for addr in addrs {
            match self.listen_on(*addr) {
                Ok(l) => return Ok(l),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("resolve never returns an empty list"))
    }

    fn listen_on(&self, addr: SocketAddr) -> io::Result<TcpListener> {
        let sock = Socket::new(domain(&addr), SOCK_STREAM)?;
        sock.set_flag(SOL_SOCKET, SO_REUSEADDR, true)?;
        if self.reuse_port {
            sock.set_flag(SOL_SOCKET, SO_REUSEPORT, true)?;
        }
        if let (SocketAddr::V6(_), Some(on)) = (addr, self.only_v6) {
            sock.set_flag(IPPROTO_IPV6, IPV6_V6ONLY, on)?;
        }
        sock.bind(&addr.into())?;
        sock.listen(self.backlog)?;
        Ok(TcpListener::from_socket(sock))
    }
}
