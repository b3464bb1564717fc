//! Positional I/O traits and the loops that finish short positional transfers, written once
//! for every type that reads or writes at an offset.
//!
//! Like the stream traits in `coreloop_runtime::io`, a read **appends** to its buffer (fills
//! it from its initialized length up to its capacity) and a write sends the initialized bytes.

use coreloop_runtime::buf::{IoBuf, IoBufMut};
use coreloop_runtime::io::BufResult;
use std::future::Future;
use std::io;

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

/// Loops over [`AsyncReadAt::read_at`].
pub trait AsyncReadAtExt: AsyncReadAt {
    /// Fills `buf` to its capacity with the bytes from `pos` on. End of file first is
    /// `UnexpectedEof` (the bytes read so far are kept in `buf`).
    fn read_exact_at<B: IoBufMut>(
        &self,
        buf: B,
        pos: u64,
    ) -> impl Future<Output = BufResult<(), B>> {
        async move {
            let total = buf.bytes_total();
            let first = buf.bytes_init();
            let mut buf = buf;
            while buf.bytes_init() < total {
                let start = buf.bytes_init();
                let at = pos + (start - first) as u64;
                let (res, slice) = self.read_at(buf.slice(start..total), at).await;
                buf = slice.into_inner();
                match res {
                    Ok(0) => {
                        let msg =
                            format!("end of file at offset {at}, {} bytes short", total - start);
                        return (Err(io::Error::new(io::ErrorKind::UnexpectedEof, msg)), buf);
                    }
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return (Err(e), buf),
                }
            }
            (Ok(()), buf)
        }
    }
}

impl<T: AsyncReadAt + ?Sized> AsyncReadAtExt for T {}

/// Loops over [`AsyncWriteAt::write_at`].
pub trait AsyncWriteAtExt: AsyncWriteAt {
    /// Writes every initialized byte of `buf` from `pos` on. A write of zero bytes is
    /// `WriteZero`.
    fn write_all_at<B: IoBuf>(&self, buf: B, pos: u64) -> impl Future<Output = BufResult<(), B>> {
        async move {
            let len = buf.bytes_init();
            let mut buf = buf;
            let mut done = 0;
            while done < len {
                let (res, slice) = self.write_at(buf.slice(done..len), pos + done as u64).await;
                buf = slice.into_inner();
                match res {
                    Ok(0) => {
                        let msg = format!("wrote {done} of {len} bytes, then the write took none");
                        return (Err(io::Error::new(io::ErrorKind::WriteZero, msg)), buf);
                    }
                    Ok(n) => done += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return (Err(e), buf),
                }
            }
            (Ok(()), buf)
        }
    }
}

impl<T: AsyncWriteAt + ?Sized> AsyncWriteAtExt for T {}
