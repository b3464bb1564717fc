//! The in-flight table: ops that the kernel or the blocking pool holds right now.
//!
//! A key is `slot | seq << 32`: the slot in a slab and a per-slot sequence number, so that a
//! late cancel or completion for a reused slot can never touch the op that uses it now.
//! Keys never have the top bit set; the reactors keep those values for their own entries.

use super::OpCode;
use crate::sys::Errno;
use slab::Slab;
use std::task::{Context, Poll, Waker};

/// An op whose future was dropped while it was in flight: kept alive until its completion.
pub(crate) trait Orphan {
    /// Its completion arrived: release what the result left behind (`OpCode::orphaned`).
    fn finish(self: Box<Self>, res: &Result<usize, Errno>);
}

impl<T: OpCode> Orphan for T {
    fn finish(mut self: Box<Self>, res: &Result<usize, Errno>) {
        self.orphaned(res);
    }
}

enum State {
    Waiting(Option<Waker>),
    Completed(Result<usize, Errno>),
    Orphaned(Box<dyn Orphan>),
}

struct Entry {
    seq: u32,
    /// Where the op runs: on the ring (cancellable there) or on the blocking pool (which
    /// finishes it regardless).
    on_ring: bool,
    state: State,
}

/// What [`InFlight::abandon`] did with an op whose future was dropped.
pub(crate) enum Abandoned {
    /// Its completion had come: its data is freed.
    Freed,
    /// Still held by the kernel or the pool; kept until its completion. Only an op on the
    /// ring can be asked to stop early.
    InFlight { on_ring: bool },
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

    /// A new in-flight op, on the ring or on the blocking pool.
    pub(crate) fn insert(&mut self, waker: &Waker, on_ring: bool) -> u64 {
        self.next_seq = (self.next_seq + 1) & 0x7fff_ffff;
        let seq = self.next_seq;
        let slot = self.slab.insert(Entry {
            seq,
            on_ring,
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

    /// The future of `key` was dropped: the op's data is kept until its completion, or freed
    /// now if that already came.
    pub(crate) fn abandon(&mut self, key: u64, op: Box<dyn Orphan>) -> Abandoned {
        let Some(entry) = self.entry(key) else {
            return Abandoned::Freed;
        };
        match &entry.state {
            State::Completed(res) => {
                let res = *res;
                self.slab.remove((key & 0xffff_ffff) as usize);
                op.finish(&res);
                Abandoned::Freed
            }
            _ => {
                entry.state = State::Orphaned(op);
                Abandoned::InFlight {
                    on_ring: entry.on_ring,
                }
            }
        }
    }

    /// Every key in flight on the ring (for shutdown: cancel them all).
    pub(crate) fn ring_keys(&self) -> Vec<u64> {
        self.slab
            .iter()
            .filter(|(_, e)| e.on_ring)
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
