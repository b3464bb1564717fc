//! `Acceptor`: a listener's accepts, cancel-safe on both reactors.
//!
//! On io_uring one multishot accept (`IORING_ACCEPT_MULTISHOT`) stays armed and queues each
//! connection the kernel accepts, armed again when the kernel ends it (after an error such as
//! `EMFILE`, which is returned, so the caller can back off and accept again); on epoll an
//! accept waits for readiness. Either way what was accepted belongs to the listener, not to the
//! accept future: a dropped `accept()` loses no connection, and the next one gets it. When the
//! listener drops, connections accepted for it that no one took are closed.

use super::multishot::Multishot;
use super::{Op, ReactorKind, with_current};
use crate::op::SharedFd;
use crate::op::accept::{Accept, AcceptMulti};
use crate::sys::socket::{self, SockAddr};
use crate::sys::{Errno, OwnedFd};
use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A listener's accepts; see the module docs.
#[derive(Debug, Default)]
pub struct Acceptor {
    state: RefCell<AcceptState>,
}

#[derive(Default)]
enum AcceptState {
    #[default]
    Idle,
    Multi(Multishot<AcceptMulti>),
    /// Epoll, or a kernel without multishot accept (boxed: listeners are few, streams many).
    Single(Box<Op<Accept>>),
}

impl std::fmt::Debug for AcceptState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AcceptState::Idle => "Idle",
            AcceptState::Multi(_) => "Multishot",
            AcceptState::Single(_) => "Single",
        })
    }
}

impl Acceptor {
    /// A listener's accept state, with nothing in flight.
    pub fn new() -> Acceptor {
        Acceptor::default()
    }

    /// Accepts the next connection on the listening socket `fd`: its descriptor (close-on-exec,
    /// non-blocking) and the peer's address.
    pub async fn accept(&self, fd: &SharedFd) -> io::Result<(OwnedFd, SockAddr)> {
        std::future::poll_fn(|cx| self.poll_accept(fd, cx)).await
    }

    /// Polls for the next connection on `fd` (always the same listener for one `Acceptor`).
    pub fn poll_accept(
        &self,
        fd: &SharedFd,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(OwnedFd, SockAddr)>> {
        let Ok(mut state) = self.state.try_borrow_mut() else {
            return Poll::Ready(Err(io::Error::other(
                "coreloop: an accept was polled from inside another on the same listener",
            )));
        };
        loop {
            match &mut *state {
                AcceptState::Idle => {
                    let uring = with_current(|r| r.kind() == ReactorKind::Uring).unwrap_or(false);
                    *state = if uring {
                        AcceptState::Multi(Multishot::new(AcceptMulti::new(fd)))
                    } else {
                        AcceptState::Single(Box::new(Op::new(Accept::new(fd))))
                    };
                }
                AcceptState::Multi(m) => {
                    let shot = std::task::ready!(m.poll_next(cx));
                    match shot.res {
                        Ok(raw) => {
                            // SAFETY: a successful accept's result is a new descriptor that only
                            // this listener's owner has seen.
                            let conn = unsafe { OwnedFd::from_raw(raw as i32) };
                            // The peer's address: the kernel writes none for a multishot accept.
                            // A peer that already went away (ENOTCONN) leaves nothing to serve:
                            // that connection is closed and the next one taken.
                            let Ok(addr) = socket::getpeername(conn.raw()) else {
                                continue;
                            };
                            return Poll::Ready(Ok((conn, addr)));
                        }
                        // A kernel without multishot accept (before 5.19): plain accepts.
                        Err(Errno::EINVAL) if m.arms() == 1 && shot.last => {
                            *state = AcceptState::Single(Box::new(Op::new(Accept::new(fd))));
                        }
                        Err(e) => {
                            if shot.last {
                                // Armed again on the next accept.
                                *state = AcceptState::Idle;
                            }
                            return Poll::Ready(Err(e.into()));
                        }
                    }
                }
                AcceptState::Single(op) => {
                    let res = std::task::ready!(Pin::new(&mut **op).poll(cx));
                    *state = AcceptState::Idle;
                    return Poll::Ready(res);
                }
            }
        }
    }
}
