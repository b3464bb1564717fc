//! `TcpStream`: a TCP connection, with ownership-passing reads and writes.

use super::split::{OwnedReadHalf, OwnedWriteHalf};
use crate::addr::{domain, each_addr, resolve, show_all, to_inet};
use crate::socket::Socket;
use coreloop_runtime::buf::{IoBuf, IoBufMut};
use coreloop_runtime::io::{AsyncReadRent, AsyncWriteRent, AsyncWriteVectoredRent, BufResult};
use coreloop_runtime::sys::socket::{
    IPPROTO_TCP, Linger, MSG_PEEK, SO_KEEPALIVE, SO_LINGER, SOCK_STREAM, SOL_SOCKET, TCP_NODELAY,
};
use coreloop_runtime::time;
use std::io;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::time::Duration;

/// A TCP connection. Sends never raise `SIGPIPE`: writing to a peer that went away is an
/// `io::Error` (`EPIPE` or `ECONNRESET`). `!Send`: it belongs to the core that made it.
///
/// # Examples
///
/// An echo round trip:
///
/// ```
/// use coreloop_net::{TcpListener, TcpStream};
/// use coreloop_runtime::io::AsyncWriteRentExt;
/// use coreloop_runtime::{Runtime, spawn};
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0")?;
///     let addr = listener.local_addr()?;
///     spawn(async move {
///         let (mut peer, _) = listener.accept().await?;
///         let (res, buf) = peer.read(Vec::with_capacity(64)).await;
///         res?;
///         peer.write_all(buf).await.0 // echo what came
///     });
///
///     let mut stream = TcpStream::connect(addr).await?;
///     stream.set_nodelay(true)?;
///     stream.write_all("hello").await.0?;
///     let (res, buf) = stream.read(Vec::with_capacity(64)).await;
///     assert_eq!(res?, 5);
///     assert_eq!(buf, b"hello");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct TcpStream {
    sock: Socket,
}

impl TcpStream {
    pub(crate) fn from_socket(sock: Socket) -> TcpStream {
        TcpStream { sock }
    }

    /// Connects to `addr`, trying each address it names in turn.
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        each_addr(resolve(addr)?, |a| async move {
            let sock = Socket::new(domain(&a), SOCK_STREAM)?;
            sock.connect(a.into()).await?;
            Ok(TcpStream::from_socket(sock))
        })
        .await
    }

    /// As [`connect`](Self::connect), giving up with `TimedOut` after `dur` (the error names
    /// the address and the time it waited).
    pub async fn connect_timeout<A: ToSocketAddrs>(
        addr: A,
        dur: Duration,
    ) -> io::Result<TcpStream> {
        let addrs = resolve(addr)?;
        match time::timeout(dur, TcpStream::connect(&addrs[..])).await {
            Ok(res) => res,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("connecting to {} timed out after {dur:?}", show_all(&addrs)),
            )),
        }
    }

    /// Reads once, **appending** to `buf`: the bytes land after its initialized ones, up to
    /// its capacity. `Ok(0)` is end of stream; a buffer with no spare capacity is an
    /// immediate `InvalidInput` error (never `Ok(0)`).
    ///
    /// # Example
    /// ```
    /// use coreloop_net::{TcpListener, TcpStream};
    /// # coreloop_runtime::Runtime::new().unwrap().block_on(async {
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    /// let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// let (server, _) = listener.accept().await.unwrap();
    /// client.write("hello").await.0.unwrap();
    ///
    /// let mut buf = Vec::with_capacity(64);
    /// buf.extend_from_slice(b">");
    /// let (n, buf) = server.read(buf).await;
    /// assert_eq!(&buf[..1 + n.unwrap()], b">hello"); // appended after the '>'
    /// let mut buf = buf;
    /// buf.clear(); // to fill it from the start again
    /// # });
    /// ```
    pub fn read<B: IoBufMut>(&self, buf: B) -> impl Future<Output = BufResult<usize, B>> + use<B> {
        self.sock.recv(buf, 0)
    }

    /// Reads what arrives into a buffer of the core's pool and returns it; **empty at end of
    /// stream**. The buffer is taken only when data arrives (on io_uring the kernel picks it
    /// from a provided-buffer ring for a multishot recv), so an idle connection holds none; it
    /// goes back to the pool when the returned [`PooledBuf`] drops, and it can be written as is
    /// (`stream.write_all(buf)`).
    ///
    /// **Cancel-safe**, on both reactors: data that arrived for a read whose future was dropped
    /// (a `timeout`, a `select`) waits in the stream for the next `read_pooled`, in order. Pool
    /// size and buffer size are [`Builder::buf_pool`](coreloop_runtime::Builder::buf_pool)
    /// settings; a read finding the pool empty waits for a buffer to come back.
    ///
    /// [`PooledBuf`]: coreloop_runtime::PooledBuf
    pub fn read_pooled(
        &self,
    ) -> impl Future<Output = io::Result<coreloop_runtime::PooledBuf>> + '_ {
        self.sock.read_pooled()
    }

    /// Writes once from `buf`'s initialized bytes; may write fewer.
    pub fn write<B: IoBuf>(&self, buf: B) -> impl Future<Output = BufResult<usize, B>> + use<B> {
        self.sock.send(buf)
    }

    /// Reads once into several buffers, in order.
    pub fn readv<B: IoBufMut>(
        &self,
        bufs: Vec<B>,
    ) -> impl Future<Output = BufResult<usize, Vec<B>>> + use<B> {
        self.sock.readv(bufs)
    }

    /// Writes once from several buffers, in order (sendmsg: never `SIGPIPE`).
    pub async fn writev<B: IoBuf>(&self, bufs: Vec<B>) -> BufResult<usize, Vec<B>> {
        self.sock.writev(bufs).await
    }

    /// Reads without taking the bytes off the socket (`MSG_PEEK`).
    pub fn peek<B: IoBufMut>(&self, buf: B) -> impl Future<Output = BufResult<usize, B>> + use<B> {
        self.sock.recv(buf, MSG_PEEK)
    }

    /// Shuts down reading, writing or both (`Write` sends FIN: the peer reads end of stream).
    pub async fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.sock.shutdown(how).await
    }

    /// `TCP_NODELAY`: send small writes at once instead of batching them (Nagle off).
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.sock.set_flag(IPPROTO_TCP, TCP_NODELAY, on)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.sock.flag(IPPROTO_TCP, TCP_NODELAY)
    }

    /// `SO_KEEPALIVE`.
    pub fn set_keepalive(&self, on: bool) -> io::Result<()> {
        self.sock.set_flag(SOL_SOCKET, SO_KEEPALIVE, on)
    }

    /// Whether `SO_KEEPALIVE` is set.
    pub fn keepalive(&self) -> io::Result<bool> {
        self.sock.flag(SOL_SOCKET, SO_KEEPALIVE)
    }

    /// `SO_LINGER`, in whole seconds. `Some(Duration::ZERO)`: close resets the connection.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        let l = match linger {
            Some(d) => Linger {
                l_onoff: 1,
                l_linger: d.as_secs().min(i32::MAX as u64) as i32,
            },
            None => Linger::default(),
        };
        self.sock.set_opt(SOL_SOCKET, SO_LINGER, l)
    }

    /// The `SO_LINGER` setting: `None` if off, else the timeout in whole seconds.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        let l: Linger = self.sock.opt(SOL_SOCKET, SO_LINGER)?;
        Ok((l.l_onoff != 0).then(|| Duration::from_secs(l.l_linger.max(0) as u64)))
    }

    /// `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        use coreloop_runtime::sys::socket::{IP_TTL, IPPROTO_IP};
        self.sock.set_opt(IPPROTO_IP, IP_TTL, ttl as i32)
    }

    /// The local address of the connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        to_inet(&self.sock.local_addr()?)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        to_inet(&self.sock.peer_addr()?)
    }

    /// The pending socket error (`SO_ERROR`), cleared by reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.sock.take_error()
    }

    /// Splits into a read half and a write half that two tasks of this core can use at once.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let sock = Rc::new(self.sock);
        (OwnedReadHalf::new(sock.clone()), OwnedWriteHalf::new(sock))
    }

    /// Takes a std stream (made non-blocking).
    pub fn from_std(s: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream::from_socket(Socket::from_std(s.into())?))
    }

    /// Gives the stream back as std's (still non-blocking), out of this core's epoll set, to
    /// move it to another core. (If a dropped operation is still being cancelled by the kernel,
    /// this is a duplicate of the descriptor; the original closes when that one is done.)
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        self.sock.into_std().map(Into::into)
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.raw()
    }
}

impl AsyncReadRent for TcpStream {
    fn read<B: IoBufMut>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        TcpStream::read(self, buf)
    }
}

impl AsyncWriteRent for TcpStream {
    fn write<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        TcpStream::write(self, buf)
    }
}

impl AsyncWriteVectoredRent for TcpStream {
    fn writev<B: IoBuf>(&mut self, bufs: Vec<B>) -> impl Future<Output = BufResult<usize, Vec<B>>> {
        TcpStream::writev(self, bufs)
    }
}

/// Reads through a shared reference, as the inherent methods do: `(&stream).read_exact(buf)`,
/// or a [`BufReader`](coreloop_runtime::io::BufReader) over `&stream` beside a
/// [`BufWriter`](coreloop_runtime::io::BufWriter) over `&stream`.
impl AsyncReadRent for &TcpStream {
    fn read<B: IoBufMut>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        TcpStream::read(self, buf)
    }
}

/// Writes through a shared reference, as the inherent methods do: `(&stream).write_all(buf)`.
impl AsyncWriteRent for &TcpStream {
    fn write<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        TcpStream::write(self, buf)
    }
}

impl AsyncWriteVectoredRent for &TcpStream {
    fn writev<B: IoBuf>(&mut self, bufs: Vec<B>) -> impl Future<Output = BufResult<usize, Vec<B>>> {
        TcpStream::writev(self, bufs)
    }
}
