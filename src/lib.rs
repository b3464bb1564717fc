//! coreloop: a thread-per-core async I/O runtime for Linux, on io_uring or epoll.
//!
//! This crate re-exports a chosen surface: the runtime ([`Runtime`], [`spawn`], [`spawn_on`],
//! [`JoinHandle`], …), owned buffers ([`buf`]) and the read/write traits ([`io`]), timers
//! ([`time`]), signals ([`signal`]), sockets ([`net`]) and files ([`fs`]), the
//! `#[coreloop::main]`/`#[coreloop::test]` macros, and the ecosystem adapters (`compat`,
//! behind features). The layers below — operations, the reactor and the raw syscall layer —
//! are in [`unstable`]: for `coreloop-net`, `coreloop-fs` and power users, and they may
//! change in any release.
//!
//! An echo server, one `SO_REUSEPORT` listener per core (`examples/echo_minimal.rs`, also the
//! README's):
//!
//! ```no_run
//! use coreloop::io::AsyncWriteRentExt;
//! use coreloop::net::TcpListener;
//! use coreloop::{CoreInfo, Runtime};
//! use std::io;
//!
//! fn main() -> io::Result<()> {
//!     // Reactor `auto` (io_uring, else epoll); CORELOOP_REACTOR=uring|epoll overrides it.
//!     let rt = Runtime::builder().cores(2).build()?;
//!     println!("echo on 127.0.0.1:8080, reactor {}", rt.reactor());
//!     let results = rt.run(serve)?;
//!     let mut failed = false;
//!     for (core, res) in results.into_iter().enumerate() {
//!         if let Err(e) = res {
//!             eprintln!("core {core}: {e}");
//!             failed = true;
//!         }
//!     }
//!     if failed {
//!         std::process::exit(1);
//!     }
//!     Ok(())
//! }
//!
//! /// One core's server: accept, and echo each connection in a task of its own.
//! async fn serve(core: CoreInfo) -> io::Result<()> {
//!     let listener = TcpListener::builder("127.0.0.1:8080")
//!         .reuse_port(true)
//!         .listen()?;
//!     loop {
//!         let (mut stream, peer) = listener.accept().await?;
//!         println!("core {}: connection from {peer}", core.index);
//!         coreloop::spawn(async move {
//!             // Buffers are owned and passed to the kernel, then handed back with the result
//!             // (io_uring reads into them after the call returns).
//!             let mut buf = Vec::with_capacity(4096);
//!             loop {
//!                 let (res, b) = stream.read(buf).await;
//!                 match res {
//!                     Ok(n) if n > 0 => {}
//!                     _ => break,
//!                 }
//!                 let (res, mut b) = stream.write_all(b).await;
//!                 if res.is_err() {
//!                     break;
//!                 }
//!                 b.clear();
//!                 buf = b;
//!             }
//!         });
//!     }
//! }
//! ```
#![deny(missing_docs)]

pub use coreloop_fs as fs;
pub use coreloop_net as net;
pub use coreloop_runtime::reactor::{Choice, set_fallback_hook};
pub use coreloop_runtime::{
    BufPoolStats, Builder, CoreInfo, JoinError, JoinHandle, OpLatencyStats, PooledBuf, ReactorKind,
    ReactorStats, Runtime, buf_pool_stats, core_count, current_core, current_reactor, live_tasks,
    op_latency, reactor_stats, spawn, spawn_blocking, spawn_on, yield_now,
};
pub use coreloop_runtime::{buf, io, signal, time};

/// The layers below the public API, **unstable**: they may change in any release. [`op`]
/// describes operations (one type per syscall, for both reactors), [`reactor`] runs them
/// (`Op<T>`, the io_uring and epoll backends), [`sys`] is the raw syscall layer (typed
/// wrappers, `Errno`, fault injection in test builds).
///
/// [`op`]: coreloop_runtime::op
/// [`reactor`]: coreloop_runtime::reactor
/// [`sys`]: coreloop_runtime::sys
pub mod unstable {
    pub use coreloop_runtime::{op, reactor, sys};
}

/// Helpers for tests of coreloop and of programs built on it (a watchdog, both reactors per
/// test body). Not a stable API.
#[doc(hidden)]
pub use coreloop_runtime::{reactor_test, testing};

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
pub mod __private;

pub mod cross_core;
