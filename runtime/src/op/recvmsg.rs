//! `RecvMsg`: recvmsg(2) into several owned buffers (each appended to), with the sender's
//! address and an optional control buffer for passed descriptors. Always `MSG_CMSG_CLOEXEC`:
//! a descriptor that arrives is close-on-exec from the moment it exists.
//!
//! Descriptors that arrive in an op whose future was dropped are closed when the op is
//! dropped: the control buffer starts zeroed, so only what the kernel wrote is found there.

use super::readv::spare_iovec;
use super::{Interest, Mode, OpCode, SharedFd};
use crate::buf::{IoBufMut, commit_filled};
use crate::sys::io::IoVec;
use crate::sys::socket::{self, MsgHdr, SockAddr};
use crate::sys::{Errno, OwnedFd};
use io_uring::{opcode, squeue, types};
use std::io;

/// Receives one message into several buffers, with its sender's address and any passed
/// descriptors.
pub struct RecvMsg<B> {
    fd: SharedFd,
    bufs: Vec<B>,
    /// One iovec per buffer, over its spare capacity; a heap Vec, so its address is stable.
    iovecs: Vec<IoVec>,
    addr: Box<SockAddr>,
    control: Vec<u8>,
    /// Points at `iovecs`, `addr` and `control`; the kernel updates its lengths and flags.
    msg: Box<MsgHdr>,
    flags: u32,
    /// The descriptors in `control` were handed to the caller (or there are none to close).
    fds_taken: bool,
}

/// What arrived besides the bytes.
#[derive(Debug)]
pub struct Received {
    /// The sender's address (unnamed for a connected stream).
    pub addr: SockAddr,
    /// `msg_flags`: `MSG_TRUNC`, `MSG_CTRUNC`, …
    pub flags: i32,
    /// The descriptors passed with the message, owned and close-on-exec.
    pub fds: Vec<OwnedFd>,
}

impl<B: IoBufMut> RecvMsg<B> {
    /// `control_len` bytes of room for control messages (see `sys::socket::scm_rights_space`);
    /// 0 for none.
    pub fn new(fd: &SharedFd, mut bufs: Vec<B>, control_len: usize, flags: u32) -> RecvMsg<B> {
        let iovecs: Vec<IoVec> = bufs.iter_mut().map(|b| spare_iovec(b)).collect();
        RecvMsg {
            fd: fd.clone(),
            bufs,
            iovecs,
            addr: Box::new(SockAddr::empty()),
            control: vec![0; control_len],
            msg: Box::new(MsgHdr::zeroed()),
            flags: flags | socket::MSG_CMSG_CLOEXEC,
            fds_taken: false,
        }
    }

    fn hdr(&mut self) -> *mut MsgHdr {
        *self.msg = MsgHdr {
            msg_name: self.addr.as_mut_ptr(),
            msg_namelen: self.addr.len(),
            msg_iov: self.iovecs.as_mut_ptr(),
            msg_iovlen: self.iovecs.len(),
            msg_control: if self.control.is_empty() {
                std::ptr::null_mut()
            } else {
                self.control.as_mut_ptr()
            },
            msg_controllen: self.control.len(),
            msg_flags: 0,
        };
        &raw mut *self.msg
    }
}

impl<B> RecvMsg<B> {
    /// Takes the descriptors the kernel wrote into the control buffer, once.
    fn take_fds(&mut self) -> Vec<OwnedFd> {
        if std::mem::replace(&mut self.fds_taken, true) || self.control.is_empty() {
            return Vec::new();
        }
        let len = self.msg.msg_controllen.min(self.control.len());
        // SAFETY: the control buffer started zeroed and only recvmsg writes it; its first
        // msg_controllen bytes are what the kernel wrote (a zeroed header ends the walk), and
        // fds_taken makes this the only time they are taken.
        unsafe { socket::take_fds(&self.control[..len]) }
    }
}

impl<B> Drop for RecvMsg<B> {
    fn drop(&mut self) {
        // Descriptors that arrived after the future was dropped would otherwise leak.
        drop(self.take_fds());
    }
}

// SAFETY: the header is boxed and points at the boxed address and heap Vecs; each iovec at
// the spare capacity of a buffer the op owns; none of it moves when the op does, and all stay
// writable for as long as the op lives.
unsafe impl<B: IoBufMut> OpCode for RecvMsg<B> {
    type Output = (io::Result<(usize, Received)>, Vec<B>);

    const NAME: &'static str = "recvmsg";

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let msg = self.hdr();
        let entry = opcode::RecvMsg::new(types::Fd(self.fd.raw()), msg.cast())
            .flags(self.flags)
            .build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        // Used for datagrams and descriptor passing, where a short receive proves nothing
        // about what else is queued.
        Mode::Readiness {
            fd: &self.fd,
            interest: Interest::Readable,
            drained_below: None,
        }
    }

    fn call(&mut self) -> Result<usize, Errno> {
        let msg = self.hdr();
        // SAFETY: as for the trait impl: msg and everything it points to are valid.
        unsafe { socket::recvmsg_raw(self.fd.raw(), msg, self.flags) }
    }

    /// The buffers back (each with the bytes received into it counted as initialized), and
    /// what came with them.
    fn finish(mut self, res: io::Result<usize>) -> Self::Output {
        let n = match res {
            Ok(n) => n,
            Err(e) => return (Err(e), std::mem::take(&mut self.bufs)),
        };
        let rooms = self.iovecs.iter().map(|v| v.len);
        // SAFETY: the kernel filled the iovecs in order, each right after its buffer's
        // initialized bytes (n may exceed their room with MSG_TRUNC: clamped).
        unsafe { commit_filled(self.bufs.iter_mut().zip(rooms), n) };
        let fds = self.take_fds();
        let mut addr = *self.addr;
        *addr.len_mut() = self.msg.msg_namelen;
        let received = Received {
            addr,
            flags: self.msg.msg_flags,
            fds,
        };
        (Ok((n, received)), std::mem::take(&mut self.bufs))
    }
}
