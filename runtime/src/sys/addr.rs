//! `SockAddr`: a socket address in the kernel's own layout, ready to hand to a syscall.
//!
//! A `sockaddr_storage`-sized, 8-aligned buffer plus the length the kernel uses. It is built
//! from a `std::net::SocketAddr` (IPv4 or IPv6), a Unix path, an abstract Unix name, or left
//! empty for the kernel to fill (accept, recvfrom, getsockname), and read back the same ways.
//!
//! Byte order: ports and IP addresses are stored in network byte order. The IPv6 flow info is
//! stored exactly as `SocketAddrV6::flowinfo()` gives it and `scope_id` in host order, the same
//! as std and socket2 do, so an address round-trips unchanged between coreloop and std.
//!
//! Unix paths must be shorter than `sun_path` (108 bytes, leaving room for the terminating
//! NUL), non-empty and free of interior NULs; otherwise construction fails with `EINVAL`,
//! which `std::io::Error` reports as `ErrorKind::InvalidInput`.

use super::errno::Errno;
use std::ffi::OsStr;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `AF_UNIX`.
pub const AF_UNIX: u16 = 1;
/// `AF_INET`.
pub const AF_INET: u16 = 2;
/// `AF_INET6`.
pub const AF_INET6: u16 = 10;

/// `sizeof(struct sockaddr_storage)`.
pub const SOCKADDR_STORAGE_LEN: usize = 128;
/// Offset of `sun_path` in `struct sockaddr_un` (after `sun_family`).
const SUN_PATH_OFFSET: usize = 2;
/// `sizeof(sun_path)`.
pub const SUN_PATH_LEN: usize = 108;
const SOCKADDR_IN_LEN: u32 = 16;
const SOCKADDR_IN6_LEN: u32 = 28;

/// `struct sockaddr_storage`: 128 bytes, aligned for any address family.
#[repr(C, align(8))]
#[derive(Clone, Copy)]
pub struct SockAddrStorage {
    /// Address family (`AF_*`).
    pub family: u16,
    /// The family-specific rest of the address.
    pub data: [u8; SOCKADDR_STORAGE_LEN - 2],
}

impl SockAddrStorage {
    /// All zero (family `AF_UNSPEC`).
    pub const fn zeroed() -> SockAddrStorage {
        SockAddrStorage {
            family: 0,
            data: [0; SOCKADDR_STORAGE_LEN - 2],
        }
    }
}

/// A socket address: storage plus the length in use.
///
/// # Invariant
/// None the kernel relies on: `len` may be anything the kernel wrote; readers clamp it to the
/// storage size before looking.
#[derive(Clone, Copy)]
pub struct SockAddr {
    storage: SockAddrStorage,
    len: u32,
}

impl SockAddr {
    /// Zeroed storage with `len` set to the full storage size: what accept, recvfrom,
    /// getsockname and getpeername expect to fill.
    pub const fn empty() -> SockAddr {
        SockAddr {
            storage: SockAddrStorage::zeroed(),
            len: SOCKADDR_STORAGE_LEN as u32,
        }
    }

    /// An unnamed Unix address (family only), as an unbound socketpair end reports.
    pub const fn unix_unnamed() -> SockAddr {
        let mut a = SockAddr::empty();
        a.storage.family = AF_UNIX;
        a.len = SUN_PATH_OFFSET as u32;
        a
    }

    /// A Unix path address. `EINVAL` if the path is empty, holds a NUL byte, or does not fit
    /// in `sun_path` with its terminating NUL.
    pub fn unix(path: &Path) -> Result<SockAddr, Errno> {
        let bytes = path.as_os_str().as_bytes();
        if bytes.is_empty() || bytes.len() >= SUN_PATH_LEN || bytes.contains(&0) {
            return Err(Errno::EINVAL);
        }
        let mut a = SockAddr::unix_unnamed();
        a.storage.data[..bytes.len()].copy_from_slice(bytes);
        // The kernel counts the terminating NUL (already zero) in the length, as getsockname
        // reports it back.
        a.len = (SUN_PATH_OFFSET + bytes.len() + 1) as u32;
        Ok(a)
    }

    /// An abstract Unix address: `sun_path` starts with a NUL byte, then `name` (which may
    /// hold any bytes). `EINVAL` if `name` is longer than 107 bytes.
    pub fn unix_abstract(name: &[u8]) -> Result<SockAddr, Errno> {
        if name.len() >= SUN_PATH_LEN {
            return Err(Errno::EINVAL);
        }
        let mut a = SockAddr::unix_unnamed();
        a.storage.data[1..1 + name.len()].copy_from_slice(name);
        a.len = (SUN_PATH_OFFSET + 1 + name.len()) as u32;
        Ok(a)
    }

    /// The address family (`AF_INET`, `AF_INET6`, `AF_UNIX`, or 0 when empty).
    pub fn family(&self) -> u16 {
        self.storage.family
    }

    /// Pointer to the address, for the kernel to read `len()` bytes.
    pub fn as_ptr(&self) -> *const u8 {
        (&raw const self.storage).cast()
    }

    /// The length in use.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// True when no bytes are in use (never for an address built here).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Pointer to the storage, for the kernel to fill (with [`len_mut`](Self::len_mut)).
    pub fn as_mut_ptr(&mut self) -> *mut SockAddrStorage {
        &raw mut self.storage
    }

    /// The length field, for the kernel to read as capacity and overwrite with the real size.
    pub fn len_mut(&mut self) -> &mut u32 {
        &mut self.len
    }

    /// Both halves at once, for an operation that keeps them at a stable address while the
    /// kernel fills them in.
    pub fn as_mut_parts(&mut self) -> (*mut SockAddrStorage, *mut u32) {
        (&raw mut self.storage, &raw mut self.len)
    }

    /// The bytes in use (length clamped to the storage size).
    fn bytes(&self) -> &[u8] {
        let len = (self.len as usize).min(SOCKADDR_STORAGE_LEN);
        // SAFETY: storage is a plain 128-byte repr(C) struct with no padding (u16 + [u8; 126]),
        // so all of it is initialised and readable as bytes; len is clamped to its size.
        unsafe { std::slice::from_raw_parts(self.as_ptr(), len) }
    }

    /// The IPv4 or IPv6 address, if this is one.
    pub fn as_socket_addr(&self) -> Option<SocketAddr> {
        let b = self.bytes();
        let port = |b: &[u8]| u16::from_be_bytes([b[2], b[3]]);
        match self.family() {
            AF_INET if b.len() >= SOCKADDR_IN_LEN as usize => {
                let ip = Ipv4Addr::new(b[4], b[5], b[6], b[7]);
                Some(SocketAddr::V4(SocketAddrV4::new(ip, port(b))))
            }
            AF_INET6 if b.len() >= SOCKADDR_IN6_LEN as usize => {
                let flowinfo = u32::from_ne_bytes(b[4..8].try_into().ok()?);
                let ip: [u8; 16] = b[8..24].try_into().ok()?;
                let scope_id = u32::from_ne_bytes(b[24..28].try_into().ok()?);
                let ip = Ipv6Addr::from(ip);
                Some(SocketAddr::V6(SocketAddrV6::new(
                    ip,
                    port(b),
                    flowinfo,
                    scope_id,
                )))
            }
            _ => None,
        }
    }

    /// `sun_path` bytes in use, if this is a Unix address.
    fn sun_path(&self) -> Option<&[u8]> {
        (self.family() == AF_UNIX).then(|| self.bytes().get(SUN_PATH_OFFSET..).unwrap_or(&[]))
    }

    /// The path, if this is a Unix path address (not abstract, not unnamed).
    pub fn as_unix_path(&self) -> Option<&Path> {
        let p = self.sun_path()?;
        if p.first().is_none_or(|&c| c == 0) {
            return None;
        }
        // The kernel may or may not count a terminating NUL; the path ends at the first one.
        let end = p.iter().position(|&c| c == 0).unwrap_or(p.len());
        Some(Path::new(OsStr::from_bytes(&p[..end])))
    }

    /// The name (without the leading NUL), if this is an abstract Unix address.
    pub fn as_abstract(&self) -> Option<&[u8]> {
        match self.sun_path()? {
            [0, name @ ..] => Some(name),
            _ => None,
        }
    }

    /// True for a Unix address with no path and no abstract name.
    pub fn is_unnamed_unix(&self) -> bool {
        self.sun_path().is_some_and(|p| p.is_empty())
    }
}

impl Default for SockAddr {
    fn default() -> SockAddr {
        SockAddr::empty()
    }
}

impl From<SocketAddr> for SockAddr {
    fn from(addr: SocketAddr) -> SockAddr {
        let mut a = SockAddr::empty();
        let d = &mut a.storage.data;
        // `data` starts right after the family, at byte 2 of the sockaddr.
        d[..2].copy_from_slice(&addr.port().to_be_bytes());
        match addr {
            SocketAddr::V4(v4) => {
                a.storage.family = AF_INET;
                d[2..6].copy_from_slice(&v4.ip().octets());
                a.len = SOCKADDR_IN_LEN;
            }
            SocketAddr::V6(v6) => {
                a.storage.family = AF_INET6;
                d[2..6].copy_from_slice(&v6.flowinfo().to_ne_bytes());
                d[6..22].copy_from_slice(&v6.ip().octets());
                d[22..26].copy_from_slice(&v6.scope_id().to_ne_bytes());
                a.len = SOCKADDR_IN6_LEN;
            }
        }
        a
    }
}

impl fmt::Debug for SockAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(sa) = self.as_socket_addr() {
            return write!(f, "SockAddr({sa})");
        }
        if let Some(p) = self.as_unix_path() {
            return write!(f, "SockAddr(unix {p:?})");
        }
        if let Some(n) = self.as_abstract() {
            return write!(
                f,
                "SockAddr(unix abstract {:?})",
                n.escape_ascii().to_string()
            );
        }
        if self.is_unnamed_unix() {
            return f.write_str("SockAddr(unix unnamed)");
        }
        write!(f, "SockAddr(family {}, len {})", self.family(), self.len)
    }
}
