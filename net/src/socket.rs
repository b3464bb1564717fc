//! `Socket`: the descriptor every socket type wraps, and the ops they share.
//!
//! Each public type (TCP, UDP, Unix) is a thin shell over this one: an op is started here
//! once, whatever the family, and both reactors run it.

use coreloop_runtime::buf::{IoBuf, IoBufMut};
use coreloop_runtime::io::BufResult;
use coreloop_runtime::op::connect::Connect;
use coreloop_runtime::op::readv::Readv;
use coreloop_runtime::op::recv::Recv;
use coreloop_runtime::op::recvmsg::{Received, RecvMsg};
use coreloop_runtime::op::send::Send;
use coreloop_runtime::op::sendmsg::SendMsg;
use coreloop_runtime::op::shutdown::Shutdown;
use coreloop_runtime::op::{Position, SharedFd};
use coreloop_runtime::reactor::{Acceptor, Op, PooledRead, ReadPooled};
use coreloop_runtime::sys::OwnedFd;
use coreloop_runtime::sys::io::{
    self as sys_io, O_NONBLOCK,
    fcntl_cmd::{F_GETFL, F_SETFL},
};
use coreloop_runtime::sys::socket::{self as sys, SockAddr, SockOptValue};
use std::cell::OnceCell;
use std::io;
use std::os::fd::{AsRawFd, RawFd};

#[derive(Debug)]
pub(crate) struct Socket {
    fd: SharedFd,
    /// Pooled reads: what arrived for a dropped read waits here for the next one.
    reads: PooledRead,
    /// A listener's accepts: a connection accepted for a dropped `accept()` waits here. Made by
    /// the first accept (a stream never has one: every connection's bytes count).
    accepts: OnceCell<Box<Acceptor>>,
}

impl Socket {
    /// A new socket, close-on-exec and non-blocking.
    pub(crate) fn new(domain: u16, ty: u32) -> io::Result<Socket> {
        Ok(Socket::from_owned(sys::socket(domain, ty, 0)?))
    }

    /// A connected pair (Unix domain).
    pub(crate) fn pair(ty: u32) -> io::Result<(Socket, Socket)> {
        let (a, b) = sys::socketpair(sys::AF_UNIX, ty, 0)?;
        Ok((Socket::from_owned(a), Socket::from_owned(b)))
    }

    pub(crate) fn from_owned(fd: OwnedFd) -> Socket {
        Socket {
            fd: SharedFd::new(fd),
            reads: PooledRead::new(),
            accepts: OnceCell::new(),
        }
    }

    /// Takes a std descriptor, making it non-blocking (ops never wait in a syscall).
    pub(crate) fn from_std(fd: std::os::fd::OwnedFd) -> io::Result<Socket> {
        let sock = Socket::from_owned(fd.into());
        let flags = sys_io::fcntl(sock.raw(), F_GETFL, 0)?;
        sys_io::fcntl(sock.raw(), F_SETFL, flags | O_NONBLOCK as usize)?;
        Ok(sock)
    }

    /// Gives the descriptor back as std's, still non-blocking, and out of this core's epoll
    /// set (it wakes this core no more); see `SharedFd::detach` for a descriptor that a
    /// dropped op still holds.
    pub(crate) fn into_std(self) -> io::Result<std::os::fd::OwnedFd> {
        let Socket { fd, reads, accepts } = self;
        // Cancel what they keep armed first (their ops then hold the descriptor only until the
        // kernel's last completion; `detach` hands out a duplicate if one still does).
        drop((reads, accepts));
        fd.detach().map(Into::into)
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.fd.raw()
    }

    /// Binds; an address in use (or not available here) is an error that names it, with the
    /// same `ErrorKind`.
    pub(crate) fn bind(&self, addr: &SockAddr) -> io::Result<()> {
        sys::bind(self.raw(), addr).map_err(|e| {
            let e = io::Error::from(e);
            match e.kind() {
                io::ErrorKind::AddrInUse | io::ErrorKind::AddrNotAvailable => {
                    crate::addr::naming(e, "binding", &crate::addr::show(addr))
                }
                _ => e,
            }
        })
    }

    pub(crate) fn listen(&self, backlog: u32) -> io::Result<()> {
        Ok(sys::listen(
            self.raw(),
            backlog.min(i32::MAX as u32) as i32,
        )?)
    }

    /// Accepts a connection. Cancel-safe: a connection accepted for a dropped call waits in
    /// the listener for the next one (on io_uring one multishot accept stays armed).
    pub(crate) async fn accept(&self) -> io::Result<(Socket, SockAddr)> {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    pub(crate) fn poll_accept(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<(Socket, SockAddr)>> {
        self.accepts
            .get_or_init(|| Box::new(Acceptor::new()))
            .poll_accept(&self.fd, cx)
            .map_ok(|(fd, addr)| (Socket::from_owned(fd), addr))
    }

    pub(crate) async fn connect(&self, addr: SockAddr) -> io::Result<()> {
        Op::new(Connect::new(&self.fd, addr)).await
    }

    /// Reads (appends) once; `Ok(0)` is end of stream.
    pub(crate) fn recv<B: IoBufMut>(&self, buf: B, flags: u32) -> Op<Recv<B>> {
        Op::new(Recv::new(&self.fd, buf, flags))
    }

    /// Receives one datagram (a short receive never clears readiness).
    pub(crate) fn recv_datagram<B: IoBufMut>(&self, buf: B) -> Op<Recv<B>> {
        Op::new(Recv::new(&self.fd, buf, 0).datagram())
    }

    /// Reads what arrives into a buffer of the core's pool; empty at end of stream.
    pub(crate) fn read_pooled(&self) -> ReadPooled<'_> {
        self.reads.read(&self.fd)
    }

    pub(crate) fn send<B: IoBuf>(&self, buf: B) -> Op<Send<B>> {
        Op::new(Send::new(&self.fd, buf, 0))
    }

    pub(crate) fn readv<B: IoBufMut>(&self, bufs: Vec<B>) -> Op<Readv<B>> {
        Op::new(Readv::new(&self.fd, bufs, Position::Stream))
    }

    /// sendmsg, so a peer that went away is `EPIPE`, never `SIGPIPE`.
    pub(crate) async fn writev<B: IoBuf>(&self, bufs: Vec<B>) -> BufResult<usize, Vec<B>> {
        self.sendmsg(bufs, None, Vec::new()).await
    }

    pub(crate) async fn sendmsg<B: IoBuf>(
        &self,
        bufs: Vec<B>,
        addr: Option<SockAddr>,
        control: Vec<u8>,
    ) -> BufResult<usize, Vec<B>> {
        Op::new(SendMsg::new(&self.fd, bufs, addr, control, 0)).await
    }

    pub(crate) async fn recvmsg<B: IoBufMut>(
        &self,
        bufs: Vec<B>,
        control_len: usize,
    ) -> (io::Result<(usize, Received)>, Vec<B>) {
        Op::new(RecvMsg::new(&self.fd, bufs, control_len, 0)).await
    }

    /// Sends one buffer to `addr`.
    pub(crate) async fn send_to<B: IoBuf>(&self, buf: B, addr: SockAddr) -> BufResult<usize, B> {
        let (res, mut bufs) = self.sendmsg(vec![buf], Some(addr), Vec::new()).await;
        (res, bufs.pop().expect("sendmsg gives its buffers back"))
    }

    /// Receives one datagram and its sender's address.
    pub(crate) async fn recv_from<B: IoBufMut>(&self, buf: B) -> BufResult<(usize, SockAddr), B> {
        let (res, mut bufs) = self.recvmsg(vec![buf], 0).await;
        let buf = bufs.pop().expect("recvmsg gives its buffers back");
        (res.map(|(n, r)| (n, r.addr)), buf)
    }

    pub(crate) async fn shutdown(&self, how: std::net::Shutdown) -> io::Result<()> {
        let how = match how {
            std::net::Shutdown::Read => sys::SHUT_RD,
            std::net::Shutdown::Write => sys::SHUT_WR,
            std::net::Shutdown::Both => sys::SHUT_RDWR,
        };
        Op::new(Shutdown::new(&self.fd, how)).await
    }

    pub(crate) fn local_addr(&self) -> io::Result<SockAddr> {
        Ok(sys::getsockname(self.raw())?)
    }

    pub(crate) fn peer_addr(&self) -> io::Result<SockAddr> {
        Ok(sys::getpeername(self.raw())?)
    }

    pub(crate) fn set_opt<T: SockOptValue>(&self, level: u32, name: u32, v: T) -> io::Result<()> {
        Ok(sys::setsockopt(self.raw(), level, name, &v)?)
    }

    pub(crate) fn opt<T: SockOptValue>(&self, level: u32, name: u32) -> io::Result<T> {
        Ok(sys::getsockopt(self.raw(), level, name)?)
    }

    pub(crate) fn set_flag(&self, level: u32, name: u32, on: bool) -> io::Result<()> {
        self.set_opt(level, name, on as i32)
    }

    pub(crate) fn flag(&self, level: u32, name: u32) -> io::Result<bool> {
        Ok(self.opt::<i32>(level, name)? != 0)
    }

    /// The pending error (`SO_ERROR`), cleared by reading it.
    pub(crate) fn take_error(&self) -> io::Result<Option<io::Error>> {
        Ok(sys::take_socket_error(self.raw())?.map(io::Error::from))
    }
}

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.raw()
    }
}
