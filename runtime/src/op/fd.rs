//! `SharedFd`: a descriptor that every op using it keeps open.
//!
//! # Why ops hold the descriptor, not its number
//!
//! The kernel hands out the lowest free descriptor number. If a stream closed its fd while a
//! dropped op on it was still queued on the ring, running on the blocking pool, or orphaned in
//! the in-flight table, that op would run against whatever reused the number next: a dropped
//! `send` would deliver bytes to an unrelated connection. So an op holds a counted reference
//! (a clone of the stream's `SharedFd`), and the descriptor is closed only when the last
//! reference goes — the owner's and every op's. This is the rule the [`OpCode`](super::OpCode)
//! contract states for descriptors.
//!
//! `SharedFd` is `!Send`: ops and their descriptors belong to one core.
//!
//! Each `SharedFd` also has an identity ([`SharedFd::id`]) that no other descriptor made in
//! this process shares, so a reactor that keeps state per descriptor number (epoll) can tell a
//! reused number from the descriptor it knew, without being told about closes.

use crate::sys::OwnedFd;
use crate::sys::epoll as ep;
use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Poll, Waker};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A descriptor shared by its owner and the ops running on it; closed when the last one lets
/// go. Cloning it is cheap (a reference count).
///
/// # Examples
///
/// ```
/// use coreloop_runtime::Runtime;
/// use coreloop_runtime::op::SharedFd;
/// use coreloop_runtime::sys::io::pipe;
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let (r, _w) = pipe(true)?;
///     let fd = SharedFd::new(r);
///     let held_by_op = fd.clone(); // what an op in flight keeps
///     assert!(fd.in_use());
///     drop(held_by_op); // the op completed
///     assert!(!fd.in_use());
///     // Waits until no op holds the descriptor, then closes it and reports close's error.
///     fd.close().await
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct SharedFd {
    inner: Rc<Inner>,
}

struct Inner {
    fd: OwnedFd,
    id: u64,
    /// The epoll sets this descriptor was added to (their own descriptors, weakly): taking the
    /// descriptor out with [`SharedFd::into_owned`] removes it from those still open, so a
    /// descriptor moved to another core stops waking this one. A plain close needs nothing:
    /// the kernel drops a closed file from every set.
    epoll_sets: RefCell<Vec<Weak<OwnedFd>>>,
    /// A `close`/`into_owned` waiting for the ops that still hold the descriptor.
    waiter: Cell<Option<Waker>>,
    /// Whether `waiter` holds one (spares every op's drop a take of it).
    waiting: Cell<bool>,
}

impl SharedFd {
    /// Takes ownership of `fd`.
    pub fn new(fd: OwnedFd) -> SharedFd {
        SharedFd {
            inner: Rc::new(Inner {
                fd,
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                epoll_sets: RefCell::new(Vec::new()),
                waiter: Cell::new(None),
                waiting: Cell::new(false),
            }),
        }
    }

    /// The descriptor number, valid while this `SharedFd` (or any clone) is alive.
    #[inline]
    pub fn raw(&self) -> RawFd {
        self.inner.fd.raw()
    }

    /// An identity no other `SharedFd` in this process has, even one with the same number.
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// Whether an op (or another clone) still holds the descriptor.
    pub fn in_use(&self) -> bool {
        Rc::strong_count(&self.inner) > 1
    }

    /// Records that the epoll set `epfd` watches this descriptor (the epoll reactor calls it
    /// when it adds the descriptor).
    pub(crate) fn note_epoll_set(&self, epfd: &Rc<OwnedFd>) {
        let mut sets = self.inner.epoll_sets.borrow_mut();
        sets.retain(|w| w.strong_count() > 0);
        if !sets
            .iter()
            .any(|w| std::ptr::eq(w.as_ptr(), Rc::as_ptr(epfd)))
        {
            sets.push(Rc::downgrade(epfd));
        }
    }

    /// Takes the descriptor back without closing it, if no op holds it any more; else gives
    /// `self` back. It is removed from every epoll set it was added to, so it wakes no core
    /// from now on.
    pub fn try_into_owned(self) -> Result<OwnedFd, SharedFd> {
        // `SharedFd` has a `Drop`, so take the `Rc` out without running it.
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again; the Rc is moved out exactly once.
        let rc = unsafe { std::ptr::read(&this.inner) };
        if Rc::strong_count(&rc) > 1 {
            return Err(SharedFd { inner: rc });
        }
        let this = SharedFd { inner: rc };
        this.leave_epoll_sets();
        let this = std::mem::ManuallyDrop::new(this);
        // SAFETY: as above: moved out once, `this` is never used again.
        let rc = unsafe { std::ptr::read(&this.inner) };
        match Rc::try_unwrap(rc) {
            Ok(inner) => Ok(inner.fd),
            Err(rc) => Err(SharedFd { inner: rc }),
        }
    }

    /// Takes the descriptor out now, to move it elsewhere (another core, std): it is removed
    /// from every epoll set it was added to at once, so it wakes this core no more. If ops
    /// whose futures were dropped still hold it (their cancellation not yet back from the
    /// kernel), the caller gets a duplicate (`F_DUPFD_CLOEXEC`) of the same open file, and
    /// the original number closes when the last of those ops lets go, so it is never reused
    /// under them.
    pub fn detach(self) -> io::Result<OwnedFd> {
        self.leave_epoll_sets();
        match self.try_into_owned() {
            Ok(fd) => Ok(fd),
            Err(shared) => {
                let dup = crate::sys::io::fcntl(
                    shared.raw(),
                    crate::sys::io::fcntl_cmd::F_DUPFD_CLOEXEC,
                    0,
                )?;
                // SAFETY: F_DUPFD_CLOEXEC returned a new descriptor that only we hold.
                Ok(unsafe { OwnedFd::from_raw(dup as RawFd) })
            }
        }
    }

    fn leave_epoll_sets(&self) {
        for set in self.inner.epoll_sets.take() {
            if let Some(epfd) = set.upgrade() {
                // Still open: the set is alive, so the number names it. An error only means
                // the descriptor had already left the set.
                let _ = ep::epoll_ctl(epfd.raw(), ep::EPOLL_CTL_DEL, self.raw(), 0, 0);
            }
        }
    }

    /// Waits until no op holds the descriptor any more, then takes it back (see
    /// [`try_into_owned`](SharedFd::try_into_owned)). Ops whose futures were dropped while
    /// the kernel held them let go when their last completion arrives.
    pub async fn into_owned(self) -> OwnedFd {
        let mut this = Some(self);
        poll_fn(|cx| {
            let fd = this.take().expect("polled after it finished");
            match fd.try_into_owned() {
                Ok(owned) => Poll::Ready(owned),
                Err(fd) => {
                    fd.inner.waiter.set(Some(cx.waker().clone()));
                    fd.inner.waiting.set(true);
                    this = Some(fd);
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// Closes the descriptor once no op holds it, and reports what close says.
    pub async fn close(self) -> io::Result<()> {
        self.into_owned().await.close().map_err(io::Error::from)
    }
}

impl Clone for SharedFd {
    #[inline]
    fn clone(&self) -> SharedFd {
        SharedFd {
            inner: self.inner.clone(),
        }
    }
}

impl Drop for SharedFd {
    #[inline]
    fn drop(&mut self) {
        // The last op let go while the owner waits to take the descriptor back.
        if self.inner.waiting.get() && Rc::strong_count(&self.inner) == 2 {
            self.inner.waiting.set(false);
            if let Some(w) = self.inner.waiter.take() {
                w.wake();
            }
        }
    }
}

impl AsRawFd for SharedFd {
    fn as_raw_fd(&self) -> RawFd {
        self.raw()
    }
}

impl std::fmt::Debug for SharedFd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SharedFd").field(&self.raw()).finish()
    }
}

/// The directory a path-taking op resolves relative paths against.
#[derive(Clone, Debug, Default)]
pub enum DirFd {
    /// The process's current directory (`AT_FDCWD`).
    #[default]
    Cwd,
    /// An open directory (or, with `AT_EMPTY_PATH`, the file itself), kept open by the op.
    Fd(SharedFd),
}

impl DirFd {
    /// The number to pass to the kernel.
    pub fn raw(&self) -> RawFd {
        match self {
            DirFd::Cwd => crate::sys::file::AT_FDCWD,
            DirFd::Fd(fd) => fd.raw(),
        }
    }
}
