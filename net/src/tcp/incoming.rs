//! `Incoming`: a listener's connections as a `futures_core::Stream`.

use super::TcpStream;
use crate::socket::Socket;
use coreloop_runtime::op::accept::Accept;
use coreloop_runtime::reactor::Op;
use futures_core::Stream;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The stream returned by [`TcpListener::incoming`](super::TcpListener::incoming): each item
/// is one accepted connection (or the error accept gave). It never ends.
pub struct Incoming<'a> {
    sock: &'a Socket,
    /// The accept in progress, kept across polls.
    op: Option<Op<Accept>>,
}

impl<'a> Incoming<'a> {
    pub(crate) fn new(sock: &'a Socket) -> Incoming<'a> {
        Incoming { sock, op: None }
    }
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let sock = self.sock;
        let op = self
            .op
            .get_or_insert_with(|| Op::new(Accept::new(sock.fd())));
        let res = std::task::ready!(Pin::new(op).poll(cx));
        self.op = None;
        Poll::Ready(Some(
            res.map(|(fd, _)| TcpStream::from_socket(Socket::from_owned(fd))),
        ))
    }
}
