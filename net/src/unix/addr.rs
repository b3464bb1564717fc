//! `SocketAddr`: a Unix socket address (a path, an abstract name, or unnamed).

use coreloop_runtime::sys::socket::{AF_UNIX, SockAddr};
use std::fmt;
use std::io;
use std::path::Path;

/// The address of a Unix socket. Building one from a path that is empty, holds a NUL byte or
/// is too long for `sun_path` (107 bytes) fails with `InvalidInput`.
#[derive(Clone, Copy)]
pub struct SocketAddr {
    inner: SockAddr,
}

impl SocketAddr {
    /// An address naming a filesystem path.
    ///
    /// # Errors
    /// `InvalidInput` if the path holds a NUL byte or is too long for `sun_path` (107 bytes).
    pub fn from_pathname<P: AsRef<Path>>(path: P) -> io::Result<SocketAddr> {
        Ok(SocketAddr {
            inner: SockAddr::unix(path.as_ref()).map_err(invalid_input)?,
        })
    }

    /// An abstract name (Linux): no file; the name may hold any bytes, up to 107.
    pub fn from_abstract_name<N: AsRef<[u8]>>(name: N) -> io::Result<SocketAddr> {
        Ok(SocketAddr {
            inner: SockAddr::unix_abstract(name.as_ref()).map_err(invalid_input)?,
        })
    }

    pub(crate) fn from_sock(inner: SockAddr) -> io::Result<SocketAddr> {
        if inner.family() != AF_UNIX {
            // A socketpair end may report an empty address: that is unnamed.
            if inner.family() == 0 {
                return Ok(SocketAddr {
                    inner: SockAddr::unix_unnamed(),
                });
            }
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("expected a Unix address, got {inner:?}"),
            ));
        }
        Ok(SocketAddr { inner })
    }

    pub(crate) fn sock(&self) -> SockAddr {
        self.inner
    }

    /// The filesystem path, if the address is one.
    pub fn as_pathname(&self) -> Option<&Path> {
        self.inner.as_unix_path()
    }

    /// The name in the abstract namespace (without the leading NUL), if the address is one.
    pub fn as_abstract_name(&self) -> Option<&[u8]> {
        self.inner.as_abstract()
    }

    /// True for an unbound socket's address (no path, no abstract name).
    pub fn is_unnamed(&self) -> bool {
        self.inner.is_unnamed_unix()
    }
}

/// The sys layer reports a bad path as `EINVAL`, which is `ErrorKind::InvalidInput` and keeps
/// the OS code.
fn invalid_input(e: coreloop_runtime::sys::Errno) -> io::Error {
    io::Error::from(e)
}

impl fmt::Debug for SocketAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
