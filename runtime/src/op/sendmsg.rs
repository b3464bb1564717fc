//! `SendMsg`: sendmsg(2) of several owned buffers, with an optional destination address and
//! an optional control buffer (`SCM_RIGHTS`), always with `MSG_NOSIGNAL`. Serves `writev` on
//! sockets, `send_to` on datagram sockets and descriptor passing.

use super::{Interest, Mode, OpCode, SharedFd};
use crate::buf::IoBuf;
use crate::io::BufResult;
use crate::sys::Errno;
use crate::sys::io::IoVec;
use crate::sys::socket::{self, MsgHdr, SockAddr};
use io_uring::{opcode, squeue, types};
use std::io;

/// Sends several buffers as one message (`sendmsg(2)` with `MSG_NOSIGNAL`), optionally to an
/// address and with a control message; resolves to the count sent and the buffers.
pub struct SendMsg<B> {
    fd: SharedFd,
    bufs: Vec<B>,
    /// One iovec per buffer; a heap Vec, so its address is stable.
    iovecs: Vec<IoVec>,
    addr: Option<Box<SockAddr>>,
    control: Vec<u8>,
    /// Points at `iovecs`, `addr` and `control`; filled in by [`SendMsg::hdr`] just before
    /// each submission or attempt. Boxed, like everything it points at, so it stays put if
    /// the op moves while the kernel holds the entry.
    msg: Box<MsgHdr>,
    flags: u32,
    total: usize,
}

impl<B: IoBuf> SendMsg<B> {
    /// `addr` is `None` on a connected socket; `control` is empty for no control message.
    pub fn new(
        fd: &SharedFd,
        bufs: Vec<B>,
        addr: Option<SockAddr>,
        control: Vec<u8>,
        flags: u32,
    ) -> SendMsg<B> {
        let iovecs: Vec<IoVec> = bufs
            .iter()
            .map(|b| IoVec {
                base: b.stable_ptr().cast_mut(),
                len: b.bytes_init(),
            })
            .collect();
        let total = iovecs.iter().map(|v| v.len).sum();
        SendMsg {
            fd: fd.clone(),
            bufs,
            iovecs,
            addr: addr.map(Box::new),
            control,
            msg: Box::new(MsgHdr::zeroed()),
            flags: flags | socket::MSG_NOSIGNAL,
            total,
        }
    }

    /// The message header, written into its own box and pointing only at heap memory the op
    /// owns (the boxed address, the iovec and control `Vec`s): none of it moves when the op
    /// does.
    fn hdr(&mut self) -> *const MsgHdr {
        let (name, namelen) = match &mut self.addr {
            Some(a) => (a.as_mut_ptr(), a.len()),
            None => (std::ptr::null_mut(), 0),
        };
        *self.msg = MsgHdr {
            msg_name: name,
            msg_namelen: namelen,
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
        &raw const *self.msg
    }
}

// SAFETY: the header is boxed and points at the boxed address and heap Vecs (iovecs,
// control), and each iovec at the initialized bytes of a buffer the op owns; the kernel only
// reads them, and none of it moves when the op does, for as long as the op lives.
unsafe impl<B: IoBuf> OpCode for SendMsg<B> {
    type Output = BufResult<usize, Vec<B>>;

    const NAME: &'static str = "sendmsg";

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let msg = self.hdr();
        let entry = opcode::SendMsg::new(types::Fd(self.fd.raw()), msg.cast())
            .flags(self.flags)
            .build();
        Some(entry)
    }

    fn mode(&self) -> Mode<'_> {
        Mode::Readiness {
            fd: &self.fd,
            interest: Interest::Writable,
            drained_below: Some(self.total),
        }
    }

    fn call(&mut self) -> Result<usize, Errno> {
        let msg = self.hdr();
        // SAFETY: as for the trait impl: msg and everything it points to are readable.
        unsafe { socket::sendmsg_raw(self.fd.raw(), msg, self.flags) }
    }

    fn finish(self, res: io::Result<usize>) -> Self::Output {
        (res, self.bufs)
    }
}
