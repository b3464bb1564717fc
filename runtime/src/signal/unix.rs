//! Any Unix signal: [`signal`]`(`[`SignalKind`]`)` gives a [`Signal`] that receives it.

use super::registry::{self, Listener, Registry, SIGINFO_LEN};
use crate::op::read::Read;
use crate::op::{Position, SharedFd};
use crate::reactor::Op;
use crate::sys::OwnedFd;
use crate::sys::io::{fcntl, fcntl_cmd::F_DUPFD_CLOEXEC};
use crate::sys::signal as sys;
use futures_core::Stream;
use std::cell::RefCell;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// A signal number, with constructors for the common ones (the names follow tokio's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignalKind(u32);

impl SignalKind {
    /// Any signal by number (1..=64). SIGKILL and SIGSTOP cannot be received: [`signal`]
    /// refuses them.
    pub const fn from_raw(signum: u32) -> SignalKind {
        SignalKind(signum)
    }
    /// The signal number.
    pub const fn as_raw(self) -> u32 {
        self.0
    }
    /// SIGINT: Ctrl-C.
    pub const fn interrupt() -> SignalKind {
        SignalKind(sys::SIGINT)
    }
    /// SIGTERM: the polite request to stop.
    pub const fn terminate() -> SignalKind {
        SignalKind(sys::SIGTERM)
    }
    /// SIGHUP: the terminal went away; daemons reload their configuration.
    pub const fn hangup() -> SignalKind {
        SignalKind(sys::SIGHUP)
    }
    /// SIGQUIT: Ctrl-\.
    pub const fn quit() -> SignalKind {
        SignalKind(sys::SIGQUIT)
    }
    /// SIGUSR1.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(sys::SIGUSR1)
    }
    /// SIGUSR2.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(sys::SIGUSR2)
    }
    /// SIGWINCH: the terminal's size changed.
    pub const fn window_change() -> SignalKind {
        SignalKind(sys::SIGWINCH)
    }
    /// SIGCHLD: a child process changed state.
    pub const fn child() -> SignalKind {
        SignalKind(sys::SIGCHLD)
    }
    /// SIGALRM.
    pub const fn alarm() -> SignalKind {
        SignalKind(sys::SIGALRM)
    }
    /// SIGPIPE (coreloop's own sends never raise it: they use `MSG_NOSIGNAL`).
    pub const fn pipe() -> SignalKind {
        SignalKind(sys::SIGPIPE)
    }
}

/// Listens for `kind` on this core: blocks it on the calling thread, adds it to the
/// process's signalfd and registers a listener. Only signals that arrive after this call are
/// received. See the [module docs](super) for blocking the signal before threads start.
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let sig = kind.as_raw();
    if sig == sys::SIGKILL || sig == sys::SIGSTOP {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("signal {sig} (SIGKILL or SIGSTOP) cannot be caught"),
        ));
    }
    registry::enable(sig)?;
    let registry = registry::get()?;
    // This thread's descriptor for the signalfd is made now, not at the first wait: a core
    // that has used up its descriptors (EMFILE) must still hear the signal it listens for.
    thread_signalfd(registry.fd())?;
    let listener = registry.register(sig);
    Ok(Signal {
        sig,
        seen: registry.delivered(sig),
        registry,
        listener,
        read: None,
    })
}

/// Receives one signal kind on one core. `!Send` (it may hold a read in flight on this
/// core's reactor); make one per core to listen on several.
pub struct Signal {
    sig: u32,
    /// The delivery count already reported.
    seen: u64,
    registry: &'static Registry,
    listener: Arc<Listener>,
    /// This listener's read of the signalfd, while it waits.
    read: Option<Op<Read<Vec<u8>>>>,
}

impl Signal {
    /// Waits for the next delivery of the signal (several deliveries since the last call
    /// count as one). `None` only if reading the signalfd failed, which does not happen on a
    /// working kernel.
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery; see [`Signal::recv`].
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        loop {
            // Register before looking, so a delivery between the look and the wait wakes us.
            self.listener.set_waker(cx.waker());
            let now = self.registry.delivered(self.sig);
            if now != self.seen {
                self.seen = now;
                return Poll::Ready(Some(()));
            }
            if self.read.is_none() {
                let Ok(fd) = thread_signalfd(self.registry.fd()) else {
                    return Poll::Ready(None);
                };
                let buf = Vec::with_capacity(SIGINFO_LEN * 8);
                self.read = Some(Op::new(Read::new(&fd, buf, Position::Stream)));
            }
            let read = self.read.as_mut().expect("set above");
            let (res, buf) = match Pin::new(read).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(done) => done,
            };
            self.read = None;
            match res {
                Ok(n) => self.registry.distribute(&buf[..n]),
                // Another core's read took the signal first (epoll: readiness went to every
                // core), or the read was interrupted: look at the counters, then read again.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) => {}
                Err(_) => return Poll::Ready(None),
            }
        }
    }
}

thread_local! {
    /// This thread's duplicate of the process's signalfd: ops hold their descriptor through a
    /// `SharedFd`, which belongs to one thread, and every duplicate reads the same queue.
    static SIGNAL_FD: RefCell<Option<SharedFd>> = const { RefCell::new(None) };
}

/// This thread's `SharedFd` for the process's signalfd `raw` (which is never closed).
fn thread_signalfd(raw: std::os::fd::RawFd) -> io::Result<SharedFd> {
    SIGNAL_FD.with(|slot| {
        if let Some(fd) = slot.borrow().as_ref() {
            return Ok(fd.clone());
        }
        let dup = fcntl(raw, F_DUPFD_CLOEXEC, 0)?;
        // SAFETY: F_DUPFD_CLOEXEC returned a new descriptor that only this thread holds.
        let fd = SharedFd::new(unsafe { OwnedFd::from_raw(dup as std::os::fd::RawFd) });
        *slot.borrow_mut() = Some(fd.clone());
        Ok(fd)
    })
}

impl Stream for Signal {
    type Item = ();

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx)
    }
}

impl std::fmt::Debug for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signal")
            .field("signo", &self.sig)
            .field("seen", &self.seen)
            .field("reading", &self.read.is_some())
            .finish()
    }
}
