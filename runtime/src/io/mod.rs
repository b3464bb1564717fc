//! Ownership-passing I/O traits and the loops that finish short transfers.
//!
//! Every read and write takes its buffer by value and gives it back with the result, as
//! io_uring needs: `let (res, buf) = stream.read(buf).await;`. A read **appends**: it fills
//! the buffer from its initialized length up to its capacity, and the initialized length grows
//! by what was read (clear the buffer to reuse it from the start). A write sends the
//! initialized bytes.
//!
//! [`AsyncReadRentExt::read_exact`], [`AsyncWriteRentExt::write_all`] and
//! [`AsyncWriteVectoredRentExt::write_all_vectored`] finish short transfers; they are written
//! once, here, and serve every stream on both reactors.

use crate::buf::{IoBuf, IoBufMut, Slice};
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

/// The loop that finishes a read, written once for every kind of reader: `step(rest, done)`
/// reads once into `rest` (the unfilled part of `buf`) given the `done` bytes already read,
/// until `buf` is full. End of data first is `UnexpectedEof` (what was read is kept); an
/// `Interrupted` step is tried again.
pub async fn read_to_full<B: IoBufMut>(
    buf: B,
    mut step: impl AsyncFnMut(Slice<B>, usize) -> BufResult<usize, Slice<B>>,
) -> BufResult<(), B> {
    let total = buf.bytes_total();
    let first = buf.bytes_init();
    let mut buf = buf;
    while buf.bytes_init() < total {
        let start = buf.bytes_init();
        let (res, slice) = step(buf.slice(start..total), start - first).await;
        buf = slice.into_inner();
        match res {
            Ok(0) => {
                let msg = format!(
                    "the data ended {} bytes short of {}",
                    total - start,
                    total - first
                );
                return (Err(io::Error::new(io::ErrorKind::UnexpectedEof, msg)), buf);
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (Err(e), buf),
        }
    }
    (Ok(()), buf)
}

/// The loop that finishes a write, written once for every kind of writer: `step(rest, done)`
/// writes once from `rest` (the initialized bytes not yet written) given the `done` bytes
/// already written, until all are. A step that writes nothing is `WriteZero`; an
/// `Interrupted` step is tried again.
pub async fn write_to_end<B: IoBuf>(
    buf: B,
    mut step: impl AsyncFnMut(Slice<B>, usize) -> BufResult<usize, Slice<B>>,
) -> BufResult<(), B> {
    let len = buf.bytes_init();
    let mut buf = buf;
    let mut done = 0;
    while done < len {
        let (res, slice) = step(buf.slice(done..len), done).await;
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

/// Loops over [`AsyncReadRent::read`].
pub trait AsyncReadRentExt: AsyncReadRent {
    /// Appends exactly `buf.bytes_total() - buf.bytes_init()` bytes: fills the buffer to its
    /// capacity. End of stream first is `UnexpectedEof` (the bytes read so far are kept).
    fn read_exact<B: IoBufMut>(&mut self, buf: B) -> impl Future<Output = BufResult<(), B>> {
        read_to_full(buf, async |rest, _| self.read(rest).await)
    }
}

impl<T: AsyncReadRent + ?Sized> AsyncReadRentExt for T {}

/// Loops over [`AsyncWriteRent::write`].
pub trait AsyncWriteRentExt: AsyncWriteRent {
    /// Writes every initialized byte of `buf`. A write of zero bytes is `WriteZero`.
    fn write_all<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<(), B>> {
        write_to_end(buf, async |rest, _| self.write(rest).await)
    }
}

impl<T: AsyncWriteRent + ?Sized> AsyncWriteRentExt for T {}

/// Writes from several owned buffers at once (writev; sendmsg on sockets).
pub trait AsyncWriteVectoredRent {
    /// Writes once from the buffers' initialized bytes, in order; may write fewer.
    fn writev<B: IoBuf>(&mut self, bufs: Vec<B>) -> impl Future<Output = BufResult<usize, Vec<B>>>;
}

/// Loops over [`AsyncWriteVectoredRent::writev`].
pub trait AsyncWriteVectoredRentExt: AsyncWriteVectoredRent {
    /// Writes every initialized byte of every buffer, in order, resuming a short write in
    /// the middle of whichever buffer it stopped in. A write of zero bytes is `WriteZero`.
    fn write_all_vectored<B: IoBuf>(
        &mut self,
        bufs: Vec<B>,
    ) -> impl Future<Output = BufResult<(), Vec<B>>> {
        async move {
            let mut bufs = bufs;
            // The first buffer with bytes left, and how many of its bytes are written.
            let (mut idx, mut off) = (0, 0);
            loop {
                while idx < bufs.len() && off >= bufs[idx].bytes_init() {
                    idx += 1;
                    off = 0;
                }
                if idx == bufs.len() {
                    return (Ok(()), bufs);
                }
                let rest: Vec<Slice<B>> = bufs
                    .drain(idx..)
                    .enumerate()
                    .map(|(i, b)| {
                        let end = b.bytes_init();
                        b.slice(if i == 0 { off } else { 0 }..end)
                    })
                    .collect();
                let (res, rest) = self.writev(rest).await;
                bufs.extend(rest.into_iter().map(Slice::into_inner));
                match res {
                    Ok(0) => {
                        let msg = "a vectored write took none of the bytes left";
                        return (Err(io::Error::new(io::ErrorKind::WriteZero, msg)), bufs);
                    }
                    Ok(mut n) => {
                        while n > 0 && idx < bufs.len() {
                            let left = bufs[idx].bytes_init() - off;
                            if n >= left {
                                n -= left;
                                idx += 1;
                                off = 0;
                            } else {
                                off += n;
                                n = 0;
                            }
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return (Err(e), bufs),
                }
            }
        }
    }
}

impl<T: AsyncWriteVectoredRent + ?Sized> AsyncWriteVectoredRentExt for T {}
