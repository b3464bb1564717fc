//! Pooled reads: a stream's reads into the core's buffer pool, cancel-safe on both reactors.
//!
//! A stream keeps one [`PooledRead`]. Each `read` returns a [`PooledBuf`] with what arrived
//! (empty at end of stream). How, per core:
//!
//! | core | how data arrives | an idle stream holds |
//! |---|---|---|
//! | io_uring, provided-buffer ring | one multishot recv with buffer select, armed again when the kernel ends it | no buffer |
//! | io_uring, no ring (kernel refused it) | one recv into a pool buffer, kept in flight across reads | one buffer |
//! | epoll | after readiness, a recv into a pool buffer taken just before it | no buffer |
//!
//! **Cancel safety.** What the kernel received belongs to the stream, not to the read future:
//! the multishot results queue in the reactor under the stream's key, and a single recv in
//! flight stays in the stream when its future is dropped. So `timeout(d, stream.read_pooled())`
//! in a loop never loses or reorders a byte, on either reactor. Dropping the stream cancels
//! what is in flight and gives every buffer back.
//!
//! **Exhaustion.** A read that finds the pool empty (or a multishot recv the kernel ended with
//! `ENOBUFS`) waits until a buffer comes back, counted in `BufPoolStats::exhausted`; the data
//! waits in the socket meanwhile.

use super::buf_pool::{BUF_GROUP, BufPool, PooledBuf};
use super::multishot::Multishot;
use super::op_future::no_runtime_error;
use super::{Op, Reactor, ReactorKind, with_current};
use crate::op::{Interest, Mode, OpCode, SharedFd};
use crate::sys::{Errno, socket};
use io_uring::{opcode, squeue, types};
use std::cell::{OnceCell, RefCell};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// A stream's pooled reads; see the module docs. One per stream: two tasks reading one stream
/// at once share its results (each gets whole buffers, in arrival order), and only the last
/// one to wait is woken, as with tokio's readiness.
#[derive(Debug, Default)]
pub struct PooledRead {
    state: RefCell<ReadState>,
    /// The pool of the reactor that first read (its id, so another reactor's is never used).
    pool: OnceCell<(u64, Rc<BufPool>)>,
}

#[derive(Default)]
enum ReadState {
    #[default]
    Idle,
    /// A multishot recv, possibly ended by the kernel (armed again on the next poll).
    Multi(Multishot<RecvMulti>),
    /// One recv in flight (io_uring without a provided-buffer ring; boxed: the rare case).
    Single(Box<Op<RecvPooled>>),
}

impl PooledRead {
    /// A stream's pooled-read state, with nothing in flight.
    pub fn new() -> PooledRead {
        PooledRead::default()
    }

    /// Reads what arrives on `fd` into a pool buffer; empty at end of stream.
    pub fn read<'a>(&'a self, fd: &'a SharedFd) -> ReadPooled<'a> {
        ReadPooled { reads: self, fd }
    }

    /// Polls for the next buffer of data on `fd` (always the same descriptor for one
    /// `PooledRead`); empty at end of stream.
    pub fn poll_read(&self, fd: &SharedFd, cx: &mut Context<'_>) -> Poll<io::Result<PooledBuf>> {
        let Ok(mut state) = self.state.try_borrow_mut() else {
            return Poll::Ready(Err(io::Error::other(
                "coreloop: a pooled read was polled from inside another on the same stream",
            )));
        };
        // One look-up of the core's reactor for the whole poll.
        with_current(|r| {
            if !r.spend_budget() {
                return r.budget_yield(cx);
            }
            self.poll_on(r, &mut state, fd, cx)
        })
        .unwrap_or_else(|| Poll::Ready(Err(no_runtime_error())))
    }

    #[inline]
    fn poll_on(
        &self,
        r: &Reactor,
        state: &mut ReadState,
        fd: &SharedFd,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<PooledBuf>> {
        let other;
        let pool = match self.pool.get() {
            Some((id, p)) if *id == r.id() => p,
            cached => match r.buf_pool() {
                // Kept for the next polls, unless it is a later runtime's on this thread (a
                // stream that outlived the runtime it was first read on): never cached then.
                Ok(p) if cached.is_none() => &self.pool.get_or_init(|| (r.id(), p)).1,
                Ok(p) => {
                    other = p;
                    &other
                }
                Err(e) => return Poll::Ready(Err(e)),
            },
        };
        if r.kind() == ReactorKind::Epoll {
            return poll_after_readiness(r, pool, fd, cx);
        }
        loop {
            match state {
                ReadState::Multi(m) => {
                    let armed_before = m.arms();
                    let shot = match m.poll_next_on(r, cx) {
                        Poll::Pending => {
                            if m.arms() > 1 && m.arms() > armed_before {
                                pool.count_rearm();
                            }
                            return Poll::Pending;
                        }
                        Poll::Ready(shot) => shot,
                    };
                    match shot.res {
                        Ok(n) => {
                            if let Some(id) = io_uring::cqueue::buffer_select(shot.flags) {
                                return Poll::Ready(Ok(PooledBuf::filled(pool, id, n)));
                            }
                            if n == 0 {
                                return Poll::Ready(Ok(PooledBuf::eof()));
                            }
                            // A result with data but no buffer: impossible with buffer select.
                            return Poll::Ready(Err(io::Error::other(
                                "coreloop: a multishot recv reported data without a buffer",
                            )));
                        }
                        // The ring ran dry and the kernel ended the recv: wait for a buffer,
                        // then arm it again (the data waits in the socket).
                        Err(Errno::ENOBUFS) => {
                            pool.ring_ran_dry();
                            if pool.wait_for_buffer(cx.waker()) {
                                return Poll::Pending;
                            }
                        }
                        Err(e) => return Poll::Ready(Err(e.into())),
                    }
                }
                ReadState::Single(op) => match Pin::new(&mut **op).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(res) => {
                        *state = ReadState::Idle;
                        match res {
                            Err(e) if e.raw_os_error() == Some(Errno::ENOBUFS.raw()) => {
                                if pool.wait_for_buffer(cx.waker()) {
                                    return Poll::Pending;
                                }
                            }
                            res => return Poll::Ready(res),
                        }
                    }
                },
                ReadState::Idle => {
                    if !pool.has_free() && pool.wait_for_buffer(cx.waker()) {
                        return Poll::Pending;
                    }
                    *state = if pool.kernel_ring() {
                        ReadState::Multi(Multishot::new(RecvMulti { fd: fd.clone() }))
                    } else {
                        // The kernel writes the buffer while the recv is in flight: it is taken
                        // now, and kept by the op (in this state) until it completes.
                        ReadState::Single(Box::new(Op::new(RecvPooled {
                            fd: fd.clone(),
                            pool: pool.clone(),
                            id: pool.take(),
                        })))
                    };
                }
            }
        }
    }
}

/// The future of [`PooledRead::read`]: two references, nothing else (what arrives is kept by
/// the `PooledRead`, so dropping this loses nothing).
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ReadPooled<'a> {
    reads: &'a PooledRead,
    fd: &'a SharedFd,
}

impl Future for ReadPooled<'_> {
    type Output = io::Result<PooledBuf>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<PooledBuf>> {
        self.reads.poll_read(self.fd, cx)
    }
}

impl std::fmt::Debug for ReadState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ReadState::Idle => "Idle",
            ReadState::Multi(_) => "Multishot",
            ReadState::Single(_) => "Single",
        })
    }
}

/// Epoll: once `fd` is readable, a recv into a buffer taken right before it (given back at once
/// if nothing came), so an idle stream holds none; nothing is in flight between polls, so a
/// dropped read loses nothing.
#[inline]
fn poll_after_readiness(
    r: &Reactor,
    pool: &Rc<BufPool>,
    fd: &SharedFd,
    cx: &mut Context<'_>,
) -> Poll<io::Result<PooledBuf>> {
    let size = pool.buf_size();
    for _ in 0..8 {
        let mut filled = None;
        let call = || {
            let id = pool.take().ok_or(Errno::ENOBUFS)?;
            // SAFETY: buffer `id` was just taken (by this call alone) and holds `size` bytes.
            let res = unsafe { socket::recv_raw(fd.raw(), pool.buf_ptr(id), size, 0) };
            match res {
                Ok(n) if n > 0 => filled = Some(id),
                _ => {
                    // Nothing came: straight back. No read waits for a buffer (they wait only
                    // while none is free, and this one was), so no one needs waking.
                    let waiting = pool.put_back(id);
                    debug_assert!(!waiting);
                }
            }
            res
        };
        return match r.poll_ready_call(fd, Interest::Readable, Some(size), call, cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(n)) => Poll::Ready(Ok(match filled {
                Some(id) => PooledBuf::filled(pool, id, n),
                None => PooledBuf::eof(),
            })),
            // Nothing happened: make it again (a few times, then let the task yield).
            Poll::Ready(Err(Errno::EINTR)) => continue,
            Poll::Ready(Err(Errno::ENOBUFS)) => {
                if pool.wait_for_buffer(cx.waker()) {
                    Poll::Pending
                } else {
                    continue;
                }
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e.into())),
        };
    }
    cx.waker().wake_by_ref();
    Poll::Pending
}

/// A multishot recv with buffer select from the core's pool (io_uring only).
#[derive(Debug)]
struct RecvMulti {
    fd: SharedFd,
}

// SAFETY: the entry points to no memory: the kernel picks a buffer from the registered ring,
// which the reactor's pool keeps alive; the descriptor is the op's own `SharedFd`.
unsafe impl OpCode for RecvMulti {
    type Output = ();

    const NAME: &'static str = "recv_multi";

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        Some(opcode::RecvMulti::new(types::Fd(self.fd.raw()), BUF_GROUP).build())
    }

    fn mode(&self) -> Mode<'_> {
        Mode::readable(&self.fd)
    }

    fn call(&mut self) -> Result<usize, Errno> {
        // Multishot ops run on io_uring only (`Multishot` refuses any other core).
        Err(Errno::EOPNOTSUPP)
    }

    fn finish(self, _: io::Result<usize>) {}
}

/// One recv into a pool buffer taken before submission (io_uring without a provided-buffer
/// ring). The buffer goes back unless data arrived.
#[derive(Debug)]
struct RecvPooled {
    fd: SharedFd,
    pool: Rc<BufPool>,
    id: Option<u16>,
}

// SAFETY: the entry points into pool buffer `id`, which the op holds (taken, never handed out
// twice) until it drops or finishes, in memory the pool's `Rc` keeps in place; the descriptor is
// the op's own `SharedFd`.
unsafe impl OpCode for RecvPooled {
    type Output = io::Result<PooledBuf>;

    const NAME: &'static str = "recv_pooled";

    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        let id = self
            .id
            .expect("coreloop: a ring recv takes its pool buffer before it is submitted");
        let len = self.pool.buf_size().min(u32::MAX as usize) as u32;
        Some(opcode::Recv::new(types::Fd(self.fd.raw()), self.pool.buf_ptr(id), len).build())
    }

    fn mode(&self) -> Mode<'_> {
        Mode::Readiness {
            fd: &self.fd,
            interest: Interest::Readable,
            drained_below: Some(self.pool.buf_size()),
        }
    }

    fn call(&mut self) -> Result<usize, Errno> {
        let took = self.id.is_none();
        let id = match self.id {
            Some(id) => id,
            None => self.pool.take().ok_or(Errno::ENOBUFS)?,
        };
        // SAFETY: buffer `id` is taken (by this op alone) and holds buf_size bytes.
        let res = unsafe {
            socket::recv_raw(
                self.fd.raw(),
                self.pool.buf_ptr(id),
                self.pool.buf_size(),
                0,
            )
        };
        match res {
            Ok(n) if n > 0 => self.id = Some(id),
            _ if took => {
                // Nothing came: the buffer goes straight back. No read waits for one (they wait
                // only while none is free, and this one was), so no one needs waking.
                let waiting = self.pool.put_back(id);
                debug_assert!(!waiting);
            }
            _ => {}
        }
        res
    }

    fn finish(mut self, res: io::Result<usize>) -> io::Result<PooledBuf> {
        let n = res?;
        match self.id.take() {
            Some(id) if n > 0 => Ok(PooledBuf::filled(&self.pool, id, n)),
            Some(id) => {
                self.give_back(id);
                Ok(PooledBuf::eof())
            }
            None => Ok(PooledBuf::eof()),
        }
    }
}

impl RecvPooled {
    fn give_back(&self, id: u16) {
        if self.pool.put_back(id) {
            for w in self.pool.take_waiters() {
                w.wake();
            }
        }
    }
}

impl Drop for RecvPooled {
    fn drop(&mut self) {
        // Dropped unfinished (a stream closed with a recv in flight, released after its last
        // completion, outside every runtime borrow): the buffer goes back.
        if let Some(id) = self.id.take() {
            self.give_back(id);
        }
    }
}
