//! One operation, two reactors. **Unstable**: for `coreloop-net`, `coreloop-fs` and power
//! users; the facade does not re-export it at its top level.
//!
//! # The contract
//!
//! An operation is one type in one file that implements [`OpCode`]. It holds everything the
//! kernel needs (its descriptor as a [`SharedFd`], buffers, iovecs, socket address, …) and
//! knows:
//!
//! - [`OpCode::uring_entry`]: how it runs on io_uring — its submission entry, whose pointers
//!   point only into heap memory the op owns, or `None` to run [`OpCode::call`] on the
//!   blocking pool instead;
//! - [`OpCode::mode`]: how it runs without io_uring: wait until a descriptor is readable or
//!   writable and try once ([`Mode::Readiness`]), run on the blocking pool
//!   ([`Mode::Blocking`]), or run at once ([`Mode::Now`]);
//! - [`OpCode::call`]: the syscall itself, made once. The epoll reactor calls it when the fd
//!   is ready (`EAGAIN` means wait again); the blocking pool calls it on a pool thread. This
//!   is the only place the op's syscall is written: both paths use it;
//! - [`OpCode::finish`]: what the caller gets — the result with its buffers handed back, a
//!   new descriptor wrapped, a count clamped to the room that was given.
//!
//! The `Op<T>` future (in the reactor, which runs it) submits an op to the current core's
//! reactor and resolves to `T::Output`: `Op::new(Recv::new(&fd, buf, 0)).await` is the whole
//! call.
//!
//! # Ownership and cancellation
//!
//! While an op is in flight on io_uring or on the blocking pool, the kernel (or the pool
//! thread) may read and write its memory **and use its descriptor**. If the `Op` future is
//! dropped then, the op's data — buffers, addresses and the `SharedFd` that keeps the
//! descriptor open — is moved into the reactor's in-flight table, a cancel is submitted, and
//! the data is dropped only when the completion for its key arrives. So a descriptor number
//! is closed only when no op can still use it, and nothing the kernel writes is freed early.
//! An op whose result is a new descriptor ([`OpCode::YIELDS_FD`]) that completes after its
//! future was dropped has that descriptor closed. On the readiness path nothing is in flight
//! between polls, so a drop simply stops waiting.

mod fd;

pub mod accept;
pub mod chmod;
pub mod close;
pub mod connect;
pub mod fallocate;
pub mod fsync;
pub mod ftruncate;
pub mod getdents;
pub mod link;
pub mod mkdir;
pub mod nop;
pub mod open;
pub mod read;
pub mod readlink;
pub mod readv;
pub mod recv;
pub mod recvmsg;
pub mod rename;
pub mod send;
pub mod sendmsg;
pub mod shutdown;
pub mod statx;
pub mod symlink;
pub mod unlink;
pub mod write;
pub mod writev;

pub use fd::{DirFd, SharedFd};

use crate::sys::Errno;
use std::io;

/// Which readiness a [`Mode::Readiness`] op waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interest {
    /// Data (or a connection, or end of stream) to read.
    Readable,
    /// Room to write.
    Writable,
}

/// How an op runs without io_uring.
#[derive(Clone, Copy, Debug)]
pub enum Mode<'a> {
    /// Wait until `fd` has `interest`, then [`OpCode::call`]; `EAGAIN` means wait again.
    Readiness {
        /// The descriptor to watch.
        fd: &'a SharedFd,
        /// The direction to wait for.
        interest: Interest,
        /// `Some(n)`: a successful result below `n` means the descriptor was drained (a short
        /// read or write), so its readiness is cleared without spending another syscall to
        /// learn it. `None`: a result never says so (datagrams, peeks, accepts).
        drained_below: Option<usize>,
    },
    /// No readiness to wait for: [`OpCode::call`] runs, blocking, on the blocking pool.
    Blocking,
    /// Nothing to wait for and nothing that blocks: [`OpCode::call`] runs at once.
    Now,
}

impl<'a> Mode<'a> {
    /// Wait until `fd` is readable; a result never says it was drained (accepts, multishot
    /// ops, datagrams).
    pub fn readable(fd: &'a SharedFd) -> Mode<'a> {
        Mode::Readiness {
            fd,
            interest: Interest::Readable,
            drained_below: None,
        }
    }
}

/// Where a read or write happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// A socket, pipe or terminal: no offset, and readiness to wait for.
    Stream,
    /// A regular file at this offset (pread/pwrite); the file offset does not move.
    At(u64),
    /// A regular file at its own offset, which moves (read/write).
    Cursor,
}

impl Position {
    /// The offset field of an io_uring entry: -1 means "the file's own offset".
    pub(crate) fn uring_offset(self) -> u64 {
        match self {
            Position::At(off) => off,
            Position::Stream | Position::Cursor => u64::MAX,
        }
    }

    /// Streams wait for readiness; files run on the blocking pool.
    pub(crate) fn mode(self, fd: &SharedFd, interest: Interest, full: usize) -> Mode<'_> {
        match self {
            Position::Stream => Mode::Readiness {
                fd,
                interest,
                drained_below: Some(full),
            },
            Position::At(_) | Position::Cursor => Mode::Blocking,
        }
    }
}

/// One operation. See the module docs for the contract.
///
/// # Safety
/// - Every pointer in the entry returned by [`uring_entry`](OpCode::uring_entry) must point
///   into memory the op owns **on the heap** (a buffer, a boxed field), never into the op's
///   own inline fields, and be valid for the access the entry describes for as long as the op
///   is alive. The op itself may move while the kernel holds its entry: its future can be
///   moved, and a dropped future's op is moved into the in-flight table. (Keeping the op
///   inline spares an allocation per op; only what the kernel points into needs a fixed
///   address.) Debug builds check this on every entry.
/// - Every descriptor the entry or [`call`](OpCode::call) uses must be kept open by the op
///   itself (a [`SharedFd`] or [`DirFd`] field, or an owned descriptor it hands to the
///   kernel), never named by a bare number someone else may close.
/// - For ops that run on the blocking pool, [`call`](OpCode::call) runs on a pool thread
///   while the owning core does not touch the op: it must only use plain data (raw pointers
///   and integers computed beforehand), never `Rc`s or other thread-bound state inside the
///   op. (The `SharedFd` stays in the op, untouched, while `call` uses its number.)
pub unsafe trait OpCode: 'static {
    /// What the op's future resolves to.
    type Output;

    /// The op's kind in per-op latency figures (`"recv"`, `"accept"`, …).
    const NAME: &'static str = "other";

    /// The result of a successful call is a new fd that the op's owner must close if the
    /// op's future was dropped before it saw the result.
    const YIELDS_FD: bool = false;

    /// Whether an `EINTR` result means "nothing happened, make it again": true for every op
    /// but `Close` (Linux releases the descriptor before reporting `EINTR`, so a close is
    /// never made twice). The readiness path and the pool retry inside the syscall layer; an
    /// io_uring completion with `EINTR` is submitted again by the `Op` future.
    const RETRY_EINTR: bool = true;

    /// An op that cannot run as asked fails at once with this error, before anything is
    /// submitted (a read into a buffer with no spare capacity).
    fn refusal(&self) -> Option<io::Error> {
        None
    }

    /// How this op runs on io_uring: its entry (its `user_data` is set by the reactor), or
    /// `None` to run [`call`](OpCode::call) on the blocking pool (an opcode newer than the
    /// kernels coreloop supports). Called once, when the op is submitted.
    fn uring_entry(&mut self) -> Option<io_uring::squeue::Entry>;

    /// How this op runs on the readiness reactor.
    fn mode(&self) -> Mode<'_>;

    /// Makes the op's syscall once, without blocking for readiness ops.
    fn call(&mut self) -> Result<usize, Errno>;

    /// What the caller gets from the op's result: buffers handed back, counts clamped to the
    /// room given, a new descriptor owned.
    fn finish(self, res: io::Result<usize>) -> Self::Output
    where
        Self: Sized;

    /// The last completion of an op whose future was dropped has arrived: release what the
    /// result left behind. By default, the descriptor a [`YIELDS_FD`](OpCode::YIELDS_FD) op
    /// produced is closed.
    fn orphaned(&mut self, res: &Result<usize, Errno>) {
        if Self::YIELDS_FD {
            if let Ok(fd) = res {
                // SAFETY: a YIELDS_FD op's successful result is a new descriptor that only
                // this op has seen, and its future (the only other taker) is gone.
                drop(unsafe { crate::sys::OwnedFd::from_raw(*fd as i32) });
            }
        }
    }
}

/// The error of a read whose buffer has no spare capacity: a read appends after the
/// initialized bytes, so there is nowhere to put data (and `Ok(0)` would read as end of
/// stream). One message for ops and for the in-memory readers of `io`.
pub(crate) use crate::io::no_room_error;
