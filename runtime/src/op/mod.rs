//! One operation, two reactors.
//!
//! # The contract
//!
//! An operation is one type in one file that implements [`OpCode`]. It holds everything the
//! kernel needs (fd, buffer, iovecs, socket address, …) and knows:
//!
//! - [`OpCode::sqe`]: its io_uring submission entry, whose pointers point into the op's own
//!   fields or into buffers it owns;
//! - [`OpCode::mode`]: how it runs without io_uring: wait until an fd is readable or writable
//!   and try once ([`Mode::Readiness`]), or, for work that has no readiness (regular files),
//!   run on the blocking pool ([`Mode::Blocking`]);
//! - [`OpCode::call`]: the syscall itself, made once. The epoll reactor calls it when the fd
//!   is ready (`EAGAIN` means wait again); the blocking pool calls it on a pool thread.
//!   This is the only place the op's syscall is written: both paths use it.
//!
//! [`Op<T>`] is the future. It keeps the op inline (what the kernel points into is on the
//! heap, so the op may move; it is boxed only for the blocking pool, which uses it through a
//! pointer), submits it to the current core's reactor and resolves to a [`Completion`]: the
//! result and the op handed back, buffers included.
//!
//! # Ownership and cancellation
//!
//! While an op is in flight on io_uring or on the blocking pool, the kernel (or the pool
//! thread) may read and write its memory. If the `Op` future is dropped then, the op's data is
//! moved into the core's in-flight table, a cancel is submitted, and the data is dropped only
//! when the completion for its key arrives. An op whose result is a new descriptor
//! ([`OpCode::YIELDS_FD`]) that completes after its future was dropped has that descriptor
//! closed. On the readiness path nothing is in flight between polls, so a drop simply stops
//! waiting.

mod lifecycle;

pub mod accept;
pub mod close;
pub mod connect;
pub mod fallocate;
pub mod fsync;
pub mod ftruncate;
pub mod mkdir;
pub mod nop;
pub mod open;
pub mod read;
pub mod readv;
pub mod recv;
pub mod recvmsg;
pub mod rename;
pub mod send;
pub mod sendmsg;
pub mod shutdown;
pub mod statx;
pub mod unlink;
pub mod write;
pub mod writev;

pub(crate) use lifecycle::{Abandoned, InFlight, Orphan};

use crate::executor::context;
use crate::sys::Errno;
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Which readiness a [`Mode::Readiness`] op waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interest {
    Readable,
    Writable,
}

/// How an op runs without io_uring.
#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// Wait until `fd` has `interest`, then [`OpCode::call`]; `EAGAIN` means wait again.
    /// A successful result below `full` means the fd was drained (a short read or write), so
    /// its readiness is cleared without spending another syscall to learn it; 0 never clears.
    Readiness {
        fd: RawFd,
        interest: Interest,
        full: usize,
    },
    /// No readiness to wait for: [`OpCode::call`] runs, blocking, on the blocking pool.
    Blocking,
    /// Nothing to wait for and nothing that blocks: [`OpCode::call`] runs at once.
    Now,
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
    pub(crate) fn mode(self, fd: RawFd, interest: Interest, full: usize) -> Mode {
        match self {
            Position::Stream => Mode::Readiness { fd, interest, full },
            Position::At(_) | Position::Cursor => Mode::Blocking,
        }
    }
}

/// One operation. See the module docs for the contract.
///
/// # Safety
/// - Every pointer in the entry returned by [`sqe`](OpCode::sqe) must point into memory the
///   op owns **on the heap** (a buffer, a boxed field), never into the op's own inline
///   fields, and be valid for the access the entry describes for as long as the op is alive.
///   The op itself may move while the kernel holds its entry: its future can be moved, and a
///   dropped future's op is moved into the in-flight table. (Keeping the op inline spares an
///   allocation per op; only what the kernel points into needs a fixed address.)
/// - For [`Mode::Blocking`] ops, [`call`](OpCode::call) runs on a pool thread while the owning
///   core does not touch the op (boxed first, so it does not move meanwhile): it must only use
///   plain data (raw pointers and integers computed beforehand), never `Rc`s or other
///   thread-bound state inside the op.
pub unsafe trait OpCode: 'static {
    /// The result of a successful call is a new fd that the op's owner must close if the
    /// op's future was dropped before it saw the result.
    const YIELDS_FD: bool = false;

    /// The io_uring entry for this op (its `user_data` is set by the reactor).
    fn sqe(&mut self) -> io_uring::squeue::Entry;

    /// False if the ring must not be given this op (an opcode newer than the kernels coreloop
    /// supports): the io_uring reactor then runs [`call`](OpCode::call) on the blocking pool,
    /// and never asks for [`sqe`](OpCode::sqe).
    fn uring_supported(&self) -> bool {
        true
    }

    /// How this op runs on the readiness reactor.
    fn mode(&self) -> Mode;

    /// Makes the op's syscall once, without blocking for readiness ops.
    fn call(&mut self) -> Result<usize, Errno>;

    /// The last completion of an op whose future was dropped has arrived: release what the
    /// result left behind. By default, the descriptor a [`YIELDS_FD`](OpCode::YIELDS_FD) op
    /// produced is closed.
    fn orphaned(&mut self, res: &Result<usize, Errno>) {
        if Self::YIELDS_FD {
            if let Ok(fd) = res {
                let _ = crate::sys::fd::close_raw(*fd as i32);
            }
        }
    }
}

/// What an [`Op`] resolves to: the syscall's result and the op, given back. For an op with
/// [`OpCode::YIELDS_FD`], a successful result is a new descriptor that now belongs to the
/// caller (each op's `finish` wraps it in an `OwnedFd`).
pub struct Completion<T> {
    pub result: io::Result<usize>,
    pub data: T,
}

/// The future of one operation on the current core's reactor. `!Send`: an op in flight
/// belongs to the core that submitted it.
pub struct Op<T: OpCode> {
    data: Option<Slot<T>>,
    /// The in-flight key and the core it is in flight on, once submitted to a ring or pool.
    submitted: Option<(u64, u64)>,
    _not_send: PhantomData<*const ()>,
}

/// Where an op's data lives: inline in its future (the ring and the readiness path need no
/// fixed address, see [`OpCode`]), or boxed when the blocking pool will run it through a
/// pointer.
enum Slot<T> {
    Inline(T),
    Boxed(Box<T>),
}

impl<T: OpCode> Slot<T> {
    fn get(&mut self) -> &mut T {
        match self {
            Slot::Inline(t) => t,
            Slot::Boxed(b) => b,
        }
    }

    fn into_inner(self) -> T {
        match self {
            Slot::Inline(t) => t,
            Slot::Boxed(b) => *b,
        }
    }

    fn into_orphan(self) -> Box<dyn Orphan> {
        match self {
            Slot::Inline(t) => Box::new(t),
            Slot::Boxed(b) => b,
        }
    }
}

impl<T: OpCode> Op<T> {
    pub fn new(data: T) -> Op<T> {
        Op {
            data: Some(Slot::Inline(data)),
            submitted: None,
            _not_send: PhantomData,
        }
    }
}

impl<T: OpCode> Unpin for Op<T> {}

impl<T: OpCode> Future for Op<T> {
    type Output = Completion<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Completion<T>> {
        let this = &mut *self;
        let result = context::with_current(|core| {
            let mut driver = core.driver.borrow_mut();
            match this.submitted {
                Some((core_id, key)) => {
                    debug_assert_eq!(core_id, core.id());
                    driver.ops.poll(key, cx)
                }
                None => {
                    let slot = this.data.as_mut().expect("Op polled after it completed");
                    if driver.runs_on_pool(slot.get()) {
                        // A pool thread will use the op through a pointer: give it a fixed
                        // address first.
                        if let Some(Slot::Inline(t)) = this.data.take() {
                            this.data = Some(Slot::Boxed(Box::new(t)));
                        }
                    }
                    let op = this.data.as_mut().expect("set above").get();
                    match driver.start(op, cx) {
                        crate::reactor::Started::Done(r) => Poll::Ready(r),
                        crate::reactor::Started::Waiting => Poll::Pending,
                        crate::reactor::Started::InFlight(key) => {
                            this.submitted = Some((core.id(), key));
                            Poll::Pending
                        }
                    }
                }
            }
        });
        let result = match result {
            Some(Poll::Pending) => return Poll::Pending,
            Some(Poll::Ready(r)) => r.map_err(io::Error::from),
            None => Err(context::no_runtime_error()),
        };
        this.submitted = None;
        let data = this
            .data
            .take()
            .expect("Op polled after it completed")
            .into_inner();
        Poll::Ready(Completion { result, data })
    }
}

impl<T: OpCode> Drop for Op<T> {
    fn drop(&mut self) {
        let Some((core_id, key)) = self.submitted else {
            return;
        };
        // Moving an inline op into a box is safe while the kernel holds its entry: the entry
        // points only into heap memory the op owns (the `OpCode` contract).
        let mut data = self.data.take().map(Slot::into_orphan);
        context::with_current(|core| {
            if core.id() == core_id {
                if let Some(d) = data.take() {
                    core.driver.borrow_mut().abandon(key, d);
                }
            }
        });
        if let Some(d) = data {
            // The core this op was in flight on is gone, so no one can tell when the kernel
            // is done with its memory: leaking it is the only safe choice. This happens only
            // if an op future outlives its runtime.
            std::mem::forget(d);
        }
    }
}
