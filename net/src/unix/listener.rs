//! `UnixListener`: accepts Unix stream connections.

use super::{SocketAddr, UnixStream};
use crate::socket::Socket;
use coreloop_runtime::sys::socket::{AF_UNIX, SOCK_STREAM, SOMAXCONN};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;

/// A Unix stream socket listening for connections. Dropping it does not remove its file.
///
/// # Examples
///
/// ```
/// use coreloop_net::{UnixListener, UnixStream};
/// use coreloop_runtime::{Runtime, spawn};
///
/// let path = std::env::temp_dir().join(format!("coreloop-doc-{}.sock", std::process::id()));
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let listener = UnixListener::bind(&path)?;
///     let client = spawn({
///         let path = path.clone();
///         async move { UnixStream::connect(&path).await?.write("hi").await.0 }
///     });
///     let (stream, _peer) = listener.accept().await?;
///     let (res, buf) = stream.read(Vec::with_capacity(16)).await;
///     assert_eq!(res?, 2);
///     assert_eq!(buf, b"hi");
///     client.await??;
///     std::fs::remove_file(&path) // dropping the listener leaves its file
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct UnixListener {
    sock: Socket,
}

impl UnixListener {
    /// Binds to a filesystem path (which must not exist yet) and listens.
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        UnixListener::bind_addr(&SocketAddr::from_pathname(path)?)
    }

    /// Binds to a path or an abstract name and listens.
    pub fn bind_addr(addr: &SocketAddr) -> io::Result<UnixListener> {
        let sock = Socket::new(AF_UNIX, SOCK_STREAM)?;
        sock.bind(&addr.sock())?;
        sock.listen(SOMAXCONN as u32)?;
        Ok(UnixListener { sock })
    }

    /// Waits for a connection; returns it and the peer's address (usually unnamed).
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (sock, addr) = self.sock.accept().await?;
        Ok((UnixStream::from_socket(sock), SocketAddr::from_sock(addr)?))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        SocketAddr::from_sock(self.sock.local_addr()?)
    }

    /// Takes a std listener (made non-blocking).
    pub fn from_std(l: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            sock: Socket::from_std(l.into())?,
        })
    }

    /// Gives the listener back as a std listener (still non-blocking), e.g. to move it to another
    /// core.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        self.sock.into_std().map(Into::into)
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.raw()
    }
}
