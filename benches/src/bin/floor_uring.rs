//! The floor under every echo row: a hand-written io_uring echo server with no runtime.
//!
//! One thread, one ring, one `io_uring_enter` per loop turn (`submit_and_wait(1)`, which
//! also flushes what the turn queued). A multishot accept; per connection a multishot recv
//! that takes its buffers from a provided-buffer ring (`IORING_REGISTER_PBUF_RING`), so an
//! idle connection holds no buffer; one send in flight per connection, further data queued
//! behind it; a buffer goes back to the ring when its bytes have all been sent. Whatever a
//! runtime adds on top of this is the runtime's cost: the benches print this row beside
//! coreloop's and tokio's.
//!
//! The kernel ends a multishot op by posting a completion without `IORING_CQE_F_MORE`: an
//! accept is then armed again (after a 10 ms back-off if it failed, e.g. EMFILE, as the other
//! servers do), a recv that ran out of buffers (`ENOBUFS`) is armed again once buffers have
//! come back, and a recv that saw EOF or an error (ECONNRESET) closes the connection once its
//! queued bytes are sent. A send that fails drops what was queued and cancels the recv.
//!
//! Flags: `--addr` (127.0.0.1:8080; port 0 picks one), `--bufs N` (provided buffers, a
//! power of two, 4096), `--buf-size BYTES` (4096). SIGINT/SIGTERM end it (exit 0): they are
//! read from a signalfd through the ring, so the wait in `io_uring_enter` sees them as a
//! completion (also under valgrind, which holds signals back during a syscall it does not
//! know, such as `io_uring_enter`).
//! The pool is touched at start, so growth in resident memory is per-connection state only.

use coreloop_benches::args::Args;
use coreloop_benches::bench::procfs;
use io_uring::{IoUring, cqueue, opcode, squeue, types};
use std::collections::VecDeque;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicU16, Ordering};
use std::{alloc, io};

/// The provided-buffer group every recv selects from.
const BGID: u16 = 0;
/// Completion kinds, in the high half of `user_data`; the fd is the low half.
const ACCEPT: u64 = 1;
const RECV: u64 = 2;
const SEND: u64 = 3;
const CLOSE: u64 = 4;
const BACKOFF: u64 = 5;
const CANCEL: u64 = 6;
const SIGNAL: u64 = 7;
/// The wait before accepting again after an accept error (a `'static`: the kernel reads it
/// while the timeout is in flight).
static BACKOFF_TIME: types::Timespec = types::Timespec::new().nsec(10_000_000);

fn key(kind: u64, fd: RawFd) -> u64 {
    (kind << 32) | fd as u32 as u64
}

/// Bytes of one provided buffer still to be echoed.
#[derive(Clone, Copy)]
struct Chunk {
    bid: u16,
    off: u32,
    len: u32,
}

#[derive(Default)]
struct Conn {
    open: bool,
    recv_armed: bool,
    /// The recv has ended for good (EOF, error, cancelled): close once nothing is in flight.
    done: bool,
    /// A send failed: what arrives from now on is dropped.
    broken: bool,
    sending: Option<Chunk>,
    queued: VecDeque<Chunk>,
}

/// The provided-buffer ring and the memory of its buffers.
///
/// # Invariant
/// `entries` points to `mask + 1` ring entries, page-aligned, registered with the ring as
/// group `BGID`; `bufs` is never resized. Both live as long as the process (never freed), so
/// the kernel may write into them at any time.
struct Pool {
    entries: *mut types::BufRingEntry,
    mask: u16,
    tail: u16,
    bufs: Vec<u8>,
    size: usize,
    returned: bool,
}

impl Pool {
    fn new(ring: &IoUring, count: u16, size: usize) -> io::Result<Pool> {
        assert!(count.is_power_of_two(), "--bufs must be a power of two");
        let layout = alloc::Layout::from_size_align(count as usize * 16, 4096).expect("layout");
        // SAFETY: `layout` has a non-zero size.
        let entries = unsafe { alloc::alloc_zeroed(layout) }.cast::<types::BufRingEntry>();
        assert!(!entries.is_null(), "out of memory for the buffer ring");
        let mut pool = Pool {
            entries,
            mask: count - 1,
            tail: 0,
            // Written, not only allocated: every page is resident from the start.
            bufs: vec![0x5a; count as usize * size],
            size,
            returned: false,
        };
        // SAFETY: `entries` holds `count` entries and is never freed (the invariant).
        unsafe {
            ring.submitter()
                .register_buf_ring_with_flags(entries as u64, count, BGID, 0)?
        };
        for bid in 0..count {
            pool.give(bid);
        }
        pool.publish();
        Ok(pool)
    }

    /// Queues buffer `bid` for the kernel; it sees it at the next `publish`.
    fn give(&mut self, bid: u16) {
        // SAFETY: the index is masked into the ring (the invariant); the kernel reads only
        // entries behind the published tail, and this one is ahead of it.
        let e = unsafe { &mut *self.entries.add((self.tail & self.mask) as usize) };
        e.set_addr(self.bufs.as_ptr() as u64 + bid as u64 * self.size as u64);
        e.set_len(self.size as u32);
        e.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
        self.returned = true;
    }

    fn publish(&mut self) {
        // SAFETY: the tail is the u16 the kernel reads at entry 0 (the invariant), aligned.
        let tail = unsafe { &*types::BufRingEntry::tail(self.entries).cast::<AtomicU16>() };
        // Release: the entries written by `give` are seen before the tail that covers them.
        tail.store(self.tail, Ordering::Release);
    }

    fn ptr(&self, c: Chunk) -> *const u8 {
        self.bufs[c.bid as usize * self.size + c.off as usize..].as_ptr()
    }
}

struct Floor {
    ring: IoUring,
    pool: Pool,
    listener: RawFd,
    /// Indexed by fd: an fd is closed only when none of its ops is in flight, so a number
    /// that comes back from accept is a new connection with nothing left of the old one.
    conns: Vec<Conn>,
    /// Connections whose recv ended with ENOBUFS, to arm again when buffers come back.
    starved: Vec<RawFd>,
}

impl Floor {
    /// Queues `e`; a full submission queue is submitted first, never dropped.
    fn push(&mut self, e: squeue::Entry) {
        // SAFETY: every entry points only to the pool or the leaked siginfo buffer (both
        // live for the process) or to `BACKOFF_TIME` (static); the fds stay open while their
        // ops are in flight.
        while unsafe { self.ring.submission().push(&e) }.is_err() {
            self.ring.submit().expect("io_uring_enter");
        }
    }

    fn arm_accept(&mut self) {
        let e = opcode::AcceptMulti::new(types::Fd(self.listener))
            .flags(libc::SOCK_CLOEXEC)
            .build();
        self.push(e.user_data(key(ACCEPT, self.listener)));
    }

    fn arm_recv(&mut self, fd: RawFd) {
        self.conns[fd as usize].recv_armed = true;
        let e = opcode::RecvMulti::new(types::Fd(fd), BGID).build();
        self.push(e.user_data(key(RECV, fd)));
    }

    fn send(&mut self, fd: RawFd, c: Chunk) {
        self.conns[fd as usize].sending = Some(c);
        let e = opcode::Send::new(types::Fd(fd), self.pool.ptr(c), c.len)
            .flags(libc::MSG_NOSIGNAL)
            .build();
        self.push(e.user_data(key(SEND, fd)));
    }

    fn on_accept(&mut self, res: i32, more: bool) {
        if res >= 0 {
            let fd = res;
            set_nodelay(fd);
            if self.conns.len() <= fd as usize {
                self.conns.resize_with(fd as usize + 1, Conn::default);
            }
            self.conns[fd as usize] = Conn {
                open: true,
                ..Conn::default()
            };
            self.arm_recv(fd);
        } else {
            eprintln!("accept: {}", io::Error::from_raw_os_error(-res));
        }
        if !more {
            if res < 0 {
                let e = opcode::Timeout::new(&BACKOFF_TIME).build();
                self.push(e.user_data(key(BACKOFF, self.listener)));
            } else {
                self.arm_accept();
            }
        }
    }

    fn on_recv(&mut self, fd: RawFd, res: i32, flags: u32) {
        let c = &mut self.conns[fd as usize];
        if res > 0 {
            let bid = cqueue::buffer_select(flags).expect("a recv with data names its buffer");
            let chunk = Chunk {
                bid,
                off: 0,
                len: res as u32,
            };
            if c.broken {
                self.pool.give(bid);
            } else if c.sending.is_some() {
                c.queued.push_back(chunk);
            } else {
                self.send(fd, chunk);
            }
        }
        if cqueue::more(flags) {
            return;
        }
        let c = &mut self.conns[fd as usize];
        c.recv_armed = false;
        if res == -libc::ENOBUFS && !c.broken {
            self.starved.push(fd);
        } else if res > 0 && !c.broken {
            // The kernel ended the multishot for its own reasons (e.g. a full CQ).
            self.arm_recv(fd);
        } else {
            // EOF, ECONNRESET and friends, or the cancel after a failed send.
            c.done = true;
            self.close_if_idle(fd);
        }
    }

    fn on_send(&mut self, fd: RawFd, res: i32) {
        let c = &mut self.conns[fd as usize];
        let mut chunk = c.sending.take().expect("a send completion has its chunk");
        if res >= 0 && (res as u32) < chunk.len {
            // A short send: the rest of the same buffer goes next.
            chunk.off += res as u32;
            chunk.len -= res as u32;
            return self.send(fd, chunk);
        }
        if res >= 0 {
            self.pool.give(chunk.bid);
            if let Some(next) = c.queued.pop_front() {
                return self.send(fd, next);
            }
        } else {
            // EPIPE, ECONNRESET: nothing more goes to this peer.
            c.broken = true;
            c.done |= !c.recv_armed;
            let armed = c.recv_armed;
            for q in c.queued.drain(..).chain([chunk]) {
                self.pool.give(q.bid);
            }
            if armed {
                let e = opcode::AsyncCancel::new(key(RECV, fd)).build();
                self.push(e.user_data(key(CANCEL, fd)));
            }
        }
        self.close_if_idle(fd);
    }

    fn close_if_idle(&mut self, fd: RawFd) {
        let c = &mut self.conns[fd as usize];
        if c.open && c.done && !c.recv_armed && c.sending.is_none() {
            c.open = false;
            self.push(
                opcode::Close::new(types::Fd(fd))
                    .build()
                    .user_data(key(CLOSE, fd)),
            );
        }
    }

    /// Publishes the buffers returned this turn and arms the recvs that were waiting for them.
    fn return_buffers(&mut self) {
        if !self.pool.returned {
            return;
        }
        self.pool.returned = false;
        self.pool.publish();
        let starved = std::mem::take(&mut self.starved);
        for &fd in &starved {
            let c = &self.conns[fd as usize];
            // A closed (or closed and reused) fd has nothing to arm.
            if c.open && !c.recv_armed && !c.done {
                self.arm_recv(fd);
            }
        }
        self.starved = starved;
        self.starved.clear();
    }

    fn run(&mut self, signals: RawFd) -> io::Result<()> {
        // What the kernel writes the signal's siginfo into: lives for the process.
        let siginfo: &'static mut [u8; 128] = Box::leak(Box::new([0; 128]));
        let e = opcode::Read::new(types::Fd(signals), siginfo.as_mut_ptr(), 128).build();
        self.push(e.user_data(key(SIGNAL, signals)));
        self.arm_accept();
        let mut cqes: Vec<(u64, i32, u32)> = Vec::with_capacity(1024);
        loop {
            self.return_buffers();
            // The one enter of the turn: submits what was queued, waits for a completion.
            match self.ring.submit_and_wait(1) {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                Err(e) => return Err(e),
            }
            cqes.extend(
                self.ring
                    .completion()
                    .map(|c| (c.user_data(), c.result(), c.flags())),
            );
            for &(data, res, flags) in &cqes {
                let fd = data as u32 as RawFd;
                match data >> 32 {
                    ACCEPT => self.on_accept(res, cqueue::more(flags)),
                    RECV => self.on_recv(fd, res, flags),
                    SEND => self.on_send(fd, res),
                    BACKOFF => self.arm_accept(),
                    SIGNAL => return Ok(()),
                    // A close can only fail on a bad fd; a cancel may find its recv gone.
                    CLOSE | CANCEL => {}
                    other => unreachable!("a completion of unknown kind {other}"),
                }
            }
            cqes.clear();
        }
    }
}

fn set_nodelay(fd: RawFd) {
    let one: libc::c_int = 1;
    // SAFETY: `one` is a valid c_int for the length given.
    unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&one as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as u32,
        )
    };
}

/// A signalfd for SIGINT and SIGTERM, which are blocked so that they wait there.
fn signals() -> io::Result<RawFd> {
    // SAFETY: `set` is plain data initialised by sigemptyset; the calls get valid pointers.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        match libc::signalfd(-1, &set, libc::SFD_CLOEXEC) {
            -1 => Err(io::Error::last_os_error()),
            fd => Ok(fd),
        }
    }
}

/// A ring with the set-up flags that fit one thread (single issuer, deferred task run),
/// or a plain one on a kernel without them.
fn ring() -> io::Result<IoUring> {
    IoUring::builder()
        .setup_single_issuer()
        .setup_defer_taskrun()
        .build(4096)
        .or_else(|_| IoUring::new(4096))
}

fn main() -> io::Result<()> {
    let args = Args::from_env();
    let addr: SocketAddr = args.get("--addr", "127.0.0.1:8080".parse().expect("a valid default"));
    let bufs: u16 = args.get("--bufs", 4096);
    let size: usize = args.get("--buf-size", 4096);
    // 10,000 connections need more descriptors than the usual soft limit.
    procfs::raise_fd_limit();
    // The ring and the pool first: once the port accepts, the memory baseline is taken.
    let signals = signals()?;
    let ring = ring()?;
    let pool = Pool::new(&ring, bufs, size)?;
    let listener = TcpListener::bind(addr)?;
    // Listen again with the backlog coreloop and tokio use, not std's 128.
    // SAFETY: listen takes no pointers.
    if unsafe { libc::listen(listener.as_raw_fd(), libc::SOMAXCONN) } != 0 {
        return Err(io::Error::last_os_error());
    }
    println!(
        "listening on {} (floor: reactor uring, no runtime, {bufs} x {size} B provided buffers)",
        listener.local_addr()?
    );
    Floor {
        ring,
        pool,
        listener: listener.as_raw_fd(),
        conns: Vec::new(),
        starved: Vec::new(),
    }
    .run(signals)
}
