//! `UnixStream`: a Unix stream connection, with descriptor passing (`SCM_RIGHTS`).

use super::SocketAddr;
use crate::socket::Socket;
use coreloop_runtime::buf::{IoBuf, IoBufMut};
use coreloop_runtime::io::{AsyncReadRent, AsyncWriteRent, AsyncWriteVectoredRent, BufResult};
use coreloop_runtime::sys::socket::{AF_UNIX, SOCK_STREAM, scm_rights, scm_rights_space};
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;

/// A Unix stream connection. Sends never raise `SIGPIPE`.
///
/// # Examples
///
/// ```
/// use coreloop_net::UnixStream;
/// use coreloop_runtime::Runtime;
/// use coreloop_runtime::io::AsyncWriteRentExt;
/// use std::net::Shutdown;
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let (mut a, b) = UnixStream::pair()?; // or `UnixStream::connect(path)`
///     a.write_all("hello").await.0?;
///     a.shutdown(Shutdown::Write).await?;
///
///     let (res, buf) = b.read(Vec::with_capacity(64)).await;
///     assert_eq!(res?, 5);
///     assert_eq!(buf, b"hello");
///     let (res, _) = b.read(buf).await;
///     assert_eq!(res?, 0); // end of stream
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct UnixStream {
    sock: Socket,
}

impl UnixStream {
    pub(crate) fn from_socket(sock: Socket) -> UnixStream {
        UnixStream { sock }
    }

    /// Connects to the socket bound at `path`.
    pub async fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        UnixStream::connect_addr(&SocketAddr::from_pathname(path)?).await
    }

    /// Connects to a path or an abstract name.
    pub async fn connect_addr(addr: &SocketAddr) -> io::Result<UnixStream> {
        let sock = Socket::new(AF_UNIX, SOCK_STREAM)?;
        sock.connect(addr.sock()).await?;
        Ok(UnixStream { sock })
    }

    /// Two connected streams.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = Socket::pair(SOCK_STREAM)?;
        Ok((UnixStream { sock: a }, UnixStream { sock: b }))
    }

    /// Reads once, **appending** to `buf`: the bytes land after its initialized ones, up to
    /// its capacity. `Ok(0)` is end of stream; a buffer with no spare capacity is an
    /// immediate `InvalidInput` error (never `Ok(0)`).
    ///
    /// # Example
    /// ```
    /// use coreloop_net::UnixStream;
    /// # coreloop_runtime::Runtime::new().unwrap().block_on(async {
    /// let (a, b) = UnixStream::pair().unwrap();
    /// a.write("hello").await.0.unwrap();
    ///
    /// let mut buf = Vec::with_capacity(64);
    /// buf.extend_from_slice(b">");
    /// let (n, buf) = b.read(buf).await;
    /// assert_eq!(n.unwrap(), 5);
    /// assert_eq!(buf, b">hello"); // appended after the '>'
    /// # });
    /// ```
    pub fn read<B: IoBufMut>(&self, buf: B) -> impl Future<Output = BufResult<usize, B>> + use<B> {
        self.sock.recv(buf, 0)
    }

    /// Reads what arrives into a buffer of the core's pool; empty at end of stream. Cancel-safe;
    /// see [`TcpStream::read_pooled`](crate::TcpStream::read_pooled).
    pub fn read_pooled(
        &self,
    ) -> impl Future<Output = io::Result<coreloop_runtime::PooledBuf>> + '_ {
        self.sock.read_pooled()
    }

    /// Writes once from `buf`'s initialized bytes; may write fewer (use `write_all` to finish).
    pub fn write<B: IoBuf>(&self, buf: B) -> impl Future<Output = BufResult<usize, B>> + use<B> {
        self.sock.send(buf)
    }

    /// Reads once into the spare capacity of several buffers, in order.
    pub fn readv<B: IoBufMut>(
        &self,
        bufs: Vec<B>,
    ) -> impl Future<Output = BufResult<usize, Vec<B>>> + use<B> {
        self.sock.readv(bufs)
    }

    /// Writes once from several buffers, in order; may write fewer than all.
    pub async fn writev<B: IoBuf>(&self, bufs: Vec<B>) -> BufResult<usize, Vec<B>> {
        self.sock.writev(bufs).await
    }

    /// Sends `buf` with duplicates of `fds` attached (one `SCM_RIGHTS` message). The
    /// descriptors stay open here. At least one byte must be sent with them.
    pub async fn send_fds<B: IoBuf>(&self, fds: &[BorrowedFd<'_>], buf: B) -> BufResult<usize, B> {
        // The control message carries the numbers; the borrows keep them open until it is
        // built, and the kernel takes its own references when it queues the message.
        let raw: Vec<RawFd> = fds.iter().map(|f| f.as_raw_fd()).collect();
        let (res, mut bufs) = self.sock.sendmsg(vec![buf], None, scm_rights(&raw)).await;
        (res, bufs.pop().expect("sendmsg gives its buffers back"))
    }

    /// Receives into `buf` and takes up to `max_fds` passed descriptors, owned and
    /// close-on-exec. If more were sent, the kernel closes the rest.
    pub async fn recv_fds<B: IoBufMut>(
        &self,
        buf: B,
        max_fds: usize,
    ) -> BufResult<(usize, Vec<OwnedFd>), B> {
        let (res, mut bufs) = self
            .sock
            .recvmsg(vec![buf], scm_rights_space(max_fds))
            .await;
        let buf = bufs.pop().expect("recvmsg gives its buffers back");
        let res = res.map(|(n, r)| (n, r.fds.into_iter().map(OwnedFd::from).collect()));
        (res, buf)
    }

    /// Shuts down reading, writing or both (`shutdown(2)`).
    pub async fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.sock.shutdown(how).await
    }

    /// The address this end is bound to (usually unnamed).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        SocketAddr::from_sock(self.sock.local_addr()?)
    }

    /// The address of the peer.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        SocketAddr::from_sock(self.sock.peer_addr()?)
    }

    /// Takes a std stream (made non-blocking).
    pub fn from_std(s: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            sock: Socket::from_std(s.into())?,
        })
    }

    /// Gives the stream back as a std stream (still non-blocking), e.g. to move it to another core.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        self.sock.into_std().map(Into::into)
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.raw()
    }
}

impl AsyncReadRent for UnixStream {
    fn read<B: IoBufMut>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        UnixStream::read(self, buf)
    }
}

impl AsyncWriteRent for UnixStream {
    fn write<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        UnixStream::write(self, buf)
    }
}

impl AsyncWriteVectoredRent for UnixStream {
    fn writev<B: IoBuf>(&mut self, bufs: Vec<B>) -> impl Future<Output = BufResult<usize, Vec<B>>> {
        UnixStream::writev(self, bufs)
    }
}

/// Reads through a shared reference, as the inherent methods do: `(&stream).read_exact(buf)`,
/// or a [`BufReader`](coreloop_runtime::io::BufReader) over `&stream` beside a
/// [`BufWriter`](coreloop_runtime::io::BufWriter) over `&stream`.
impl AsyncReadRent for &UnixStream {
    fn read<B: IoBufMut>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        UnixStream::read(self, buf)
    }
}

/// Writes through a shared reference, as the inherent methods do: `(&stream).write_all(buf)`.
impl AsyncWriteRent for &UnixStream {
    fn write<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        UnixStream::write(self, buf)
    }
}

impl AsyncWriteVectoredRent for &UnixStream {
    fn writev<B: IoBuf>(&mut self, bufs: Vec<B>) -> impl Future<Output = BufResult<usize, Vec<B>>> {
        UnixStream::writev(self, bufs)
    }
}
