//! Socket options: `setsockopt`, `getsockopt`, the option names coreloop uses, and the
//! option value structs (`Linger`, `IpMreq`, `Ipv6Mreq`).
//!
//! The typed forms are generic over [`SockOptValue`], types for which any bytes the kernel
//! writes are a valid value. Neither call is retried: they do not report `EINTR`.

use super::arch::nr;
use super::call::call5;
use super::errno::Errno;
use std::os::fd::RawFd;

/// Option level: the socket itself.
pub const SOL_SOCKET: u32 = 1;
/// Allow binding an address in `TIME_WAIT`.
pub const SO_REUSEADDR: u32 = 2;
/// The socket type (`SOCK_*`); read only.
pub const SO_TYPE: u32 = 3;
/// The pending error, cleared by reading it; read only.
pub const SO_ERROR: u32 = 4;
/// Allow sending UDP to broadcast addresses.
pub const SO_BROADCAST: u32 = 6;
/// Send buffer size, in bytes (the kernel doubles the value set).
pub const SO_SNDBUF: u32 = 7;
/// Receive buffer size, in bytes (the kernel doubles the value set).
pub const SO_RCVBUF: u32 = 8;
/// Send TCP keep-alive probes.
pub const SO_KEEPALIVE: u32 = 9;
/// Whether and how long `close` waits for unsent data ([`Linger`]).
pub const SO_LINGER: u32 = 13;
/// Let several sockets bind the same address; the kernel spreads connections between them.
pub const SO_REUSEPORT: u32 = 15;

/// Option level: IPv4.
pub const IPPROTO_IP: u32 = 0;
/// Option level: TCP.
pub const IPPROTO_TCP: u32 = 6;
/// Option level: UDP.
pub const IPPROTO_UDP: u32 = 17;
/// Option level: IPv6.
pub const IPPROTO_IPV6: u32 = 41;

/// Send small segments at once, without waiting to coalesce them (no Nagle).
pub const TCP_NODELAY: u32 = 1;

/// Time to live of outgoing IPv4 packets, in hops.
pub const IP_TTL: u32 = 2;
/// Time to live of outgoing IPv4 multicast packets, in hops.
pub const IP_MULTICAST_TTL: u32 = 33;
/// Deliver IPv4 multicast packets sent by this host back to it.
pub const IP_MULTICAST_LOOP: u32 = 34;
/// Join an IPv4 multicast group ([`IpMreq`]).
pub const IP_ADD_MEMBERSHIP: u32 = 35;
/// Leave an IPv4 multicast group ([`IpMreq`]).
pub const IP_DROP_MEMBERSHIP: u32 = 36;

/// Deliver IPv6 multicast packets sent by this host back to it.
pub const IPV6_MULTICAST_LOOP: u32 = 19;
/// Join an IPv6 multicast group ([`Ipv6Mreq`]).
pub const IPV6_ADD_MEMBERSHIP: u32 = 20;
/// Leave an IPv6 multicast group ([`Ipv6Mreq`]).
pub const IPV6_DROP_MEMBERSHIP: u32 = 21;
/// An IPv6 socket accepts IPv6 only (no IPv4-mapped addresses).
pub const IPV6_V6ONLY: u32 = 26;

/// `struct linger` (for `SO_LINGER`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Linger {
    /// Non-zero: linger on close.
    pub l_onoff: i32,
    /// How long to linger, in seconds.
    pub l_linger: i32,
}

/// `struct ip_mreq` (for `IP_ADD_MEMBERSHIP` / `IP_DROP_MEMBERSHIP`); addresses in network
/// byte order, i.e. `Ipv4Addr::octets()`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpMreq {
    /// The group's address.
    pub multiaddr: [u8; 4],
    /// The local interface's address; `0.0.0.0` lets the kernel choose.
    pub interface: [u8; 4],
}

/// `struct ipv6_mreq` (for `IPV6_ADD_MEMBERSHIP` / `IPV6_DROP_MEMBERSHIP`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ipv6Mreq {
    /// The group's address.
    pub multiaddr: [u8; 16],
    /// Interface index; 0 lets the kernel choose.
    pub interface: u32,
}

/// A type that can be a socket option value.
///
/// # Safety
/// Every bit pattern of `size_of::<Self>()` bytes must be a valid `Self` (the kernel may write
/// any bytes into it), and the type must hold no pointers or references.
pub unsafe trait SockOptValue: Copy {}

// SAFETY: plain integers: every bit pattern is valid.
unsafe impl SockOptValue for i32 {}
// SAFETY: plain integers: every bit pattern is valid.
unsafe impl SockOptValue for u32 {}
// SAFETY: plain integers: every bit pattern is valid.
unsafe impl SockOptValue for u8 {}
// SAFETY: two i32s, no padding: every bit pattern is valid.
unsafe impl SockOptValue for Linger {}
// SAFETY: eight bytes, no padding: every bit pattern is valid.
unsafe impl SockOptValue for IpMreq {}
// SAFETY: sixteen bytes and a u32, no padding: every bit pattern is valid.
unsafe impl SockOptValue for Ipv6Mreq {}

/// `setsockopt(2)` with `len` bytes at `val`.
///
/// # Safety
/// `val` must be valid for reads of `len` bytes until the call returns.
pub unsafe fn setsockopt_raw(
    fd: RawFd,
    level: u32,
    name: u32,
    val: *const u8,
    len: u32,
) -> Result<(), Errno> {
    // SAFETY: the caller guarantees val.
    unsafe {
        call5(
            nr::SETSOCKOPT,
            fd as usize,
            level as usize,
            name as usize,
            val as usize,
            len as usize,
        )
    }
    .map(drop)
}

/// `getsockopt(2)` into `*len` bytes at `val`; the kernel stores the real size in `*len`.
///
/// # Safety
/// `val` must be valid for writes of `*len` bytes and `len` valid for reads and writes, until
/// the call returns.
pub unsafe fn getsockopt_raw(
    fd: RawFd,
    level: u32,
    name: u32,
    val: *mut u8,
    len: *mut u32,
) -> Result<(), Errno> {
    // SAFETY: the caller guarantees val and len.
    unsafe {
        call5(
            nr::GETSOCKOPT,
            fd as usize,
            level as usize,
            name as usize,
            val as usize,
            len as usize,
        )
    }
    .map(drop)
}

/// `setsockopt(2)` with a typed value.
pub fn setsockopt<T: SockOptValue>(fd: RawFd, level: u32, name: u32, val: &T) -> Result<(), Errno> {
    // SAFETY: val is readable for size_of::<T>() bytes for the whole call.
    unsafe {
        setsockopt_raw(
            fd,
            level,
            name,
            (val as *const T).cast(),
            size_of::<T>() as u32,
        )
    }
}

/// `getsockopt(2)` into a typed value. Bytes the kernel does not write stay zero (some
/// options, e.g. `IP_MULTICAST_LOOP`, may come back shorter than an int).
pub fn getsockopt<T: SockOptValue>(fd: RawFd, level: u32, name: u32) -> Result<T, Errno> {
    let mut val = std::mem::MaybeUninit::<T>::zeroed();
    let mut len = size_of::<T>() as u32;
    // SAFETY: val is writable for size_of::<T>() bytes, which len says; both outlive the call.
    unsafe { getsockopt_raw(fd, level, name, val.as_mut_ptr().cast(), &mut len) }?;
    // SAFETY: zeroed then partly overwritten by the kernel: every bit pattern is a valid T
    // (the SockOptValue contract).
    Ok(unsafe { val.assume_init() })
}

/// `setsockopt(2)` with an `int` value (most options: flags, sizes, TTLs).
pub fn setsockopt_int(fd: RawFd, level: u32, name: u32, val: i32) -> Result<(), Errno> {
    setsockopt(fd, level, name, &val)
}

/// `getsockopt(2)` of an `int` value.
pub fn getsockopt_int(fd: RawFd, level: u32, name: u32) -> Result<i32, Errno> {
    getsockopt(fd, level, name)
}

/// The pending error of a socket (`SO_ERROR`), cleared by reading it: how a non-blocking
/// connect reports its outcome. `Ok(None)` means no error.
pub fn take_socket_error(fd: RawFd) -> Result<Option<Errno>, Errno> {
    let e = getsockopt_int(fd, SOL_SOCKET, SO_ERROR)?;
    Ok((e != 0).then(|| Errno::from_raw(e)))
}
