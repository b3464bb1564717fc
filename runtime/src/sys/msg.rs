//! `sendmsg`, `recvmsg`, and control messages (`SCM_RIGHTS` descriptor passing).
//!
//! Control buffers are plain bytes. The kernel places each `cmsghdr` at an offset aligned with
//! [`cmsg_align`] from the start of the buffer and copies it in and out without caring about
//! the buffer's own alignment, so headers here are read and written unaligned and any `[u8]`
//! will do.
//!
//! Sends always add `MSG_NOSIGNAL`. Receivers that accept descriptors should pass
//! `MSG_CMSG_CLOEXEC` (the safe [`recvmsg_with_fds`] always does) so passed descriptors are
//! close-on-exec from the moment they exist.

use super::addr::{SockAddr, SockAddrStorage};
use super::arch::nr;
use super::call::{call3, retry_eintr};
use super::errno::Errno;
use super::fd::OwnedFd;
use super::socket::{MSG_CMSG_CLOEXEC, MSG_NOSIGNAL};
use super::sockopt::SOL_SOCKET;
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::RawFd;

/// `SCM_RIGHTS`: the control message that carries descriptors.
pub const SCM_RIGHTS: i32 = 1;

/// `struct msghdr`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MsgHdr {
    /// Address to send to or receive from; null for none.
    pub msg_name: *mut SockAddrStorage,
    /// Size of `msg_name` in bytes; the kernel sets it to the address's length on receive.
    pub msg_namelen: u32,
    /// The buffers (scatter/gather).
    pub msg_iov: *mut super::io::IoVec,
    /// Number of entries at `msg_iov`.
    pub msg_iovlen: usize,
    /// Control (ancillary) data buffer; null for none.
    pub msg_control: *mut u8,
    /// Size of `msg_control` in bytes; the kernel sets it to the length used on receive.
    pub msg_controllen: usize,
    /// On receive: `MSG_TRUNC`, `MSG_CTRUNC`, ... as the kernel reports them.
    pub msg_flags: i32,
}

impl MsgHdr {
    /// All pointers null, all lengths zero.
    pub const fn zeroed() -> MsgHdr {
        MsgHdr {
            msg_name: std::ptr::null_mut(),
            msg_namelen: 0,
            msg_iov: std::ptr::null_mut(),
            msg_iovlen: 0,
            msg_control: std::ptr::null_mut(),
            msg_controllen: 0,
            msg_flags: 0,
        }
    }
}

impl Default for MsgHdr {
    fn default() -> MsgHdr {
        MsgHdr::zeroed()
    }
}

/// `struct cmsghdr`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CmsgHdr {
    /// Header plus data length, unpadded (`CMSG_LEN`).
    pub cmsg_len: usize,
    /// Originating protocol (`SOL_SOCKET` for `SCM_RIGHTS`).
    pub cmsg_level: i32,
    /// Protocol-specific type (`SCM_RIGHTS`).
    pub cmsg_type: i32,
}

const HDR: usize = cmsg_align(size_of::<CmsgHdr>());

/// `CMSG_ALIGN`: rounds up to the alignment of a `size_t`.
pub const fn cmsg_align(len: usize) -> usize {
    (len + size_of::<usize>() - 1) & !(size_of::<usize>() - 1)
}

/// `CMSG_SPACE`: buffer bytes one control message with `data_len` data bytes takes.
pub const fn cmsg_space(data_len: usize) -> usize {
    HDR + cmsg_align(data_len)
}

/// `CMSG_LEN`: the `cmsg_len` of a control message with `data_len` data bytes.
pub const fn cmsg_len(data_len: usize) -> usize {
    HDR + data_len
}

/// Buffer bytes needed to carry or receive `n` descriptors in one `SCM_RIGHTS` message.
pub const fn scm_rights_space(n: usize) -> usize {
    cmsg_space(n * size_of::<RawFd>())
}

/// Writes one `SCM_RIGHTS` message carrying `fds` at the start of `buf`; returns the bytes
/// used (the `msg_controllen` to send). `EINVAL` if `buf` is too small.
pub fn write_scm_rights(buf: &mut [u8], fds: &[RawFd]) -> Result<usize, Errno> {
    let space = scm_rights_space(fds.len());
    let buf = buf.get_mut(..space).ok_or(Errno::EINVAL)?;
    buf.fill(0);
    let hdr = CmsgHdr {
        cmsg_len: cmsg_len(size_of_val(fds)),
        cmsg_level: SOL_SOCKET as i32,
        cmsg_type: SCM_RIGHTS,
    };
    // SAFETY: buf holds at least HDR bytes; write_unaligned needs no alignment.
    unsafe { buf.as_mut_ptr().cast::<CmsgHdr>().write_unaligned(hdr) };
    for (i, fd) in fds.iter().enumerate() {
        let at = HDR + i * size_of::<RawFd>();
        buf[at..at + size_of::<RawFd>()].copy_from_slice(&fd.to_ne_bytes());
    }
    Ok(space)
}

/// A control buffer carrying `fds` in one `SCM_RIGHTS` message.
pub fn scm_rights(fds: &[RawFd]) -> Vec<u8> {
    let mut buf = vec![0; scm_rights_space(fds.len())];
    // The buffer was sized for exactly these descriptors, so this cannot fail.
    let _ = write_scm_rights(&mut buf, fds);
    buf
}

/// One control message found in a buffer.
#[derive(Clone, Copy, Debug)]
pub struct Cmsg<'a> {
    /// `cmsg_level`.
    pub level: i32,
    /// `cmsg_type`.
    pub ty: i32,
    /// The message's data, without header or padding.
    pub data: &'a [u8],
}

/// Iterates over the control messages in the first `msg_controllen` bytes of a buffer.
pub fn cmsgs(control: &[u8]) -> Cmsgs<'_> {
    Cmsgs { rest: control }
}

/// Iterator returned by [`cmsgs`]; stops at the first malformed header.
#[derive(Clone, Debug)]
pub struct Cmsgs<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Cmsgs<'a> {
    type Item = Cmsg<'a>;

    fn next(&mut self) -> Option<Cmsg<'a>> {
        if self.rest.len() < HDR {
            return None;
        }
        // SAFETY: at least HDR bytes are readable; read_unaligned needs no alignment.
        let hdr = unsafe { self.rest.as_ptr().cast::<CmsgHdr>().read_unaligned() };
        if hdr.cmsg_len < HDR || hdr.cmsg_len > self.rest.len() {
            self.rest = &[];
            return None;
        }
        let data = &self.rest[HDR..hdr.cmsg_len];
        let next = cmsg_align(hdr.cmsg_len).min(self.rest.len());
        self.rest = &self.rest[next..];
        Some(Cmsg {
            level: hdr.cmsg_level,
            ty: hdr.cmsg_type,
            data,
        })
    }
}

/// Takes ownership of every descriptor in the `SCM_RIGHTS` messages of `control`.
///
/// # Safety
/// `control` must be the first `msg_controllen` bytes a successful `recvmsg` wrote, and this
/// must be called at most once for them: the descriptors in it are new and owned by no one
/// else, and each `OwnedFd` returned will close one.
pub unsafe fn take_fds(control: &[u8]) -> Vec<OwnedFd> {
    let mut out = Vec::new();
    for c in cmsgs(control) {
        if c.level != SOL_SOCKET as i32 || c.ty != SCM_RIGHTS {
            continue;
        }
        for b in c.data.chunks_exact(size_of::<RawFd>()) {
            let fd = RawFd::from_ne_bytes([b[0], b[1], b[2], b[3]]);
            // SAFETY: the kernel installed this descriptor for us in recvmsg, and the caller
            // guarantees nothing else has taken it.
            out.push(unsafe { OwnedFd::from_raw(fd) });
        }
    }
    out
}

/// `sendmsg(2)` with the message at `msg`; adds `MSG_NOSIGNAL`. Retries `EINTR` (nothing
/// was sent when it is reported).
///
/// # Safety
/// `msg` and everything it points to (name, iovecs and their bytes, control) must be valid
/// for reads until the call returns.
pub unsafe fn sendmsg_raw(fd: RawFd, msg: *const MsgHdr, flags: u32) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees msg and its buffers.
    retry_eintr(|| unsafe {
        call3(
            nr::SENDMSG,
            fd as usize,
            msg as usize,
            (flags | MSG_NOSIGNAL) as usize,
        )
    })
}

/// `recvmsg(2)` into the message at `msg`; the kernel updates its `msg_namelen`,
/// `msg_controllen` and `msg_flags`. Retries `EINTR`. Pass `MSG_CMSG_CLOEXEC` when the
/// socket may receive descriptors.
///
/// # Safety
/// `msg` must be valid for reads and writes, its name, iovec bytes and control valid for
/// writes of their lengths, and its iovec array for reads, until the call returns.
pub unsafe fn recvmsg_raw(fd: RawFd, msg: *mut MsgHdr, flags: u32) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees msg and its buffers.
    retry_eintr(|| unsafe { call3(nr::RECVMSG, fd as usize, msg as usize, flags as usize) })
}

/// `sendmsg(2)` of `bufs` with a control buffer (empty for none) to `addr` (`None` for a
/// connected socket); adds `MSG_NOSIGNAL`. Retries `EINTR`.
pub fn sendmsg(
    fd: RawFd,
    bufs: &[IoSlice<'_>],
    control: &[u8],
    addr: Option<&SockAddr>,
    flags: u32,
) -> Result<usize, Errno> {
    let (name, namelen) = match addr {
        Some(a) => (a.as_ptr() as *mut SockAddrStorage, a.len()),
        None => (std::ptr::null_mut(), 0),
    };
    let msg = MsgHdr {
        msg_name: name,
        msg_namelen: namelen,
        msg_iov: bufs.as_ptr() as *mut _,
        msg_iovlen: bufs.len(),
        msg_control: if control.is_empty() {
            std::ptr::null_mut()
        } else {
            control.as_ptr() as *mut u8
        },
        msg_controllen: control.len(),
        msg_flags: 0,
    };
    // SAFETY: msg points at borrowed slices that outlive the call; sendmsg only reads through
    // the pointers, so casting them to *mut is never used to write.
    unsafe { sendmsg_raw(fd, &msg, flags) }
}

/// What [`recvmsg`] received.
#[derive(Clone, Copy, Debug)]
pub struct RecvMsg {
    /// Bytes received (with `MSG_TRUNC`, a datagram's full length).
    pub bytes: usize,
    /// Bytes of the control buffer the kernel filled.
    pub control_len: usize,
    /// `msg_flags`: `MSG_TRUNC`, `MSG_CTRUNC`, ...
    pub flags: i32,
    /// The sender's address (unnamed for a connected stream).
    pub addr: SockAddr,
}

/// `recvmsg(2)` into `bufs` and `control`. Retries `EINTR`.
///
/// Descriptors that arrive are left in `control[..control_len]`; to own them, use
/// [`recvmsg_with_fds`] or [`take_fds`]. Without `MSG_CMSG_CLOEXEC` in `flags` they are not
/// close-on-exec.
pub fn recvmsg(
    fd: RawFd,
    bufs: &mut [IoSliceMut<'_>],
    control: &mut [u8],
    flags: u32,
) -> Result<RecvMsg, Errno> {
    let mut addr = SockAddr::empty();
    let capacity = addr.len();
    let (name, namelen) = addr.as_mut_parts();
    let mut msg = MsgHdr {
        msg_name: name,
        msg_namelen: capacity,
        msg_iov: bufs.as_mut_ptr().cast(),
        msg_iovlen: bufs.len(),
        msg_control: control.as_mut_ptr(),
        msg_controllen: control.len(),
        msg_flags: 0,
    };
    // SAFETY: every pointer in msg is into a live, writable borrow that outlives the call.
    let bytes = unsafe { recvmsg_raw(fd, &mut msg, flags) }?;
    // SAFETY: namelen points into `addr`, which is alive and not otherwise borrowed; the
    // kernel stored the address's real length in msg_namelen.
    unsafe { *namelen = msg.msg_namelen };
    Ok(RecvMsg {
        bytes,
        control_len: msg.msg_controllen,
        flags: msg.msg_flags,
        addr,
    })
}

/// `sendmsg(2)` of `bufs` on a connected socket, passing `fds` in one `SCM_RIGHTS` message.
/// The descriptors stay open here; the peer receives duplicates. Retries `EINTR`.
pub fn sendmsg_with_fds(
    fd: RawFd,
    bufs: &[IoSlice<'_>],
    fds: &[RawFd],
    flags: u32,
) -> Result<usize, Errno> {
    sendmsg(fd, bufs, &scm_rights(fds), None, flags)
}

/// `recvmsg(2)` with room for up to `max_fds` passed descriptors, always `MSG_CMSG_CLOEXEC`.
/// Returns what arrived and the descriptors, owned. If more descriptors were sent than fit,
/// the kernel closes the rest and sets `MSG_CTRUNC` in the flags. Retries `EINTR`.
pub fn recvmsg_with_fds(
    fd: RawFd,
    bufs: &mut [IoSliceMut<'_>],
    max_fds: usize,
    flags: u32,
) -> Result<(RecvMsg, Vec<OwnedFd>), Errno> {
    let mut control = vec![0u8; scm_rights_space(max_fds)];
    let r = recvmsg(fd, bufs, &mut control, flags | MSG_CMSG_CLOEXEC)?;
    let len = r.control_len.min(control.len());
    // SAFETY: these are exactly the control bytes this recvmsg filled, read once here.
    let fds = unsafe { take_fds(&control[..len]) };
    Ok((r, fds))
}
