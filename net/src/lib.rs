//! coreloop-net: TCP, UDP and Unix sockets on coreloop, for both reactors.
//!
//! Every type wraps one non-blocking, close-on-exec socket and describes its I/O as ops
//! (`coreloop_runtime::op`); which reactor runs them is the core's business. I/O passes
//! buffers by value: `let (res, buf) = stream.read(buf).await;`. The stream types implement
//! `AsyncReadRent`/`AsyncWriteRent`, so `read_exact`, `write_all` and `write_all_vectored`
//! come from the runtime's shared loops.
//!
//! Decisions worth knowing:
//! - Sends use `send`/`sendmsg` with `MSG_NOSIGNAL`: a write to a peer that went away is an
//!   `io::Error`, never `SIGPIPE`.
//! - Every failure is an `io::Error` carrying the OS error code; bad input (a Unix path with
//!   a NUL, or too long) is `InvalidInput`, never a panic.
//! - Addresses are `ToSocketAddrs`: literal addresses cost nothing, but a host name is
//!   resolved by the system resolver and blocks the core while it does.
//! - All types are `!Send`: a socket's readiness state belongs to its core. Move a socket
//!   between cores through `into_std`/`from_std`.
#![deny(missing_docs)]

mod addr;
mod socket;
pub mod tcp;
pub mod udp;
pub mod unix;

pub use tcp::{ListenerBuilder, OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};
