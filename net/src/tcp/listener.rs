//! `TcpListener`: accepts TCP connections.

use super::{Incoming, ListenerBuilder, TcpStream};
use crate::addr::to_inet;
use crate::socket::Socket;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};

/// A TCP socket listening for connections. `!Send`: it belongs to the core that made it (for
/// one listener per core, bind each with [`ListenerBuilder::reuse_port`]).
///
/// # Examples
///
/// ```
/// use coreloop_net::{TcpListener, TcpStream};
/// use coreloop_runtime::io::{AsyncReadRentExt, AsyncWriteRentExt};
/// use coreloop_runtime::{Runtime, spawn};
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0")?; // port 0: the kernel picks one
///     let addr = listener.local_addr()?;
///     let client = spawn(async move {
///         let mut stream = TcpStream::connect(addr).await?;
///         stream.write_all(b"ping".to_vec()).await.0
///     });
///
///     let (mut stream, _peer) = listener.accept().await?;
///     let (res, buf) = stream.read_exact(Vec::with_capacity(4)).await;
///     res?;
///     assert_eq!(buf, b"ping");
///     client.await??;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct TcpListener {
    sock: Socket,
}

impl TcpListener {
    /// Binds to `addr` (IPv4 or IPv6) with `SO_REUSEADDR` and listens.
    pub fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        ListenerBuilder::new(addr).listen()
    }

    /// Options to set before binding: `reuse_port`, `backlog`, `only_v6`; then `listen()`.
    pub fn builder<A: ToSocketAddrs>(addr: A) -> ListenerBuilder {
        ListenerBuilder::new(addr)
    }

    pub(crate) fn from_socket(sock: Socket) -> TcpListener {
        TcpListener { sock }
    }

    /// Waits for a connection; returns it and the peer's address.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (sock, addr) = self.sock.accept().await?;
        Ok((TcpStream::from_socket(sock), to_inet(&addr)?))
    }

    /// The connections, as a `futures_core::Stream`.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming::new(&self.sock)
    }

    /// The address the listener is bound to (with the port the kernel picked, after binding port
    /// 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        to_inet(&self.sock.local_addr()?)
    }

    /// `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        use coreloop_runtime::sys::socket::{IP_TTL, IPPROTO_IP};
        self.sock.set_opt(IPPROTO_IP, IP_TTL, ttl as i32)
    }

    /// The pending socket error (`SO_ERROR`), cleared by reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.sock.take_error()
    }

    /// Takes a std listener (made non-blocking).
    pub fn from_std(l: std::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener::from_socket(Socket::from_std(l.into())?))
    }

    /// Gives the listener back as std's (still non-blocking).
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        self.sock.into_std().map(Into::into)
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.raw()
    }
}
