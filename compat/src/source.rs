//! What the adapter needs from a stream: an owned-buffer read, write and write-side shutdown
//! that outlive the borrow of the stream (the stream is shared through an `Rc`).

use coreloop_fs::File;
use coreloop_net::{OwnedReadHalf, OwnedWriteHalf, TcpStream, UnixStream};
use coreloop_runtime::io::BufResult;
use std::future::Future;
use std::io;
use std::net::Shutdown;
use std::pin::Pin;
use std::rc::Rc;

/// A boxed operation future, stored in the adapter between polls.
pub type OpFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// A stream the adapter can read from.
pub trait ReadSource: 'static {
    /// Reads once, appending to `buf` (which always has spare capacity). `pos` is how many
    /// bytes this adapter has read so far; positioned sources (files) read at their start
    /// offset plus `pos`, streams ignore it.
    fn read_owned(this: Rc<Self>, buf: Vec<u8>, pos: u64) -> OpFuture<BufResult<usize, Vec<u8>>>;
}

/// A stream the adapter can write to.
pub trait WriteSink: 'static {
    /// Writes once from `buf`'s bytes; may write fewer. `pos` is how many bytes this adapter
    /// has written so far (files write at their start offset plus `pos`).
    fn write_owned(this: Rc<Self>, buf: Vec<u8>, pos: u64) -> OpFuture<BufResult<usize, Vec<u8>>>;

    /// Shuts the write side down (sends FIN on a socket; nothing to do for a file).
    fn shutdown_owned(this: Rc<Self>) -> OpFuture<io::Result<()>>;
}

/// Both directions of a stream that has `read`, `write` and `shutdown(how)` taking `&self`.
macro_rules! duplex {
    ($($ty:ty),*) => {$(
        impl ReadSource for $ty {
            fn read_owned(this: Rc<Self>, buf: Vec<u8>, _: u64) -> OpFuture<BufResult<usize, Vec<u8>>> {
                Box::pin(async move { this.read(buf).await })
            }
        }

        impl WriteSink for $ty {
            fn write_owned(this: Rc<Self>, buf: Vec<u8>, _: u64) -> OpFuture<BufResult<usize, Vec<u8>>> {
                Box::pin(async move { this.write(buf).await })
            }

            fn shutdown_owned(this: Rc<Self>) -> OpFuture<io::Result<()>> {
                Box::pin(async move { this.shutdown(Shutdown::Write).await })
            }
        }
    )*};
}

duplex!(TcpStream, UnixStream);

impl ReadSource for OwnedReadHalf {
    fn read_owned(this: Rc<Self>, buf: Vec<u8>, _: u64) -> OpFuture<BufResult<usize, Vec<u8>>> {
        Box::pin(async move { this.read(buf).await })
    }
}

impl WriteSink for OwnedWriteHalf {
    fn write_owned(this: Rc<Self>, buf: Vec<u8>, _: u64) -> OpFuture<BufResult<usize, Vec<u8>>> {
        Box::pin(async move { this.write(buf).await })
    }

    fn shutdown_owned(this: Rc<Self>) -> OpFuture<io::Result<()>> {
        Box::pin(async move { this.shutdown().await })
    }
}

/// A file reads and writes at the position it had when wrapped, plus what the adapter has
/// read (or written) since: the read and write cursors are separate.
impl ReadSource for File {
    fn read_owned(this: Rc<Self>, buf: Vec<u8>, pos: u64) -> OpFuture<BufResult<usize, Vec<u8>>> {
        Box::pin(async move {
            let at = this.position() + pos;
            this.read_at(buf, at).await
        })
    }
}

impl WriteSink for File {
    fn write_owned(this: Rc<Self>, buf: Vec<u8>, pos: u64) -> OpFuture<BufResult<usize, Vec<u8>>> {
        Box::pin(async move {
            let at = this.position() + pos;
            this.write_at(buf, at).await
        })
    }

    fn shutdown_owned(_: Rc<Self>) -> OpFuture<io::Result<()>> {
        Box::pin(async { Ok(()) })
    }
}
