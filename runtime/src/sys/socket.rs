//! Sockets: `socket`, `socketpair`, `bind`, `listen`, `accept4`, `connect`, `getsockname`,
//! `getpeername`, `shutdown`, `sendto`, `recvfrom`.
//!
//! Every socket this layer creates (including accepted ones) is `SOCK_CLOEXEC |
//! SOCK_NONBLOCK`, whatever the caller passes. Every send adds `MSG_NOSIGNAL`: a peer that
//! went away gives `EPIPE`, never a `SIGPIPE` that would kill the process.
//!
//! Socket options live in [`sockopt`](super::sockopt), and `sendmsg`/`recvmsg` with control
//! messages in [`msg`](super::msg); both are re-exported here so the whole socket family is
//! reachable as `sys::socket::*`.
//!
//! The `*_raw` forms take pointers and are `unsafe`: the operation model calls them with
//! buffers and addresses it keeps at stable addresses. The other forms borrow.

use super::arch::nr;
use super::call::{call2, call3, call4, call6, retry_eintr};
use super::errno::Errno;
use super::fd::OwnedFd;
use std::os::fd::RawFd;

pub use super::addr::{AF_INET, AF_INET6, AF_UNIX, SockAddr, SockAddrStorage};
pub use super::msg::*;
pub use super::sockopt::*;

/// Connection-based byte stream (TCP, Unix stream).
pub const SOCK_STREAM: u32 = 1;
/// Datagrams (UDP, Unix datagram).
pub const SOCK_DGRAM: u32 = 2;
/// Connection-based, record-preserving (Unix seqpacket).
pub const SOCK_SEQPACKET: u32 = 5;
/// Non-blocking (always added).
pub const SOCK_NONBLOCK: u32 = 0o4000;
/// Close-on-exec (always added).
pub const SOCK_CLOEXEC: u32 = 0o2000000;

/// The kernel's default cap on a listen backlog (`net.core.somaxconn`, since Linux 5.4).
pub const SOMAXCONN: i32 = 4096;

/// `shutdown`: no more receives.
pub const SHUT_RD: u32 = 0;
/// `shutdown`: no more sends; the peer reads end of stream.
pub const SHUT_WR: u32 = 1;
/// `shutdown`: both directions.
pub const SHUT_RDWR: u32 = 2;

/// Look at the data without taking it from the queue.
pub const MSG_PEEK: u32 = 0x2;
/// `msg_flags` on receive: control data was cut short for lack of room.
pub const MSG_CTRUNC: u32 = 0x8;
/// On receive: return the datagram's real length even if longer than the buffer; in `msg_flags`:
/// the datagram was cut short.
pub const MSG_TRUNC: u32 = 0x20;
/// Do not block for this call only.
pub const MSG_DONTWAIT: u32 = 0x40;
/// Wait until the whole buffer is filled (or an error, or end of stream).
pub const MSG_WAITALL: u32 = 0x100;
/// No `SIGPIPE` when the peer has gone: `EPIPE` instead (always added to sends).
pub const MSG_NOSIGNAL: u32 = 0x4000;
/// Descriptors received with `SCM_RIGHTS` are close-on-exec.
pub const MSG_CMSG_CLOEXEC: u32 = 0x4000_0000;

const ALWAYS: u32 = SOCK_CLOEXEC | SOCK_NONBLOCK;

/// `socket(2)`; `SOCK_CLOEXEC | SOCK_NONBLOCK` are always added to `ty`.
pub fn socket(domain: u16, ty: u32, protocol: u32) -> Result<OwnedFd, Errno> {
    // SAFETY: socket takes no pointers.
    let fd = unsafe {
        call3(
            nr::SOCKET,
            domain as usize,
            (ty | ALWAYS) as usize,
            protocol as usize,
        )
    }?;
    // SAFETY: a new descriptor that only we hold.
    Ok(unsafe { OwnedFd::from_raw(fd as RawFd) })
}

/// `socketpair(2)`; `SOCK_CLOEXEC | SOCK_NONBLOCK` are always added to `ty`.
pub fn socketpair(domain: u16, ty: u32, protocol: u32) -> Result<(OwnedFd, OwnedFd), Errno> {
    let mut fds = [-1i32; 2];
    // SAFETY: fds is a writable array of two ints, as socketpair expects.
    unsafe {
        call4(
            nr::SOCKETPAIR,
            domain as usize,
            (ty | ALWAYS) as usize,
            protocol as usize,
            fds.as_mut_ptr() as usize,
        )
    }?;
    // SAFETY: socketpair succeeded, so both are new descriptors that only we hold.
    unsafe { Ok((OwnedFd::from_raw(fds[0]), OwnedFd::from_raw(fds[1]))) }
}

/// `bind(2)`.
pub fn bind(fd: RawFd, addr: &SockAddr) -> Result<(), Errno> {
    // SAFETY: addr is readable for len() bytes; bind stores to no user memory.
    unsafe {
        call3(
            nr::BIND,
            fd as usize,
            addr.as_ptr() as usize,
            addr.len() as usize,
        )
    }
    .map(drop)
}

/// `listen(2)`. The kernel silently caps `backlog` at `net.core.somaxconn`.
pub fn listen(fd: RawFd, backlog: i32) -> Result<(), Errno> {
    // SAFETY: listen takes no pointers.
    unsafe { call2(nr::LISTEN, fd as usize, backlog as usize) }.map(drop)
}

/// `accept4(2)` into `addr`/`addr_len`; `SOCK_CLOEXEC | SOCK_NONBLOCK` are always added to
/// `flags`. Retries `EINTR` (no connection is taken off the queue when it is reported).
///
/// # Safety
/// `addr` must be null, or valid for writes of `*addr_len` bytes with `addr_len` valid for
/// reads and writes, until the call returns.
pub unsafe fn accept_raw(
    fd: RawFd,
    addr: *mut SockAddrStorage,
    addr_len: *mut u32,
    flags: u32,
) -> Result<OwnedFd, Errno> {
    // SAFETY: the caller guarantees addr and addr_len.
    let new = retry_eintr(|| unsafe {
        call4(
            nr::ACCEPT4,
            fd as usize,
            addr as usize,
            addr_len as usize,
            (flags | ALWAYS) as usize,
        )
    })?;
    // SAFETY: a new descriptor that only we hold.
    Ok(unsafe { OwnedFd::from_raw(new as RawFd) })
}

/// `accept4(2)`, always `SOCK_CLOEXEC | SOCK_NONBLOCK`. Returns the connection and the peer's
/// address. Retries `EINTR`; `EAGAIN` means no connection is waiting.
pub fn accept4(fd: RawFd) -> Result<(OwnedFd, SockAddr), Errno> {
    let mut addr = SockAddr::empty();
    let (p, len) = addr.as_mut_parts();
    // SAFETY: p and len point into `addr`, which outlives the call; len holds its capacity.
    let new = unsafe { accept_raw(fd, p, len, 0) }?;
    Ok((new, addr))
}

/// What a non-blocking `connect` reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectStatus {
    /// The connection is established (always so for Unix sockets that succeed).
    Connected,
    /// The connection proceeds in the background (`EINPROGRESS`, or `EINTR`): wait for the
    /// socket to become writable, then read `SO_ERROR` for the outcome.
    InProgress,
}

/// `connect(2)` to `len` bytes of address at `addr`.
///
/// `EINPROGRESS` is `Ok(InProgress)`. `EINTR` is `Ok(InProgress)` too and is **not** retried:
/// the kernel keeps connecting after the interruption, and a second connect would fail with
/// `EALREADY` or `EISCONN`.
///
/// # Safety
/// `addr` must be valid for reads of `len` bytes until the call returns.
pub unsafe fn connect_raw(fd: RawFd, addr: *const u8, len: u32) -> Result<ConnectStatus, Errno> {
    // SAFETY: the caller guarantees addr; connect stores to no user memory.
    let r = unsafe { call3(nr::CONNECT, fd as usize, addr as usize, len as usize) };
    match r {
        Ok(_) => Ok(ConnectStatus::Connected),
        Err(Errno::EINPROGRESS | Errno::EINTR) => Ok(ConnectStatus::InProgress),
        Err(e) => Err(e),
    }
}

/// `connect(2)`; see [`connect_raw`] for how `EINPROGRESS` and `EINTR` come back.
pub fn connect(fd: RawFd, addr: &SockAddr) -> Result<ConnectStatus, Errno> {
    // SAFETY: addr is readable for len() bytes for the whole call.
    unsafe { connect_raw(fd, addr.as_ptr(), addr.len()) }
}

/// `getsockname(2)`: the socket's own address.
pub fn getsockname(fd: RawFd) -> Result<SockAddr, Errno> {
    name_call(nr::GETSOCKNAME, fd)
}

/// `getpeername(2)`: the connected peer's address.
pub fn getpeername(fd: RawFd) -> Result<SockAddr, Errno> {
    name_call(nr::GETPEERNAME, fd)
}

fn name_call(n: usize, fd: RawFd) -> Result<SockAddr, Errno> {
    let mut addr = SockAddr::empty();
    let (p, len) = addr.as_mut_parts();
    // SAFETY: p and len point into `addr`, which outlives the call; len holds its capacity.
    unsafe { call3(n, fd as usize, p as usize, len as usize) }?;
    Ok(addr)
}

/// `shutdown(2)` with `SHUT_RD`, `SHUT_WR` or `SHUT_RDWR`.
pub fn shutdown(fd: RawFd, how: u32) -> Result<(), Errno> {
    // SAFETY: shutdown takes no pointers.
    unsafe { call2(nr::SHUTDOWN, fd as usize, how as usize) }.map(drop)
}

/// `sendto(2)` of `len` bytes at `buf` to `addr` (null for a connected socket); `MSG_NOSIGNAL`
/// is always added. Retries `EINTR` (nothing was sent when it is reported).
///
/// # Safety
/// `buf` must be valid for reads of `len` bytes, and `addr` null or valid for reads of
/// `addr_len` bytes, until the call returns.
pub unsafe fn sendto_raw(
    fd: RawFd,
    buf: *const u8,
    len: usize,
    flags: u32,
    addr: *const u8,
    addr_len: u32,
) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees buf and addr.
    retry_eintr(|| unsafe {
        call6(
            nr::SENDTO,
            fd as usize,
            buf as usize,
            len,
            (flags | MSG_NOSIGNAL) as usize,
            addr as usize,
            addr_len as usize,
        )
    })
}

/// `send(2)` (as `sendto` with no address) of `len` bytes at `buf`; adds `MSG_NOSIGNAL`.
///
/// # Safety
/// `buf` must be valid for reads of `len` bytes until the call returns.
pub unsafe fn send_raw(fd: RawFd, buf: *const u8, len: usize, flags: u32) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees buf; a null address is allowed.
    unsafe { sendto_raw(fd, buf, len, flags, std::ptr::null(), 0) }
}

/// `send(2)` on a connected socket; adds `MSG_NOSIGNAL`. Retries `EINTR`.
pub fn send(fd: RawFd, buf: &[u8], flags: u32) -> Result<usize, Errno> {
    // SAFETY: the slice is valid for reads of its length.
    unsafe { send_raw(fd, buf.as_ptr(), buf.len(), flags) }
}

/// `sendto(2)`; adds `MSG_NOSIGNAL`. Retries `EINTR`.
pub fn sendto(fd: RawFd, buf: &[u8], flags: u32, addr: &SockAddr) -> Result<usize, Errno> {
    // SAFETY: the slice and the address are readable for their lengths.
    unsafe {
        sendto_raw(
            fd,
            buf.as_ptr(),
            buf.len(),
            flags,
            addr.as_ptr(),
            addr.len(),
        )
    }
}

/// `recvfrom(2)` into `len` bytes at `buf`, the sender's address into `addr`/`addr_len` (both
/// may be null). Retries `EINTR`. With `MSG_TRUNC` on a datagram socket the result is the
/// datagram's full length, which may exceed `len`.
///
/// # Safety
/// `buf` must be valid for writes of `len` bytes; `addr` null, or valid for writes of
/// `*addr_len` bytes with `addr_len` valid for reads and writes; until the call returns.
pub unsafe fn recvfrom_raw(
    fd: RawFd,
    buf: *mut u8,
    len: usize,
    flags: u32,
    addr: *mut SockAddrStorage,
    addr_len: *mut u32,
) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees buf, addr and addr_len.
    retry_eintr(|| unsafe {
        call6(
            nr::RECVFROM,
            fd as usize,
            buf as usize,
            len,
            flags as usize,
            addr as usize,
            addr_len as usize,
        )
    })
}

/// `recv(2)` (as `recvfrom` with no address) into `len` bytes at `buf`. Retries `EINTR`.
///
/// # Safety
/// `buf` must be valid for writes of `len` bytes until the call returns.
pub unsafe fn recv_raw(fd: RawFd, buf: *mut u8, len: usize, flags: u32) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees buf; null address pointers are allowed.
    unsafe {
        recvfrom_raw(
            fd,
            buf,
            len,
            flags,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    }
}

/// `recv(2)`. Retries `EINTR`; 0 on a stream socket means the peer shut down its side.
pub fn recv(fd: RawFd, buf: &mut [u8], flags: u32) -> Result<usize, Errno> {
    // SAFETY: the slice is valid for writes of its length.
    unsafe { recv_raw(fd, buf.as_mut_ptr(), buf.len(), flags) }
}

/// `recvfrom(2)`: the byte count and the sender's address. Retries `EINTR`.
pub fn recvfrom(fd: RawFd, buf: &mut [u8], flags: u32) -> Result<(usize, SockAddr), Errno> {
    let mut addr = SockAddr::empty();
    let (p, len) = addr.as_mut_parts();
    // SAFETY: the slice is writable for its length; p and len point into `addr`, which
    // outlives the call, and len holds its capacity.
    let n = unsafe { recvfrom_raw(fd, buf.as_mut_ptr(), buf.len(), flags, p, len) }?;
    Ok((n, addr))
}
