//! `UdpSocket`: datagrams over IPv4/IPv6. Each send is one datagram and each receive takes
//! one: message boundaries are kept.

use crate::addr::{domain, each_addr, resolve, to_inet};
use crate::socket::Socket;
use coreloop_runtime::buf::{IoBuf, IoBufMut};
use coreloop_runtime::io::BufResult;
use coreloop_runtime::sys::socket::{
    IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP, IP_MULTICAST_LOOP, IP_TTL, IPPROTO_IP, IPPROTO_IPV6,
    IPV6_ADD_MEMBERSHIP, IPV6_DROP_MEMBERSHIP, IpMreq, Ipv6Mreq, SO_BROADCAST, SOCK_DGRAM,
    SOL_SOCKET,
};
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};

/// A UDP socket. `!Send`: it belongs to the core that made it.
///
/// # Examples
///
/// ```
/// use coreloop_net::UdpSocket;
/// use coreloop_runtime::Runtime;
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0")?;
///     let b = UdpSocket::bind("127.0.0.1:0")?;
///     a.send_to("hi", b.local_addr()?).await.0?;
///
///     let (res, buf) = b.recv_from(Vec::with_capacity(1500)).await;
///     let (n, from) = res?;
///     assert_eq!((n, from), (2, a.local_addr()?));
///     assert_eq!(buf, b"hi");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    sock: Socket,
}

impl UdpSocket {
    /// Binds to `addr` (port 0: the kernel picks one).
    pub fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        let mut last = None;
        for a in resolve(addr)? {
            let r = Socket::new(domain(&a), SOCK_DGRAM).and_then(|s| {
                s.bind(&a.into())?;
                Ok(s)
            });
            match r {
                Ok(sock) => return Ok(UdpSocket { sock }),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("resolve never returns an empty list"))
    }

    /// Sets the default destination for [`send`](Self::send) and the only source
    /// [`recv`](Self::recv) accepts. (A UDP connect never waits.)
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        each_addr(resolve(addr)?, |a| self.sock.connect(a.into())).await
    }

    /// Sends `buf` as one datagram to `addr`.
    pub async fn send_to<B: IoBuf>(&self, buf: B, addr: SocketAddr) -> BufResult<usize, B> {
        self.sock.send_to(buf, addr.into()).await
    }

    /// Receives one datagram (appended to `buf`; a longer datagram is cut to fit) and its
    /// sender.
    pub async fn recv_from<B: IoBufMut>(&self, buf: B) -> BufResult<(usize, SocketAddr), B> {
        let (res, buf) = self.sock.recv_from(buf).await;
        (res.and_then(|(n, a)| Ok((n, to_inet(&a)?))), buf)
    }

    /// Sends one datagram to the connected peer.
    pub async fn send<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
        self.sock.send(buf).await
    }

    /// Receives one datagram from the connected peer.
    pub async fn recv<B: IoBufMut>(&self, buf: B) -> BufResult<usize, B> {
        self.sock.recv_datagram(buf).await
    }

    /// The address the socket is bound to (with the port the kernel picked, after binding port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        to_inet(&self.sock.local_addr()?)
    }

    /// The address the socket is connected to; `NotConnected` if none.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        to_inet(&self.sock.peer_addr()?)
    }

    /// `SO_BROADCAST`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.sock.set_flag(SOL_SOCKET, SO_BROADCAST, on)
    }

    /// Whether `SO_BROADCAST` is set.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.sock.flag(SOL_SOCKET, SO_BROADCAST)
    }

    /// `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.sock.set_opt(IPPROTO_IP, IP_TTL, ttl as i32)
    }

    /// The `IP_TTL` of outgoing packets, in hops.
    pub fn ttl(&self) -> io::Result<u32> {
        Ok(self.sock.opt::<i32>(IPPROTO_IP, IP_TTL)? as u32)
    }

    /// `IP_MULTICAST_LOOP`.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.sock.set_flag(IPPROTO_IP, IP_MULTICAST_LOOP, on)
    }

    /// Whether `IP_MULTICAST_LOOP` is set.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.sock.flag(IPPROTO_IP, IP_MULTICAST_LOOP)
    }

    /// Joins IPv4 multicast group `group` on the interface with address `interface`
    /// (`UNSPECIFIED`: the kernel chooses).
    pub fn join_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.sock
            .set_opt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq_v4(group, interface))
    }

    /// Leaves IPv4 multicast group `group` on the interface with address `interface`
    /// (`IP_DROP_MEMBERSHIP`).
    pub fn leave_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.sock
            .set_opt(IPPROTO_IP, IP_DROP_MEMBERSHIP, mreq_v4(group, interface))
    }

    /// Joins IPv6 multicast group `group` on interface index `interface` (0: any).
    pub fn join_multicast_v6(&self, group: Ipv6Addr, interface: u32) -> io::Result<()> {
        self.sock
            .set_opt(IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, mreq_v6(group, interface))
    }

    /// Leaves IPv6 multicast group `group` on the interface with index `interface`
    /// (`IPV6_DROP_MEMBERSHIP`).
    pub fn leave_multicast_v6(&self, group: Ipv6Addr, interface: u32) -> io::Result<()> {
        self.sock.set_opt(
            IPPROTO_IPV6,
            IPV6_DROP_MEMBERSHIP,
            mreq_v6(group, interface),
        )
    }

    /// The pending socket error (`SO_ERROR`), cleared by reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.sock.take_error()
    }

    /// Takes a std socket (made non-blocking).
    pub fn from_std(s: std::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            sock: Socket::from_std(s.into())?,
        })
    }

    /// Gives the socket back as std's (still non-blocking).
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        self.sock.into_std().map(Into::into)
    }
}

fn mreq_v4(group: Ipv4Addr, interface: Ipv4Addr) -> IpMreq {
    IpMreq {
        multiaddr: group.octets(),
        interface: interface.octets(),
    }
}

fn mreq_v6(group: Ipv6Addr, interface: u32) -> Ipv6Mreq {
    Ipv6Mreq {
        multiaddr: group.octets(),
        interface,
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.raw()
    }
}
