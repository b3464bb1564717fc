//! `OwnedFd`: a file descriptor that this process owns and closes exactly once.

use super::arch::nr;
use super::call::call1;
use super::errno::Errno;
use std::fmt;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, RawFd};

/// An open file descriptor, closed on drop.
///
/// # Invariant
/// `self.0` is an open descriptor that nothing else will close.
pub struct OwnedFd(RawFd);

impl OwnedFd {
    /// Takes ownership of `fd`.
    ///
    /// # Safety
    /// `fd` must be open and owned by the caller: nothing else may close it.
    pub unsafe fn from_raw(fd: RawFd) -> OwnedFd {
        debug_assert!(fd >= 0);
        OwnedFd(fd)
    }

    /// The descriptor number, still owned by `self`.
    pub fn raw(&self) -> RawFd {
        self.0
    }

    /// Gives up ownership without closing.
    pub fn into_raw(self) -> RawFd {
        let fd = self.0;
        std::mem::forget(self);
        fd
    }

    /// Closes the descriptor and reports the kernel's answer (e.g. `EIO` from a deferred write
    /// error, `EDQUOT`). The descriptor is gone either way: Linux never wants a close retried.
    pub fn close(self) -> Result<(), Errno> {
        // SAFETY: into_raw hands over the descriptor this value owned alone.
        unsafe { close_raw(self.into_raw()) }
    }
}

/// `close(2)`. Never retried, not even on `EINTR`: on Linux the fd is released before the error
/// is reported, and a retry could close a descriptor another thread just opened.
///
/// # Safety
/// `fd` must be a descriptor the caller owns, that nothing else will use or close: closing a
/// number someone else owns would let the next open reuse it under their feet.
pub unsafe fn close_raw(fd: RawFd) -> Result<(), Errno> {
    // SAFETY: close takes no pointers.
    unsafe { call1(nr::CLOSE, fd as usize) }.map(drop)
}

impl Drop for OwnedFd {
    fn drop(&mut self) {
        // The error has nowhere to go here; `close()` is the way to see it.
        // SAFETY: the invariant: self.0 is open and owned by this value alone.
        let _ = unsafe { close_raw(self.0) };
    }
}

impl fmt::Debug for OwnedFd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedFd").field(&self.0).finish()
    }
}

impl AsRawFd for OwnedFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

impl IntoRawFd for OwnedFd {
    fn into_raw_fd(self) -> RawFd {
        self.into_raw()
    }
}

impl FromRawFd for OwnedFd {
    unsafe fn from_raw_fd(fd: RawFd) -> OwnedFd {
        // SAFETY: the caller of from_raw_fd makes the same promise from_raw asks for.
        unsafe { OwnedFd::from_raw(fd) }
    }
}

impl From<OwnedFd> for std::os::fd::OwnedFd {
    fn from(fd: OwnedFd) -> std::os::fd::OwnedFd {
        // SAFETY: into_raw hands over an open fd that no one else owns.
        unsafe { std::os::fd::OwnedFd::from_raw_fd(fd.into_raw()) }
    }
}

impl From<std::os::fd::OwnedFd> for OwnedFd {
    fn from(fd: std::os::fd::OwnedFd) -> OwnedFd {
        // SAFETY: std's OwnedFd owned it; into_raw_fd hands that ownership over.
        unsafe { OwnedFd::from_raw(fd.into_raw_fd()) }
    }
}
