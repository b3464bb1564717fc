//! `JoinHandle`: the output of a task, its panic, or its cancellation.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// Why a task has no output.
pub enum JoinError {
    /// It was aborted, or its runtime shut down before it finished.
    Cancelled,
    /// It panicked; the payload is kept.
    Panicked(Box<dyn Any + Send + 'static>),
}

impl JoinError {
    /// True if the task was cancelled (its handle's `abort`, or its runtime shut down) before it
    /// finished.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, JoinError::Cancelled)
    }

    /// True if the task panicked; [`into_panic`](JoinError::into_panic) gives the payload.
    pub fn is_panic(&self) -> bool {
        matches!(self, JoinError::Panicked(_))
    }

    /// The panic's payload, to resume it with `std::panic::resume_unwind`.
    pub fn into_panic(self) -> Option<Box<dyn Any + Send + 'static>> {
        match self {
            JoinError::Panicked(p) => Some(p),
            JoinError::Cancelled => None,
        }
    }

    /// The panic message, if the payload was a string.
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            JoinError::Panicked(p) => p
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(|s| s.as_str())),
            JoinError::Cancelled => None,
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Cancelled => f.write_str("Cancelled"),
            JoinError::Panicked(_) => {
                write!(f, "Panicked({:?})", self.panic_message().unwrap_or(".."))
            }
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Cancelled => f.write_str("task was cancelled"),
            JoinError::Panicked(_) => {
                write!(
                    f,
                    "task panicked: {}",
                    self.panic_message().unwrap_or("(non-string payload)")
                )
            }
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(e: JoinError) -> std::io::Error {
        std::io::Error::other(e.to_string())
    }
}

struct State<T> {
    result: Option<Result<T, JoinError>>,
    waker: Option<Waker>,
    done: bool,
}

pub(crate) struct JoinInner<T> {
    state: Mutex<State<T>>,
}

impl<T> JoinInner<T> {
    pub(crate) fn new() -> Arc<JoinInner<T>> {
        Arc::new(JoinInner {
            state: Mutex::new(State {
                result: None,
                waker: None,
                done: false,
            }),
        })
    }

    pub(crate) fn finish(&self, result: Result<T, JoinError>) {
        let waker = {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if s.done {
                return;
            }
            s.done = true;
            s.result = Some(result);
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// A handle to a spawned task: a future of its output. Dropping it detaches the task.
///
/// # Examples
///
/// ```
/// use coreloop_runtime::time::sleep;
/// use coreloop_runtime::{Runtime, spawn};
/// use std::time::Duration;
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let quick = spawn(async { "done" });
///     assert_eq!(quick.await.unwrap(), "done");
///
///     let slow = spawn(async {
///         sleep(Duration::from_secs(60)).await;
///         "never"
///     });
///     slow.abort();
///     assert!(slow.await.unwrap_err().is_cancelled());
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct JoinHandle<T> {
    inner: Arc<JoinInner<T>>,
    task: Option<Waker>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(inner: Arc<JoinInner<T>>, task: Option<Waker>) -> JoinHandle<T> {
        JoinHandle { inner, task }
    }

    /// Stops the task at its next scheduling point; the handle then resolves to
    /// `Err(JoinError::Cancelled)` unless the task had already finished. Blocking work
    /// (`spawn_blocking`) cannot be stopped once it started.
    pub fn abort(&self) {
        if let Some(w) = &self.task {
            super::task::abort(w);
        }
    }

    /// True once the task has finished (returned, panicked or was cancelled); awaiting the handle
    /// then does not wait.
    pub fn is_finished(&self) -> bool {
        self.inner
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .done
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = s.result.take() {
            return Poll::Ready(r);
        }
        assert!(!s.done, "JoinHandle polled after it returned its result");
        if !s.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            s.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

pin_project_lite::pin_project! {
    /// The future a task runs: the user's future, with abort checks and panics caught.
    pub(crate) struct TaskFuture<F: Future> {
        #[pin]
        fut: F,
        join: Arc<JoinInner<F::Output>>,
        done: bool,
    }

    impl<F: Future> PinnedDrop for TaskFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            // Dropped before finishing: aborted, or its runtime shut down.
            if !this.done {
                this.join.finish(Err(JoinError::Cancelled));
            }
        }
    }
}

impl<F: Future> TaskFuture<F> {
    pub(crate) fn new(fut: F, join: Arc<JoinInner<F::Output>>) -> TaskFuture<F> {
        TaskFuture {
            fut,
            join,
            done: false,
        }
    }
}

impl<F: Future> Future for TaskFuture<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(());
        }
        let fut = this.fut;
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => {
                *this.done = true;
                this.join.finish(Ok(v));
                Poll::Ready(())
            }
            Err(payload) => {
                *this.done = true;
                this.join.finish(Err(JoinError::Panicked(payload)));
                Poll::Ready(())
            }
        }
    }
}
