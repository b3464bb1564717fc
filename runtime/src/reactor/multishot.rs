//! `Multishot<T>`: one io_uring entry, many completions (multishot recv and accept).
//!
//! The handle owns the op (its descriptor) and, while armed, the key its results arrive under.
//! Results queue in the reactor's in-flight table until the handle takes them, in order, so a
//! future that polled the handle and was dropped loses nothing: the next poll gets them. The
//! kernel ends a multishot op on its own (an error, `ENOBUFS` when the buffer ring is empty, a
//! full CQ): the last result says so, and the next poll arms it again.
//!
//! Dropped while armed, the handle hands its op to the reactor, which cancels it, releases each
//! result that still comes (buffers go back to the pool, accepted descriptors are closed) and
//! drops the op with its last completion. Like [`Op`](super::Op), it stays on its core: polled
//! elsewhere while armed it panics; dropped elsewhere, its op is leaked.

use super::in_flight::{MultiPoll, OpKey};
use super::{Reactor, with_current};
use crate::op::OpCode;
use crate::sys::Errno;
use std::marker::PhantomData;
use std::task::{Context, Poll};

/// One result of a multishot op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shot {
    /// The kernel's result.
    pub res: Result<usize, Errno>,
    /// The completion's flags (`IORING_CQE_F_BUFFER` and the buffer id, …).
    pub flags: u32,
    /// The kernel ended the op with this result: the next poll arms it again.
    pub last: bool,
}

/// A multishot op on the current core's ring; see the module docs.
pub struct Multishot<T: OpCode> {
    op: Option<T>,
    armed: Option<(u64, OpKey)>,
    arms: u32,
    _not_send: PhantomData<*const ()>,
}

impl<T: OpCode> Multishot<T> {
    /// A multishot op, armed on its first poll. `T::uring_entry` must build a multishot entry
    /// whose results carry no pointer into the op (multishot recv with buffer select, multishot
    /// accept without an address).
    pub fn new(op: T) -> Multishot<T> {
        Multishot {
            op: Some(op),
            armed: None,
            arms: 0,
            _not_send: PhantomData,
        }
    }

    /// Whether the kernel holds it now.
    pub fn is_armed(&self) -> bool {
        self.armed.is_some()
    }

    /// How many times it was armed (the first time included).
    pub fn arms(&self) -> u32 {
        self.arms
    }

    /// The next result, arming the op first if the kernel does not hold it. Errors from arming
    /// (no io_uring on this core: `EOPNOTSUPP`; a full ring the kernel keeps refusing) come as a
    /// `last` result.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Shot> {
        match with_current(|r| self.poll_next_on(r, cx)) {
            Some(poll) => poll,
            None if self.armed.is_some() => off_core(),
            None => Poll::Ready(Shot {
                res: Err(Errno::EOPNOTSUPP),
                flags: 0,
                last: true,
            }),
        }
    }

    /// As [`poll_next`](Self::poll_next), on the current reactor `r`.
    #[inline]
    pub(crate) fn poll_next_on(&mut self, r: &Reactor, cx: &mut Context<'_>) -> Poll<Shot> {
        if let Some((reactor, key)) = self.armed {
            if r.id() != reactor {
                off_core()
            }
            return match r.poll_multi(key, cx) {
                MultiPoll::Pending => Poll::Pending,
                MultiPoll::Ready { shot, last } => {
                    if last {
                        self.armed = None;
                    }
                    Poll::Ready(Shot {
                        res: shot.0,
                        flags: shot.1,
                        last,
                    })
                }
            };
        }
        let op = self.op.as_mut().expect("a multishot op keeps its data");
        match r.start_multi(op, cx) {
            Ok(key) => {
                self.armed = Some((r.id(), key));
                self.arms = self.arms.saturating_add(1);
                Poll::Pending
            }
            Err(Errno::EINTR) => {
                // Nothing was submitted (an injected fault): try again on the next poll.
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Err(e) => Poll::Ready(Shot {
                res: Err(e),
                flags: 0,
                last: true,
            }),
        }
    }
}

#[cold]
fn off_core() -> ! {
    panic!(
        "coreloop: a multishot operation was polled outside the runtime core that armed it \
         (another thread, another runtime, or none)"
    )
}

impl<T: OpCode> Drop for Multishot<T> {
    fn drop(&mut self) {
        let Some((reactor, key)) = self.armed.take() else {
            return;
        };
        let mut op = Some(Box::new(self.op.take().expect("an armed op has its data")));
        with_current(|r| {
            if r.id() == reactor {
                r.abandon_multi(key, op.take().expect("taken once"));
            }
        });
        // Dropped away from its core: no one can tell when the kernel is done with it.
        std::mem::forget(op);
    }
}

impl<T: OpCode> std::fmt::Debug for Multishot<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Multishot")
            .field("armed", &self.armed.is_some())
            .field("arms", &self.arms)
            .finish()
    }
}
