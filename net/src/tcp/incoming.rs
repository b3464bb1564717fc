//! `Incoming`: a listener's connections as a `futures_core::Stream`.

use super::TcpStream;
use crate::socket::Socket;
use futures_core::Stream;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The stream returned by [`TcpListener::incoming`](super::TcpListener::incoming): each item
/// is one accepted connection (or the error accept gave). It never ends. Connections accepted
/// while no one polls it wait in the listener (see `TcpListener::accept`).
pub struct Incoming<'a> {
    sock: &'a Socket,
}

impl<'a> Incoming<'a> {
    pub(crate) fn new(sock: &'a Socket) -> Incoming<'a> {
        Incoming { sock }
    }
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let res = std::task::ready!(self.sock.poll_accept(cx));
        Poll::Ready(Some(res.map(|(sock, _)| TcpStream::from_socket(sock))))
    }
}
