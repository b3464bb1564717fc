//! hyper's runtime traits on coreloop: `hyper::rt::{Read, Write}` for [`Compat`], an
//! [`Executor`] that spawns on the current core, and a
//! [`Timer`] whose sleeps are `Send + Sync` without any `unsafe`.
//!
//! A hyper server on one core:
//!
//! ```no_run
//! # async fn f(listener: coreloop_net::TcpListener) -> std::io::Result<()> {
//! use coreloop_compat::Compat;
//! use coreloop_compat::hyper::{CoreExecutor, CoreTimer};
//! use hyper::{Request, Response, body::Incoming, service::service_fn};
//! loop {
//!     let (stream, _) = listener.accept().await?;
//!     coreloop_runtime::spawn(async move {
//!         let service = service_fn(|_req: Request<Incoming>| async {
//!             Ok::<_, std::convert::Infallible>(Response::new(String::from("hello\n")))
//!         });
//!         let _ = hyper::server::conn::http1::Builder::new()
//!             .timer(CoreTimer)
//!             .serve_connection(Compat::new(stream), service)
//!             .await;
//!     });
//! }
//! # }
//! ```
//! (hyper's `server` and `http1` features are the user's choice; this crate enables none.)

mod sleep;

pub use sleep::CoreSleep;

use crate::{Compat, ReadSource, WriteSink};
use ::hyper::rt::{Executor, Read, ReadBufCursor, Timer, Write};
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

impl<S: ReadSource> Read for Compat<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        ready!(this.poll_fill(cx, buf.remaining()))?;
        let have = this.read_buffer();
        let n = have.len().min(buf.remaining());
        buf.put_slice(&have[..n]);
        this.consume(n);
        Poll::Ready(Ok(()))
    }
}

impl<S: WriteSink> Write for Compat<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_shutdown(cx)
    }
}

/// hyper's executor on coreloop: spawns each future on the **current core** with
/// `coreloop::spawn`, so the futures may be `!Send` (HTTP/2 streams of a connection whose I/O
/// is a [`Compat`]). Must be used from a task running on a coreloop core.
#[derive(Clone, Copy, Debug, Default)]
pub struct CoreExecutor;

impl<F> Executor<F> for CoreExecutor
where
    F: Future + 'static,
    F::Output: 'static,
{
    fn execute(&self, fut: F) {
        // Detached: hyper does not join the tasks it spawns.
        drop(coreloop_runtime::spawn(fut));
    }
}

/// hyper's timer on coreloop: its sleeps are [`CoreSleep`]s, `Send + Sync` as hyper requires,
/// with the timer itself registered on the core that polls them.
#[derive(Clone, Copy, Debug, Default)]
pub struct CoreTimer;

impl Timer for CoreTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(CoreSleep::until(Instant::now() + duration))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(CoreSleep::until(deadline))
    }
}
