//! `timeout`: a future with a deadline.

use super::sleep::{Sleep, sleep_until};
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The deadline passed before the future finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for io::Error {
    fn from(e: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, e)
    }
}

pin_project_lite::pin_project! {
    /// `fut`, or `Err(Elapsed)` once the deadline passes. Dropping it drops `fut` (and so
    /// cancels whatever it was doing).
    pub struct Timeout<F> {
        #[pin]
        fut: F,
        sleep: Sleep,
    }
}

/// Runs `fut` for at most `duration`.
///
/// # Examples
///
/// ```
/// use coreloop_runtime::Runtime;
/// use coreloop_runtime::time::{sleep, timeout};
/// use std::time::Duration;
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     // Finished in time: its output.
///     assert_eq!(timeout(Duration::from_secs(5), async { 7 }).await, Ok(7));
///     // Not finished in time: `Elapsed`, and the inner future is dropped.
///     let slow = sleep(Duration::from_secs(60));
///     assert!(timeout(Duration::from_millis(10), slow).await.is_err());
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn timeout<F: Future>(duration: Duration, fut: F) -> Timeout<F> {
    timeout_at(super::sleep::deadline_after(Instant::now(), duration), fut)
}

/// Runs `fut` until `deadline` at most.
pub fn timeout_at<F: Future>(deadline: Instant, fut: F) -> Timeout<F> {
    Timeout {
        fut,
        sleep: sleep_until(deadline),
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(v) = this.fut.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match Pin::new(this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}
