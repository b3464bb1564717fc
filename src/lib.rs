//! coreloop: a thread-per-core async I/O runtime for Linux, on io_uring or epoll.
//!
//! This crate only re-exports: the runtime (`coreloop-runtime`: executor, ops, reactors,
//! timers, the raw syscall layer), [`net`] (`coreloop-net`) and [`fs`] (`coreloop-fs`).
//!
//! An echo server, one `SO_REUSEPORT` listener per core:
//!
//! ```no_run
//! use coreloop::io::{AsyncReadRent, AsyncWriteRentExt};
//! use coreloop::{Runtime, net::TcpListener};
//!
//! fn main() -> std::io::Result<()> {
//!     // Reactor `auto` (io_uring, else epoll); CORELOOP_REACTOR=uring|epoll overrides it.
//!     let rt = Runtime::builder().cores(2).pin(true).build()?;
//!     rt.run(|_core| async {
//!         let listener = TcpListener::builder("127.0.0.1:8080").reuse_port(true).listen()?;
//!         loop {
//!             let (mut stream, _) = listener.accept().await?;
//!             coreloop::spawn(async move {
//!                 let mut buf = Vec::with_capacity(4096);
//!                 loop {
//!                     let (res, b) = stream.read(buf).await;
//!                     match res {
//!                         Ok(n) if n > 0 => {}
//!                         _ => break,
//!                     }
//!                     let (res, mut b) = stream.write_all(b).await;
//!                     if res.is_err() {
//!                         break;
//!                     }
//!                     b.clear();
//!                     buf = b;
//!                 }
//!             });
//!         }
//!         #[allow(unreachable_code)]
//!         Ok::<(), std::io::Error>(())
//!     })?;
//!     Ok(())
//! }
//! ```
#![deny(missing_docs)]

pub use coreloop_fs as fs;
pub use coreloop_net as net;
pub use coreloop_runtime::*;

/// Adapters from coreloop streams to the poll-based I/O traits (`tokio::io`, `futures::io`,
/// `hyper::rt`), behind the features `tokio-io`, `futures-io` and `hyper`.
#[cfg(any(feature = "tokio-io", feature = "futures-io", feature = "hyper"))]
pub use coreloop_compat as compat;

/// Runs an `async fn main` on a coreloop runtime: `#[coreloop::main(cores = 4, reactor =
/// "uring", pin = true)]`. See [`coreloop_macros::main`].
pub use coreloop_macros::main;
/// Runs an `async fn` test once on io_uring and once on epoll. See [`coreloop_macros::test`].
pub use coreloop_macros::test;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub mod cross_core;
