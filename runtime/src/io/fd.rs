//! `IoFd`: a descriptor used with ops, forgotten by the reactor before it is closed.

use crate::sys::OwnedFd;
use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsRawFd, RawFd};

/// An owned descriptor that ops run on. Before it closes, the current core's reactor forgets
/// it (epoll keeps per-fd readiness), so a later descriptor with the same number starts clean.
///
/// `!Send`: the readiness the epoll reactor keeps for it belongs to one core. To move a
/// descriptor to another core, take it out with [`IoFd::into_owned`] and wrap it again there.
pub struct IoFd {
    fd: Option<OwnedFd>,
    _not_send: PhantomData<*const ()>,
}

impl IoFd {
    pub fn new(fd: OwnedFd) -> IoFd {
        IoFd {
            fd: Some(fd),
            _not_send: PhantomData,
        }
    }

    pub fn raw(&self) -> RawFd {
        self.fd.as_ref().map_or(-1, |f| f.raw())
    }

    /// Closes it and reports what close says.
    pub fn close(mut self) -> io::Result<()> {
        match self.fd.take() {
            Some(fd) => {
                crate::executor::forget_fd(fd.raw());
                fd.close().map_err(io::Error::from)
            }
            None => Ok(()),
        }
    }

    /// Gives the descriptor back without closing it.
    pub fn into_owned(mut self) -> OwnedFd {
        let fd = self.fd.take().expect("IoFd holds its fd until consumed");
        crate::executor::forget_fd(fd.raw());
        fd
    }
}

impl AsRawFd for IoFd {
    fn as_raw_fd(&self) -> RawFd {
        self.raw()
    }
}

impl Drop for IoFd {
    fn drop(&mut self) {
        if let Some(fd) = self.fd.take() {
            crate::executor::forget_fd(fd.raw());
        }
    }
}

impl std::fmt::Debug for IoFd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("IoFd").field(&self.raw()).finish()
    }
}
