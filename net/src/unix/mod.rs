//! Unix domain sockets: [`UnixListener`], [`UnixStream`] (with descriptor passing) and
//! [`UnixDatagram`], at a filesystem path or an abstract name ([`SocketAddr`]).

mod addr;
mod datagram;
mod listener;
mod stream;

pub use addr::SocketAddr;
pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use stream::UnixStream;
