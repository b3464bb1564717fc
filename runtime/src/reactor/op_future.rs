//! `Op<T>`: the future of one operation on the current core's reactor.
//!
//! Laid out for the per-message path: the op sits in one field that never moves while the
//! future lives (`data`), and a small tag (`flight`) says whether the kernel or the pool
//! holds it. Starting an op, parking its waker and submitting it to the ring move nothing;
//! the op is moved once, into `finish`, when it resolves.

use super::in_flight::{OpKey, Orphan, PooledOrphan};
use super::{Reactor, Started, with_current};
use crate::op::OpCode;
use crate::sys::Errno;
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};
use std::time::Instant;

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
    /// The op, inline, until it resolves (`None` after, or while a pool thread holds it
    /// through `pooled`). Dropped by hand in `Drop`, only when there is one (a finished op,
    /// the common case, then costs no drop call).
    data: std::mem::ManuallyDrop<Option<T>>,
    /// The op while the blocking pool runs it: from `Box::into_raw`, so no `Box` (whose
    /// uniqueness the pool's `&mut` would break) exists until its completion.
    pooled: Option<NonNull<T>>,
    /// The reactor and key it is in flight under, once the kernel or the pool holds it.
    flight: Option<(u64, OpKey)>,
    /// When it started, if the reactor records per-op latency.
    since: Option<Instant>,
    _not_send: PhantomData<*const ()>,
}

impl<T: OpCode> Op<T> {
    /// An op, not yet started: it starts when first polled.
    pub fn new(op: T) -> Op<T> {
        Op {
            data: std::mem::ManuallyDrop::new(Some(op)),
            pooled: None,
            flight: None,
            since: None,
            _not_send: PhantomData,
        }
    }

    /// The op's output from `res`; the op is moved here, once.
    #[inline]
    fn finish(&mut self, r: Option<&Reactor>, res: io::Result<usize>) -> T::Output {
        self.flight = None;
        if let (Some(r), Some(since)) = (r, self.since.take()) {
            r.record_latency(T::NAME, since);
        }
        if let Some(p) = self.pooled.take() {
            // SAFETY: from Box::into_raw, and the pool's completion has been taken (the
            // caller got `res` from the reactor), so the pool thread is done with it.
            return unsafe { Box::from_raw(p.as_ptr()) }.finish(res);
        }
        self.data
            .take()
            .expect("coreloop: Op polled after it completed")
            .finish(res)
    }

    #[inline]
    fn start(&mut self, r: &Reactor, cx: &mut Context<'_>) -> Poll<T::Output> {
        if r.latency_on() && self.since.is_none() {
            self.since = Some(Instant::now());
        }
        let op = self.data.as_mut().expect("an idle op has its data");
        match r.start(op, cx) {
            Started::Done(Err(Errno::EINTR)) if T::RETRY_EINTR => self.interrupted(r, cx),
            Started::Done(res) => Poll::Ready(self.finish(Some(r), res.map_err(io::Error::from))),
            Started::Waiting => Poll::Pending,
            Started::OnRing(key) => {
                self.flight = Some((r.id(), key));
                Poll::Pending
            }
            Started::ToPool => self.start_on_pool(r, cx),
        }
    }

    /// EINTR means nothing happened: make it again, a few times, then let the task yield.
    #[cold]
    fn interrupted(&mut self, r: &Reactor, cx: &mut Context<'_>) -> Poll<T::Output> {
        for _ in 0..8 {
            let op = self.data.as_mut().expect("an idle op has its data");
            match r.start(op, cx) {
                Started::Done(Err(Errno::EINTR)) => continue,
                Started::Done(res) => {
                    return Poll::Ready(self.finish(Some(r), res.map_err(io::Error::from)));
                }
                Started::Waiting => return Poll::Pending,
                Started::OnRing(key) => {
                    self.flight = Some((r.id(), key));
                    return Poll::Pending;
                }
                Started::ToPool => return self.start_on_pool(r, cx),
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    #[cold]
    fn start_on_pool(&mut self, r: &Reactor, cx: &mut Context<'_>) -> Poll<T::Output> {
        let op = self.data.take().expect("an idle op has its data");
        let ptr = NonNull::from(Box::leak(Box::new(op)));
        // SAFETY: ptr comes from Box::into_raw (leak) and is touched again only in `finish`
        // or as a `PooledOrphan`, both after its completion.
        match unsafe { r.start_on_pool(ptr, cx) } {
            Ok(key) => {
                self.pooled = Some(ptr);
                self.flight = Some((r.id(), key));
                Poll::Pending
            }
            Err(e) => {
                // The pool never saw it: it is ours again.
                // SAFETY: from Box::leak above, and no pool thread has it.
                let op = unsafe { Box::from_raw(ptr.as_ptr()) };
                self.since = None;
                Poll::Ready(op.finish(Err(e)))
            }
        }
    }

    /// A completion with `EINTR` on the ring: nothing happened, so the op goes back to idle
    /// and is submitted again.
    #[cold]
    fn resubmit(&mut self, cx: &mut Context<'_>) -> Poll<T::Output> {
        self.flight = None;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl<T: OpCode> Unpin for Op<T> {}

impl<T: OpCode> Future for Op<T> {
    type Output = T::Output;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T::Output> {
        let this = &mut *self;
        if let Some((reactor, key)) = this.flight {
            let polled = with_current(|r| {
                if r.id() != reactor {
                    return None;
                }
                Some(match r.poll_op(key, cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(Err(Errno::EINTR)) if T::RETRY_EINTR && this.pooled.is_none() => {
                        this.resubmit(cx)
                    }
                    Poll::Ready(res) => {
                        Poll::Ready(this.finish(Some(r), res.map_err(io::Error::from)))
                    }
                })
            });
            return match polled {
                Some(Some(poll)) => poll,
                _ => panic!(
                    "coreloop: an operation in flight was polled outside the runtime core \
                     that started it (another thread, another runtime, or none); an op stays \
                     on its core until the kernel is done with it"
                ),
            };
        }
        let Some(op) = this.data.as_ref() else {
            panic!("coreloop: Op polled after it completed")
        };
        if let Some(e) = op.refusal() {
            return Poll::Ready(this.finish(None, Err(e)));
        }
        let started = with_current(|r| {
            if !r.spend_budget() {
                // This task has started its share of ops for one poll: let the rest of the
                // core run, then come back.
                return r.budget_yield(cx);
            }
            this.start(r, cx)
        });
        match started {
            Some(poll) => poll,
            None => Poll::Ready(this.finish(None, Err(no_runtime_error()))),
        }
    }
}

impl<T: OpCode> Drop for Op<T> {
    #[inline]
    fn drop(&mut self) {
        if let Some((reactor, key)) = self.flight.take() {
            self.abandon(reactor, key);
        }
        if self.data.is_some() {
            // SAFETY: `data` is dropped here once, and never used after.
            unsafe { std::mem::ManuallyDrop::drop(&mut self.data) };
        }
    }
}

impl<T: OpCode> Op<T> {
    /// The future was dropped while the kernel or the pool holds the op.
    #[cold]
    fn abandon(&mut self, reactor: u64, key: OpKey) {
        // Moving an inline op into a box is safe while the kernel holds its entry: the entry
        // points only into heap memory the op owns (the `OpCode` contract).
        let orphan: Box<dyn Orphan> = match self.pooled.take() {
            Some(p) => Box::new(PooledOrphan(p)),
            None => Box::new(self.data.take().expect("an op in flight has its data")),
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
