//! `Op<T>`: the future of one operation on the current core's reactor.

use super::in_flight::{OpKey, Orphan, PooledOrphan};
use super::{Reactor, Started, budget, with_current};
use crate::op::OpCode;
use crate::sys::Errno;
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

/// The future of one operation: submits it to the current core's reactor and resolves to
/// [`OpCode::Output`] (`Op::new(Recv::new(&fd, buf, 0)).await` is the whole call).
///
/// `!Send`: an op in flight belongs to the reactor that started it. Polled on any other
/// thread or runtime, or with no runtime, while the kernel holds it, it panics rather than
/// hand back memory the kernel may still write; dropped there, its data is leaked rather
/// than freed.
///
/// # Examples
///
/// ```
/// use coreloop_runtime::Runtime;
/// use coreloop_runtime::op::{Position, SharedFd, read::Read, write::Write};
/// use coreloop_runtime::reactor::Op;
/// use coreloop_runtime::sys::io::pipe;
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let (r, w) = pipe(true)?;
///     let (r, w) = (SharedFd::new(r), SharedFd::new(w));
///     // Each op takes its buffer and a clone of the descriptor, and hands the buffer back.
///     let (res, _) = Op::new(Write::new(&w, b"ping".to_vec(), Position::Stream)).await;
///     assert_eq!(res?, 4);
///     let (res, buf) = Op::new(Read::new(&r, Vec::with_capacity(16), Position::Stream)).await;
///     assert_eq!(res?, 4);
///     assert_eq!(buf, b"ping");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Op<T: OpCode> {
    state: State<T>,
    _not_send: PhantomData<*const ()>,
}

enum State<T> {
    /// Not submitted (or waiting for readiness, which holds nothing in the kernel).
    Idle(T),
    /// Held by the kernel or the pool under `key`, on the reactor `reactor`.
    InFlight {
        reactor: u64,
        key: OpKey,
        data: Held<T>,
    },
    Done,
}

/// Where an op in flight lives.
enum Held<T> {
    /// Inline in the future: the ring points only at heap memory the op owns (see
    /// [`OpCode`]), so the op may move.
    Inline(T),
    /// From `Box::into_raw`: a pool thread uses it through this pointer, so no `Box` (whose
    /// uniqueness the pool's `&mut` would break) exists until its completion.
    Pooled(NonNull<T>),
}

impl<T: OpCode> Op<T> {
    /// An op, not yet started: it starts when first polled.
    pub fn new(op: T) -> Op<T> {
        Op {
            state: State::Idle(op),
            _not_send: PhantomData,
        }
    }

    fn finish(&mut self, res: io::Result<usize>) -> T::Output {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Idle(op) => op.finish(res),
            State::InFlight { data, .. } => match data {
                Held::Inline(op) => op.finish(res),
                // SAFETY: from Box::into_raw, and the pool's completion has been taken (the
                // caller got `res` from the reactor), so the pool thread is done with it.
                Held::Pooled(p) => unsafe { Box::from_raw(p.as_ptr()) }.finish(res),
            },
            State::Done => unreachable!("finish is called once"),
        }
    }

    fn start(&mut self, r: &Reactor, cx: &mut Context<'_>) -> Poll<T::Output> {
        let State::Idle(op) = &mut self.state else {
            unreachable!("only an idle op starts")
        };
        let mut started = r.start(op, cx);
        // EINTR means nothing happened: make it again (a few times, then let the task yield).
        let mut tries = 0;
        while T::RETRY_EINTR && matches!(started, Started::Done(Err(Errno::EINTR))) && tries < 8 {
            tries += 1;
            started = r.start(op, cx);
        }
        match started {
            Started::Done(Err(Errno::EINTR)) if T::RETRY_EINTR => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Started::Done(res) => Poll::Ready(self.finish(res.map_err(io::Error::from))),
            Started::Waiting => Poll::Pending,
            Started::OnRing(key) => {
                let State::Idle(op) = std::mem::replace(&mut self.state, State::Done) else {
                    unreachable!("checked above")
                };
                self.state = State::InFlight {
                    reactor: r.id(),
                    key,
                    data: Held::Inline(op),
                };
                Poll::Pending
            }
            Started::ToPool => {
                let State::Idle(op) = std::mem::replace(&mut self.state, State::Done) else {
                    unreachable!("checked above")
                };
                let ptr = NonNull::from(Box::leak(Box::new(op)));
                // SAFETY: ptr comes from Box::into_raw (leak) and is touched again only in
                // `finish` or as a `PooledOrphan`, both after its completion.
                match unsafe { r.start_on_pool(ptr, cx) } {
                    Ok(key) => {
                        self.state = State::InFlight {
                            reactor: r.id(),
                            key,
                            data: Held::Pooled(ptr),
                        };
                        Poll::Pending
                    }
                    Err(e) => {
                        // The pool never saw it: it is ours again.
                        // SAFETY: from Box::leak above, and no pool thread has it.
                        let op = unsafe { Box::from_raw(ptr.as_ptr()) };
                        Poll::Ready(op.finish(Err(e)))
                    }
                }
            }
        }
    }
}

impl<T: OpCode> Unpin for Op<T> {}

impl<T: OpCode> Future for Op<T> {
    type Output = T::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T::Output> {
        let this = &mut *self;
        match &this.state {
            State::Idle(op) => {
                if let Some(e) = op.refusal() {
                    return Poll::Ready(this.finish(Err(e)));
                }
                let started = with_current(|r| {
                    if !budget() {
                        // This task has completed its share of ops for one poll: let the rest
                        // of the core run, then come back.
                        r.count_budget_yield();
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                    this.start(r, cx)
                });
                match started {
                    Some(poll) => poll,
                    None => Poll::Ready(this.finish(Err(no_runtime_error()))),
                }
            }
            State::InFlight { reactor, key, .. } => {
                let (reactor, key) = (*reactor, *key);
                let polled = with_current(|r| (r.id() == reactor).then(|| r.poll_op(key, cx)));
                match polled {
                    Some(Some(Poll::Pending)) => Poll::Pending,
                    Some(Some(Poll::Ready(Err(Errno::EINTR))))
                        if T::RETRY_EINTR
                            && matches!(
                                this.state,
                                State::InFlight {
                                    data: Held::Inline(_),
                                    ..
                                }
                            ) =>
                    {
                        // Interrupted on the ring: nothing happened. Submit it again.
                        let State::InFlight {
                            data: Held::Inline(op),
                            ..
                        } = std::mem::replace(&mut this.state, State::Done)
                        else {
                            unreachable!("matched above")
                        };
                        this.state = State::Idle(op);
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    }
                    Some(Some(Poll::Ready(res))) => {
                        budget();
                        Poll::Ready(this.finish(res.map_err(io::Error::from)))
                    }
                    _ => panic!(
                        "coreloop: an operation in flight was polled outside the runtime core \
                         that started it (another thread, another runtime, or none); an op \
                         stays on its core until the kernel is done with it"
                    ),
                }
            }
            State::Done => panic!("coreloop: Op polled after it completed"),
        }
    }
}

impl<T: OpCode> Drop for Op<T> {
    fn drop(&mut self) {
        let State::InFlight { reactor, key, data } =
            std::mem::replace(&mut self.state, State::Done)
        else {
            return;
        };
        // Moving an inline op into a box is safe while the kernel holds its entry: the entry
        // points only into heap memory the op owns (the `OpCode` contract).
        let orphan: Box<dyn Orphan> = match data {
            Held::Inline(op) => Box::new(op),
            Held::Pooled(p) => Box::new(PooledOrphan(p)),
        };
        let mut orphan = Some(orphan);
        with_current(|r| {
            if r.id() == reactor {
                r.abandon(key, orphan.take().expect("taken once"));
            }
        });
        if let Some(o) = orphan {
            // The reactor this op was in flight on is not here (dropped on another thread,
            // or after its runtime): no one can tell when the kernel is done with its memory,
            // so leaking it is the only safe choice.
            std::mem::forget(o);
        }
    }
}

/// The error of an op started with no coreloop runtime on the thread.
pub(crate) fn no_runtime_error() -> io::Error {
    io::Error::other(
        "coreloop: this needs a coreloop runtime running on this thread (Runtime::block_on)",
    )
}
