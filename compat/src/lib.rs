//! coreloop-compat: run code written for the poll-based I/O traits — `tokio::io`,
//! `futures::io`, `hyper::rt` — on coreloop streams, on either reactor.
//!
//! coreloop's own I/O passes owned buffers to the kernel (`stream.read(buf).await` gives the
//! buffer back), as io_uring needs: the kernel may write into a read buffer after the caller
//! has moved on, so the buffer cannot be a `&mut [u8]` that the caller keeps. The poll-based
//! traits lend a buffer for one poll only. [`Compat`] bridges the two:
//!
//! - it **owns its buffers**: a read fills the adapter's own buffer, and each poll copies out of
//!   it into whatever buffer the caller lends this time; a write copies the caller's bytes into
//!   the adapter's staging buffer and returns at once, and the kernel writes from there;
//! - it **keeps the operation in flight across polls**: the op future is stored in the adapter
//!   and polled again on the next call, never dropped and restarted, so a caller that changes
//!   buffers between polls, or drops its own `read()`/`write()` future half way, loses and
//!   duplicates nothing;
//! - **write errors surface on flush**: a write the kernel refuses after `poll_write` returned
//!   is reported by the next `poll_write`, `poll_flush` or `poll_shutdown`. Always flush (or shut
//!   down) before dropping: staged bytes are dropped with the adapter, as with tokio's
//!   `BufWriter`;
//! - `poll_shutdown` flushes, then shuts the write side down; a peer that already reset the
//!   connection (`ENOTCONN`) counts as shut down, as tokio's `TcpStream` does.
//!
//! # What it costs, and when to use native I/O instead
//!
//! One `memcpy` per read and per write (kernel ↔ adapter buffer ↔ caller buffer), and one
//! boxed op future per operation (the op futures of coreloop's streams are unnameable `async`
//! blocks). Reads are sized by the caller's buffer, clamped to 4–64 KiB. A write goes to the
//! kernel at once if none is in flight; bytes written while one is in flight are staged (up to
//! 64 KiB) and go out together when it completes. As on tokio, write a response in one piece
//! (or through a `BufWriter`) and set `TCP_NODELAY` for request/response protocols.
//!
//! Measured with `cargo run --release --example compat_cost -- --reactor uring|epoll` (one
//! core, Unix socket pair, on a busy 2-vCPU VM, so within noise): 1 GiB in 64 KiB pieces took
//! 0.6–1.2x the native time (the staged write overlaps the next copy), a 64-byte ping-pong
//! 0.8–1.35x. The copy is not what bounds these; the boxed op per operation and the extra
//! poll are visible only in instruction counts. For code you write yourself — a protocol loop, a proxy, a file server —
//! use coreloop's owned-buffer methods (`stream.read(buf)`, `write_all`, pooled reads): they
//! hand the buffer to the kernel with no copy. Use the adapter for the ecosystem: hyper,
//! tokio-rustls, tokio-util codecs, anything that takes `AsyncRead + AsyncWrite`.
//!
//! The adapter holds its stream in an `Rc` and its futures are `!Send`: like every coreloop
//! stream it lives on one core. Spawn the tasks that use it with `coreloop::spawn`.
//!
//! # Features
//!
//! - `tokio-io`: `tokio::io::{AsyncRead, AsyncBufRead, AsyncWrite}`.
//! - `futures-io`: `futures_io::{AsyncRead, AsyncBufRead, AsyncWrite}`.
//! - `hyper`: `hyper::rt::{Read, Write}` for [`Compat`], and `hyper::CoreExecutor` and
//!   `hyper::CoreTimer` (this crate's `hyper` module) for hyper's builders.
#![deny(missing_docs)]

mod compat;
mod source;

#[cfg(feature = "futures-io")]
mod futures;
#[cfg(feature = "hyper")]
pub mod hyper;
#[cfg(feature = "tokio-io")]
mod tokio;

pub use compat::Compat;
pub use source::{OpFuture, ReadSource, WriteSink};
