//! The in-flight table: ops that the kernel or the blocking pool holds right now.
//!
//! A key is `slot | seq << 32`: the slot in a slab and a per-slot sequence number, so that a
//! late cancel or completion for a reused slot can never touch the op that uses it now.
//! Keys never have the top bit set; the reactors keep those values for their own entries.

use super::OpCode;
use crate::sys::Errno;
use crate::sys::fd::close_raw;
use slab::Slab;
use std::task::{Context, Poll, Waker};

/// An op whose future was dropped while it was in flight: kept alive until its completion.
pub(crate) trait Orphan {
    /// Its completion arrived: close the fd it produced, if it produced one.
    fn finish(self: Box<Self>, res: &Result<usize, Errno>);
}

impl<T: OpCode> Orphan for T {
    fn finish(self: Box<Self>, res: &Result<usize, Errno>) {
        if T::YIELDS_FD {
            if let Ok(fd) = res {
                let _ = close_raw(*fd as i32);
            }
        }
    }
}

enum State {
    Waiting(Option<Waker>),
    Completed(Result<usize, Errno>),
    Orphaned(Box<dyn Orphan>),
}

struct Entry {
    seq: u32,
    state: State,
}

pub(crate) struct InFlight {
    slab: Slab<Entry>,
    next_seq: u32,
}

impl InFlight {
    pub(crate) fn new() -> InFlight {
        InFlight {
            slab: Slab::new(),
            next_seq: 0,
        }
    }

    /// How many ops the kernel or the pool still holds, orphans included.
    pub(crate) fn len(&self) -> usize {
        self.slab.len()
    }

    pub(crate) fn insert(&mut self, waker: &Waker) -> u64 {
        self.next_seq = (self.next_seq + 1) & 0x7fff_ffff;
        let seq = self.next_seq;
        let slot = self.slab.insert(Entry {
            seq,
            state: State::Waiting(Some(waker.clone())),
        });
        slot as u64 | (seq as u64) << 32
    }

    fn entry(&mut self, key: u64) -> Option<&mut Entry> {
        let slot = (key & 0xffff_ffff) as usize;
        let seq = (key >> 32) as u32;
        self.slab.get_mut(slot).filter(|e| e.seq == seq)
    }

    /// The future of `key` polls: its result if it has come, else the waker is kept.
    pub(crate) fn poll(&mut self, key: u64, cx: &mut Context<'_>) -> Poll<Result<usize, Errno>> {
        let Some(entry) = self.entry(key) else {
            return Poll::Ready(Err(Errno::ECANCELED));
        };
        match &mut entry.state {
            State::Waiting(w) => {
                if !w.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *w = Some(cx.waker().clone());
                }
                Poll::Pending
            }
            State::Completed(_) => {
                let slot = (key & 0xffff_ffff) as usize;
                match self.slab.remove(slot).state {
                    State::Completed(r) => Poll::Ready(r),
                    _ => unreachable!("matched Completed above"),
                }
            }
            State::Orphaned(_) => unreachable!("a live future's op is never orphaned"),
        }
    }

    /// The completion for `key` arrived. Returns the waker to wake, if any.
    pub(crate) fn complete(&mut self, key: u64, res: Result<usize, Errno>) -> Option<Waker> {
        let entry = self.entry(key)?;
        match &mut entry.state {
            State::Waiting(w) => {
                let w = w.take();
                entry.state = State::Completed(res);
                w
            }
            State::Completed(_) => None,
            State::Orphaned(_) => {
                let slot = (key & 0xffff_ffff) as usize;
                if let State::Orphaned(op) = self.slab.remove(slot).state {
                    op.finish(&res);
                }
                None
            }
        }
    }

    /// The future of `key` was dropped. Returns true if the op is still in flight (the
    /// caller should ask the kernel to cancel it); false if it had completed and was freed.
    pub(crate) fn abandon(&mut self, key: u64, op: Box<dyn Orphan>) -> bool {
        let Some(entry) = self.entry(key) else {
            return false;
        };
        match &entry.state {
            State::Completed(res) => {
                let res = *res;
                self.slab.remove((key & 0xffff_ffff) as usize);
                op.finish(&res);
                false
            }
            _ => {
                entry.state = State::Orphaned(op);
                true
            }
        }
    }

    /// Every key still in flight (for shutdown: cancel them all).
    pub(crate) fn keys(&self) -> Vec<u64> {
        self.slab
            .iter()
            .map(|(slot, e)| slot as u64 | (e.seq as u64) << 32)
            .collect()
    }

    /// Gives up on every op still in flight without freeing its memory (shutdown timed out:
    /// the kernel may still write there).
    pub(crate) fn leak_all(&mut self) {
        for entry in self.slab.drain() {
            std::mem::forget(entry);
        }
    }
}
