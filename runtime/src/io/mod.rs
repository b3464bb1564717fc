//! Ownership-passing I/O traits, the loops that finish short transfers, and [`IoFd`].
//!
//! Every read and write takes its buffer by value and gives it back with the result, as
//! io_uring needs: `let (res, buf) = stream.read(buf).await;`. A read **appends**: it fills
//! the buffer from its initialized length up to its capacity, and the initialized length grows
//! by what was read (clear the buffer to reuse it from the start). A write sends the
//! initialized bytes.
//!
//! [`AsyncReadRentExt::read_exact`] and [`AsyncWriteRentExt::write_all`] finish short
//! transfers; they are written once, here, and serve every stream on both reactors.

mod fd;

pub use fd::IoFd;

use crate::buf::{IoBuf, IoBufMut};
use std::future::Future;
use std::io;

/// A result and the buffer handed back.
pub type BufResult<T, B> = (io::Result<T>, B);

/// Reads into owned buffers.
pub trait AsyncReadRent {
    /// Reads once, appending to `buf`; `Ok(0)` is end of stream (or a full buffer).
    fn read<B: IoBufMut>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>>;
}

/// Writes from owned buffers.
pub trait AsyncWriteRent {
    /// Writes once from `buf`'s initialized bytes; may write fewer.
    fn write<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>>;
}

/// Loops over [`AsyncReadRent::read`].
pub trait AsyncReadRentExt: AsyncReadRent {
    /// Appends exactly `buf.bytes_total() - buf.bytes_init()` bytes: fills the buffer to its
    /// capacity. End of stream first is `UnexpectedEof` (the bytes read so far are kept).
    fn read_exact<B: IoBufMut>(&mut self, buf: B) -> impl Future<Output = BufResult<(), B>> {
        async move {
            let total = buf.bytes_total();
            let mut buf = buf;
            while buf.bytes_init() < total {
                let start = buf.bytes_init();
                let (res, slice) = self.read(buf.slice(start..total)).await;
                buf = slice.into_inner();
                match res {
                    Ok(0) => {
                        let msg = format!("stream ended after {start} of {total} bytes");
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

impl<T: AsyncReadRent + ?Sized> AsyncReadRentExt for T {}

/// Loops over [`AsyncWriteRent::write`].
pub trait AsyncWriteRentExt: AsyncWriteRent {
    /// Writes every initialized byte of `buf`. A write of zero bytes is `WriteZero`.
    fn write_all<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<(), B>> {
        async move {
            let len = buf.bytes_init();
            let mut buf = buf;
            let mut done = 0;
            while done < len {
                let (res, slice) = self.write(buf.slice(done..len)).await;
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

impl<T: AsyncWriteRent + ?Sized> AsyncWriteRentExt for T {}
