//! `OwnedReadHalf` / `OwnedWriteHalf`: a TCP stream split for two tasks on one core.
//!
//! Both halves share the socket through an `Rc`: the socket closes when the last half drops.
//! Dropping the write half does not shut the connection down; call
//! [`OwnedWriteHalf::shutdown`] to send FIN.

use crate::addr::to_inet;
use crate::socket::Socket;
use coreloop_runtime::buf::{IoBuf, IoBufMut};
use coreloop_runtime::io::{AsyncReadRent, AsyncWriteRent, AsyncWriteVectoredRent, BufResult};
use coreloop_runtime::sys::socket::MSG_PEEK;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;

/// The read half of [`TcpStream::into_split`](super::TcpStream::into_split).
#[derive(Debug)]
pub struct OwnedReadHalf {
    sock: Rc<Socket>,
}

/// The write half of [`TcpStream::into_split`](super::TcpStream::into_split).
#[derive(Debug)]
pub struct OwnedWriteHalf {
    sock: Rc<Socket>,
}

impl OwnedReadHalf {
    pub(crate) fn new(sock: Rc<Socket>) -> OwnedReadHalf {
        OwnedReadHalf { sock }
    }

    /// Reads once into `buf`'s spare capacity; `Ok(0)` is end of stream. See
    /// [`TcpStream::read`](crate::TcpStream::read).
    pub fn read<B: IoBufMut>(&self, buf: B) -> impl Future<Output = BufResult<usize, B>> + use<B> {
        self.sock.recv(buf, 0)
    }

    /// Reads what arrives into a buffer of the core's pool and returns it; **empty at end of
    /// stream**. The buffer is taken only when data arrives (on io_uring the kernel picks it
    /// from a provided-buffer ring for a multishot recv), so an idle connection holds none; it
    /// goes back to the pool when the returned [`PooledBuf`] drops, and it can be written as is
    /// (`stream.write_all(buf)`).
    ///
    /// **Cancel-safe**, on both reactors: data that arrived for a read whose future was dropped
    /// (a `timeout`, a `select`) waits in the stream for the next `read_pooled`, in order. Pool
    /// size and buffer size are [`Builder::buf_pool`](coreloop_runtime::Builder::buf_pool)
    /// settings; a read finding the pool empty waits for a buffer to come back.
    ///
    /// [`PooledBuf`]: coreloop_runtime::PooledBuf
    pub fn read_pooled(
        &self,
    ) -> impl Future<Output = io::Result<coreloop_runtime::PooledBuf>> + '_ {
        self.sock.read_pooled()
    }

    /// Reads once into the spare capacity of several buffers, in order.
    pub fn readv<B: IoBufMut>(
        &self,
        bufs: Vec<B>,
    ) -> impl Future<Output = BufResult<usize, Vec<B>>> + use<B> {
        self.sock.readv(bufs)
    }

    /// Reads into `buf` like [`read`](Self::read) without taking the bytes from the socket
    /// (`MSG_PEEK`).
    pub fn peek<B: IoBufMut>(&self, buf: B) -> impl Future<Output = BufResult<usize, B>> + use<B> {
        self.sock.recv(buf, MSG_PEEK)
    }

    /// The local address of the connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        to_inet(&self.sock.local_addr()?)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        to_inet(&self.sock.peer_addr()?)
    }
}

impl OwnedWriteHalf {
    pub(crate) fn new(sock: Rc<Socket>) -> OwnedWriteHalf {
        OwnedWriteHalf { sock }
    }

    /// Writes once from `buf`'s initialized bytes; may write fewer (use `write_all` to finish).
    pub fn write<B: IoBuf>(&self, buf: B) -> impl Future<Output = BufResult<usize, B>> + use<B> {
        self.sock.send(buf)
    }

    /// Writes once from several buffers, in order; may write fewer than all.
    pub async fn writev<B: IoBuf>(&self, bufs: Vec<B>) -> BufResult<usize, Vec<B>> {
        self.sock.writev(bufs).await
    }

    /// Shuts down the writing side: the peer reads end of stream.
    pub async fn shutdown(&self) -> io::Result<()> {
        self.sock.shutdown(Shutdown::Write).await
    }

    /// The local address of the connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        to_inet(&self.sock.local_addr()?)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        to_inet(&self.sock.peer_addr()?)
    }
}

impl AsyncReadRent for OwnedReadHalf {
    fn read<B: IoBufMut>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        OwnedReadHalf::read(self, buf)
    }
}

impl AsyncWriteRent for OwnedWriteHalf {
    fn write<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        OwnedWriteHalf::write(self, buf)
    }
}

impl AsyncWriteVectoredRent for OwnedWriteHalf {
    fn writev<B: IoBuf>(&mut self, bufs: Vec<B>) -> impl Future<Output = BufResult<usize, Vec<B>>> {
        OwnedWriteHalf::writev(self, bufs)
    }
}
