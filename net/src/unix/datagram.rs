//! `UnixDatagram`: Unix datagrams, message boundaries kept.

use super::SocketAddr;
use crate::socket::Socket;
use coreloop_runtime::buf::{IoBuf, IoBufMut};
use coreloop_runtime::io::BufResult;
use coreloop_runtime::sys::socket::{AF_UNIX, SOCK_DGRAM};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;

/// A Unix datagram socket.
#[derive(Debug)]
pub struct UnixDatagram {
    sock: Socket,
}

impl UnixDatagram {
    /// Bound to a filesystem path.
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        UnixDatagram::bind_addr(&SocketAddr::from_pathname(path)?)
    }

    /// Bound to a path or an abstract name.
    pub fn bind_addr(addr: &SocketAddr) -> io::Result<UnixDatagram> {
        let d = UnixDatagram::unbound()?;
        d.sock.bind(&addr.sock())?;
        Ok(d)
    }

    /// Not bound to any address (it can send, and receive replies only if connected).
    pub fn unbound() -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            sock: Socket::new(AF_UNIX, SOCK_DGRAM)?,
        })
    }

    /// Two connected sockets.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = Socket::pair(SOCK_DGRAM)?;
        Ok((UnixDatagram { sock: a }, UnixDatagram { sock: b }))
    }

    /// Sets the default destination (a Unix connect never waits).
    pub async fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        self.connect_addr(&SocketAddr::from_pathname(path)?).await
    }

    /// Connects to the socket at `addr`: [`send`](Self::send) goes there, and only its datagrams
    /// are received.
    pub async fn connect_addr(&self, addr: &SocketAddr) -> io::Result<()> {
        self.sock.connect(addr.sock()).await
    }

    /// Sends one datagram from `buf`'s initialized bytes to the socket bound at `path`.
    pub async fn send_to<B: IoBuf, P: AsRef<Path>>(&self, buf: B, path: P) -> BufResult<usize, B> {
        match SocketAddr::from_pathname(path) {
            Ok(a) => self.send_to_addr(buf, &a).await,
            Err(e) => (Err(e), buf),
        }
    }

    /// Sends one datagram from `buf`'s initialized bytes to `addr`.
    pub async fn send_to_addr<B: IoBuf>(&self, buf: B, addr: &SocketAddr) -> BufResult<usize, B> {
        self.sock.send_to(buf, addr.sock()).await
    }

    /// Receives one datagram and its sender's address.
    pub async fn recv_from<B: IoBufMut>(&self, buf: B) -> BufResult<(usize, SocketAddr), B> {
        let (res, buf) = self.sock.recv_from(buf).await;
        (
            res.and_then(|(n, a)| Ok((n, SocketAddr::from_sock(a)?))),
            buf,
        )
    }

    /// Sends one datagram to the connected peer.
    pub async fn send<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
        self.sock.send(buf).await
    }

    /// Receives one datagram into `buf`'s spare capacity; a datagram longer than that is cut short.
    pub async fn recv<B: IoBufMut>(&self, buf: B) -> BufResult<usize, B> {
        self.sock.recv_datagram(buf).await
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        SocketAddr::from_sock(self.sock.local_addr()?)
    }

    /// The address the socket is connected to.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        SocketAddr::from_sock(self.sock.peer_addr()?)
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.raw()
    }
}
