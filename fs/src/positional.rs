//! Positional I/O traits and the loops that finish short positional transfers, written once
//! for every type that reads or writes at an offset.
//!
//! Like the stream traits in `coreloop_runtime::io`, a read **appends** to its buffer (fills
//! it from its initialized length up to its capacity) and a write sends the initialized bytes.

use coreloop_runtime::buf::{IoBuf, IoBufMut};
use coreloop_runtime::io::{BufResult, read_to_full, write_to_end};
use std::future::Future;

/// Reads at an offset, into owned buffers.
pub trait AsyncReadAt {
    /// Reads once at `pos`, appending to `buf`; `Ok(0)` is end of file (or a full buffer).
    fn read_at<B: IoBufMut>(&self, buf: B, pos: u64) -> impl Future<Output = BufResult<usize, B>>;
}

/// Writes at an offset, from owned buffers.
pub trait AsyncWriteAt {
    /// Writes `buf`'s initialized bytes once at `pos`; may write fewer.
    fn write_at<B: IoBuf>(&self, buf: B, pos: u64) -> impl Future<Output = BufResult<usize, B>>;
}

/// Loops over [`AsyncReadAt::read_at`] (the loop itself is `coreloop_runtime::io`'s).
pub trait AsyncReadAtExt: AsyncReadAt {
    /// Fills `buf` to its capacity with the bytes from `pos` on. End of file first is
    /// `UnexpectedEof` (the bytes read so far are kept in `buf`).
    fn read_exact_at<B: IoBufMut>(
        &self,
        buf: B,
        pos: u64,
    ) -> impl Future<Output = BufResult<(), B>> {
        read_to_full(buf, async move |rest, done| {
            self.read_at(rest, pos + done as u64).await
        })
    }
}

impl<T: AsyncReadAt + ?Sized> AsyncReadAtExt for T {}

/// Loops over [`AsyncWriteAt::write_at`] (the loop itself is `coreloop_runtime::io`'s).
pub trait AsyncWriteAtExt: AsyncWriteAt {
    /// Writes every initialized byte of `buf` from `pos` on. A write of zero bytes is
    /// `WriteZero`.
    fn write_all_at<B: IoBuf>(&self, buf: B, pos: u64) -> impl Future<Output = BufResult<(), B>> {
        write_to_end(buf, async move |rest, done| {
            self.write_at(rest, pos + done as u64).await
        })
    }
}

impl<T: AsyncWriteAt + ?Sized> AsyncWriteAtExt for T {}
