//! A shutdown signal that every core can wait on: set once, from any thread, and every task
//! waiting on it wakes (its waker routes the wake to its own core).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

/// The signal: set once by [`Shutdown::trigger`], awaited with [`Shutdown::wait`].
#[derive(Default)]
pub struct Shutdown {
    set: AtomicBool,
    next: AtomicU64,
    waiters: Mutex<HashMap<u64, Waker>>,
}

impl Shutdown {
    /// A signal not set yet.
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Sets the signal and wakes every waiter.
    pub fn trigger(&self) {
        self.set.store(true, Ordering::Release);
        let waiters = std::mem::take(&mut *self.waiters.lock().unwrap_or_else(|e| e.into_inner()));
        for (_, w) in waiters {
            w.wake();
        }
    }

    /// Whether the signal is set.
    pub fn is_set(&self) -> bool {
        self.set.load(Ordering::Acquire)
    }

    /// Resolves once the signal is set.
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            shutdown: self,
            key: None,
            registered: None,
        }
    }
}

/// The future of [`Shutdown::wait`]; dropping it unregisters its waker. Polling it again with
/// the same waker costs one atomic load: a connection keeps one `Wait` for its whole life and
/// races it against every read.
pub struct Wait<'a> {
    shutdown: &'a Shutdown,
    key: Option<u64>,
    registered: Option<Waker>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.shutdown.is_set() {
            return Poll::Ready(());
        }
        if self
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            return Poll::Pending;
        }
        let shutdown = self.shutdown;
        let key = *self
            .key
            .get_or_insert_with(|| shutdown.next.fetch_add(1, Ordering::Relaxed));
        let mut waiters = self
            .shutdown
            .waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Checked again under the lock: a trigger between the first check and here has
        // already emptied the map and would never wake us.
        if self.shutdown.is_set() {
            return Poll::Ready(());
        }
        waiters.insert(key, cx.waker().clone());
        drop(waiters);
        self.registered = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.shutdown
                .waiters
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&key);
        }
    }
}

/// Which of two futures finished first.
pub enum Either<A, B> {
    /// The first future finished.
    Left(A),
    /// The second future finished.
    Right(B),
}

pin_project_lite::pin_project! {
    /// The future of [`select`]: both futures live in it, pinned where they were put, so a
    /// select costs no move of either beyond the one into it.
    pub struct Select<A, B> {
        #[pin]
        a: A,
        #[pin]
        b: B,
    }
}

/// Polls `a` then `b` until one is ready; the other is dropped.
pub fn select<A: Future, B: Future>(a: A, b: B) -> Select<A, B> {
    Select { a, b }
}

impl<A: Future, B: Future> Future for Select<A, B> {
    type Output = Either<A::Output, B::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(v) = this.a.poll(cx) {
            return Poll::Ready(Either::Left(v));
        }
        if let Poll::Ready(v) = this.b.poll(cx) {
            return Poll::Ready(Either::Right(v));
        }
        Poll::Pending
    }
}
