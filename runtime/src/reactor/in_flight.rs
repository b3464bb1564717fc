//! The in-flight table: ops that the kernel or the blocking pool holds right now.
//!
//! Each op in flight has an [`OpKey`]: a slot in a slab and a per-slot sequence number, so a
//! late cancel or completion for a reused slot can never touch the op that uses it now. The
//! key travels as an io_uring entry's `user_data` ([`OpKey::to_user_data`]); user data with
//! the top bit set is the reactor's own (its unpark read, its cancels).
//!
//! The table never drops an op's data itself: an orphan whose completion arrives (or that is
//! abandoned after it completed) is handed back to the caller ([`Release`]), which drops it
//! once no runtime borrow is held, so user `Drop` code never runs inside the reactor.

use crate::op::OpCode;
use crate::sys::Errno;
use slab::Slab;
use std::collections::VecDeque;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

/// The key of one op in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct OpKey {
    slot: u32,
    seq: u32,
}

impl OpKey {
    /// The top bit is never set: those values are the reactors' own entries.
    #[inline]
    pub(crate) fn to_user_data(self) -> u64 {
        self.slot as u64 | (self.seq as u64) << 32
    }

    /// The key an op's completion carries, or `None` for the reactor's own entries.
    #[inline]
    pub(crate) fn from_user_data(data: u64) -> Option<OpKey> {
        (data >> 63 == 0).then_some(OpKey {
            slot: data as u32,
            seq: (data >> 32) as u32,
        })
    }
}

/// An op whose future was dropped while it was in flight: kept alive until its completion.
pub(crate) trait Orphan {
    /// Its last completion arrived (or had arrived): release what the result left behind
    /// (`OpCode::orphaned`) and free the op. Runs outside every runtime borrow.
    fn release(self: Box<Self>, res: &Result<usize, Errno>);

    /// A multishot op's result that no one will take (its owner is gone): release what it
    /// carries (an accepted descriptor). Buffers are given back by the ledger.
    fn undelivered(&mut self, res: &Result<usize, Errno>);
}

impl<T: OpCode> Orphan for T {
    fn release(mut self: Box<Self>, res: &Result<usize, Errno>) {
        self.orphaned(res);
    }

    fn undelivered(&mut self, res: &Result<usize, Errno>) {
        self.orphaned(res);
    }
}

/// An op that a pool thread uses through a pointer (from `Box::into_raw`): it becomes a `Box`
/// again only once the pool's completion has arrived. Dropped without `release` (the runtime
/// gave up waiting for the pool), it leaks rather than free memory a pool thread may use.
pub(crate) struct PooledOrphan<T: OpCode>(pub(crate) NonNull<T>);

impl<T: OpCode> Orphan for PooledOrphan<T> {
    fn release(self: Box<Self>, res: &Result<usize, Errno>) {
        // SAFETY: the pointer came from `Box::into_raw`, and the pool's completion arrived, so
        // the pool thread no longer uses it; `release` runs once.
        let mut op = unsafe { Box::from_raw(self.0.as_ptr()) };
        op.orphaned(res);
    }

    fn undelivered(&mut self, _: &Result<usize, Errno>) {
        unreachable!("pool ops complete once")
    }
}

/// One result of a multishot op: the kernel's result and the completion's flags.
pub(crate) type Shot = (Result<usize, Errno>, u32);

/// What the caller must do once its borrow of the reactor ends.
pub(crate) type Release = (Box<dyn Orphan>, Result<usize, Errno>);

enum State {
    Waiting(Option<Waker>),
    Completed(Result<usize, Errno>),
    Orphaned(Box<dyn Orphan>),
    /// A multishot op: many completions under one key, the last without `IORING_CQE_F_MORE`.
    Multi(Box<Multi>),
}

/// A multishot op's state: its results not yet taken, in order.
struct Multi {
    results: Results,
    waker: Option<Waker>,
    /// The kernel sent its last completion (the last of `results`).
    ended: bool,
    /// The owner dropped it: results are released as they come, and the op at the end.
    orphan: Option<Box<dyn Orphan>>,
}

/// Untaken results in order: the first inline (an idle connection's recv nearly always has at
/// most one waiting, and a queue would keep a heap block per connection), the rest in a queue.
#[derive(Default)]
struct Results {
    head: Option<Shot>,
    rest: VecDeque<Shot>,
}

impl Results {
    fn push(&mut self, shot: Shot) {
        if self.head.is_none() {
            self.head = Some(shot);
        } else {
            self.rest.push_back(shot);
        }
    }

    fn pop(&mut self) -> Option<Shot> {
        let head = self.head.take()?;
        self.head = self.rest.pop_front();
        Some(head)
    }

    fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    fn len(&self) -> usize {
        usize::from(self.head.is_some()) + self.rest.len()
    }

    fn pop_back(&mut self) -> Option<Shot> {
        self.rest.pop_back().or_else(|| self.head.take())
    }
}

/// Where an op in flight runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Runs {
    /// On the ring: the kernel can be asked to cancel it.
    Ring,
    /// On the blocking pool, which finishes it regardless.
    Pool,
}

struct Entry {
    seq: u32,
    runs: Runs,
    state: State,
}

/// What [`InFlight::complete`] found.
pub(crate) enum Completed {
    /// A live future's op: wake it.
    Wake(Option<Waker>),
    /// An orphan: release it (outside the borrow).
    Release(Release),
    /// No such op (a duplicate or stale completion), or a multishot result its dropped owner
    /// will never take (what it carries was released; the caller gives back its buffer).
    Unknown,
}

/// What [`InFlight::poll_multi`] found.
pub(crate) enum MultiPoll {
    /// The next result; `last`: the kernel ended the op, and its key is gone.
    Ready { shot: Shot, last: bool },
    /// Nothing yet; the waker is kept.
    Pending,
}

/// What [`InFlight::abandon`] did with an op whose future was dropped.
pub(crate) enum Abandoned {
    /// Its completion had come: release it now (outside the borrow).
    Release(Release),
    /// Still held by the kernel or the pool; kept until its completion.
    InFlight(Runs),
}

/// The ops in flight on one core.
pub(crate) struct InFlight {
    slab: Slab<Entry>,
    next_seq: u32,
    /// Entries whose op the kernel or the pool still holds (not yet completed).
    in_kernel: usize,
}

impl InFlight {
    pub(crate) fn new() -> InFlight {
        InFlight {
            slab: Slab::new(),
            next_seq: 0,
            in_kernel: 0,
        }
    }

    /// How many ops the kernel or the pool still holds, orphans included. (A completed op
    /// whose future has not looked yet is not counted: nothing needs waiting for.)
    pub(crate) fn in_kernel(&self) -> usize {
        self.in_kernel
    }

    /// A new in-flight op.
    #[inline]
    pub(crate) fn insert(&mut self, waker: &Waker, runs: Runs) -> OpKey {
        self.next_seq = (self.next_seq + 1) & 0x7fff_ffff;
        let seq = self.next_seq;
        let slot = self.slab.insert(Entry {
            seq,
            runs,
            state: State::Waiting(Some(waker.clone())),
        });
        self.in_kernel += 1;
        OpKey {
            slot: u32::try_from(slot).expect("fewer than 2^32 ops in flight"),
            seq,
        }
    }

    /// Takes back a key whose op never reached the kernel (its submission failed).
    pub(crate) fn remove_unsubmitted(&mut self, key: OpKey) {
        if self.entry(key).is_some() {
            self.slab.remove(key.slot as usize);
            self.in_kernel -= 1;
        }
    }

    /// A new multishot op on the ring.
    pub(crate) fn insert_multi(&mut self, waker: &Waker) -> OpKey {
        let key = self.insert(waker, Runs::Ring);
        self.slab[key.slot as usize].state = State::Multi(Box::new(Multi {
            results: Results::default(),
            waker: Some(waker.clone()),
            ended: false,
            orphan: None,
        }));
        key
    }

    /// The owner of multishot op `key` polls: its next result, or `Pending` (the waker is kept;
    /// the one it replaces is given back to drop outside the borrow).
    pub(crate) fn poll_multi(
        &mut self,
        key: OpKey,
        cx: &mut Context<'_>,
    ) -> (MultiPoll, Option<Waker>) {
        let Some(Entry {
            state: State::Multi(m),
            ..
        }) = self.entry(key)
        else {
            return (
                MultiPoll::Ready {
                    shot: (Err(Errno::ECANCELED), 0),
                    last: true,
                },
                None,
            );
        };
        let Some(shot) = m.results.pop() else {
            let old = if m.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                None
            } else {
                m.waker.replace(cx.waker().clone())
            };
            return (MultiPoll::Pending, old);
        };
        let last = m.ended && m.results.is_empty();
        if last {
            self.slab.remove(key.slot as usize);
        }
        (MultiPoll::Ready { shot, last }, None)
    }

    #[inline]
    fn entry(&mut self, key: OpKey) -> Option<&mut Entry> {
        self.slab
            .get_mut(key.slot as usize)
            .filter(|e| e.seq == key.seq)
    }

    /// The future of `key` polls: its result if it has come, else the waker is kept. The
    /// waker it replaces is given back, to be dropped outside the borrow.
    #[inline]
    pub(crate) fn poll(
        &mut self,
        key: OpKey,
        cx: &mut Context<'_>,
    ) -> (Poll<Result<usize, Errno>>, Option<Waker>) {
        let Some(entry) = self.entry(key) else {
            return (Poll::Ready(Err(Errno::ECANCELED)), None);
        };
        match &mut entry.state {
            State::Waiting(w) => {
                let old = if w.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    None
                } else {
                    w.replace(cx.waker().clone())
                };
                (Poll::Pending, old)
            }
            State::Completed(_) => match self.slab.remove(key.slot as usize).state {
                State::Completed(r) => (Poll::Ready(r), None),
                _ => unreachable!("matched Completed above"),
            },
            State::Orphaned(_) => unreachable!("a live future's op is never orphaned"),
            State::Multi(_) => unreachable!("a single-shot op's key is never multishot"),
        }
    }

    /// The completion for `key` arrived.
    ///
    /// `flags` are the completion's (`IORING_CQE_F_MORE`: a multishot op goes on; the buffer
    /// it picked), kept with a multishot result.
    #[inline]
    pub(crate) fn complete(
        &mut self,
        key: OpKey,
        res: Result<usize, Errno>,
        flags: u32,
    ) -> Completed {
        // The slab and the count are borrowed apart.
        let Some(entry) = self
            .slab
            .get_mut(key.slot as usize)
            .filter(|e| e.seq == key.seq)
        else {
            return Completed::Unknown;
        };
        match &mut entry.state {
            State::Multi(m) => {
                if m.ended {
                    return Completed::Unknown;
                }
                let more = io_uring::cqueue::more(flags);
                m.ended = !more;
                if m.ended {
                    self.in_kernel -= 1;
                }
                if let Some(orphan) = &mut m.orphan {
                    if more {
                        orphan.undelivered(&res);
                        return Completed::Unknown;
                    }
                    let State::Multi(m) = self.slab.remove(key.slot as usize).state else {
                        unreachable!("matched Multi above")
                    };
                    let orphan = m.orphan.expect("matched Some above");
                    return Completed::Release((orphan, res));
                }
                m.results.push((res, flags));
                Completed::Wake(m.waker.take())
            }
            State::Waiting(w) => {
                let w = w.take();
                entry.state = State::Completed(res);
                self.in_kernel -= 1;
                Completed::Wake(w)
            }
            State::Completed(_) => Completed::Unknown,
            State::Orphaned(_) => {
                self.in_kernel -= 1;
                match self.slab.remove(key.slot as usize).state {
                    State::Orphaned(op) => Completed::Release((op, res)),
                    _ => unreachable!("matched Orphaned above"),
                }
            }
        }
    }

    /// The future of `key` was dropped: the op's data is kept until its completion, or handed
    /// back for release if that already came.
    pub(crate) fn abandon(&mut self, key: OpKey, op: Box<dyn Orphan>) -> Abandoned {
        let Some(entry) = self.entry(key) else {
            // Never the case for a live future's key; releasing is the safe answer anyway
            // only if the kernel is done, which an unknown key cannot promise: keep it.
            std::mem::forget(op);
            return Abandoned::InFlight(Runs::Pool);
        };
        match &entry.state {
            State::Completed(res) => {
                let res = *res;
                self.slab.remove(key.slot as usize);
                Abandoned::Release((op, res))
            }
            State::Multi(_) => unreachable!("multishot ops are abandoned by abandon_multi"),
            State::Waiting(_) | State::Orphaned(_) => {
                let runs = entry.runs;
                entry.state = State::Orphaned(op);
                Abandoned::InFlight(runs)
            }
        }
    }

    /// The owner of multishot op `key` let go of it: its untaken results are released (their
    /// flags are returned, so the caller gives back the buffers they carry), and the op is kept
    /// until its last completion, or handed back at once if that came.
    pub(crate) fn abandon_multi(
        &mut self,
        key: OpKey,
        mut op: Box<dyn Orphan>,
    ) -> (Vec<u32>, Abandoned) {
        let Some(Entry {
            state: State::Multi(m),
            ..
        }) = self.entry(key)
        else {
            // Its last result was taken, so the kernel is done with it.
            return (Vec::new(), Abandoned::Release((op, Err(Errno::ECANCELED))));
        };
        let last = if m.ended { m.results.pop_back() } else { None };
        let mut flags = Vec::with_capacity(m.results.len() + 1);
        while let Some((res, f)) = m.results.pop() {
            op.undelivered(&res);
            flags.push(f);
        }
        if let Some((res, f)) = last {
            flags.push(f);
            self.slab.remove(key.slot as usize);
            return (flags, Abandoned::Release((op, res)));
        }
        m.orphan = Some(op);
        (flags, Abandoned::InFlight(Runs::Ring))
    }

    /// Every key in flight on the ring (for shutdown: cancel them all).
    pub(crate) fn ring_keys(&self) -> Vec<OpKey> {
        self.slab
            .iter()
            .filter(|(_, e)| {
                e.runs == Runs::Ring
                    && match &e.state {
                        State::Completed(_) => false,
                        State::Multi(m) => !m.ended,
                        State::Waiting(_) | State::Orphaned(_) => true,
                    }
            })
            .map(|(slot, e)| OpKey {
                slot: slot as u32,
                seq: e.seq,
            })
            .collect()
    }

    /// Gives up on every op still in flight without freeing its memory (shutdown timed out:
    /// the kernel may still write there).
    pub(crate) fn leak_all(&mut self) {
        for entry in self.slab.drain() {
            std::mem::forget(entry);
        }
        self.in_kernel = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    struct Dropped(Arc<AtomicUsize>);
    impl Orphan for Dropped {
        fn release(self: Box<Self>, _: &Result<usize, Errno>) {}
        fn undelivered(&mut self, res: &Result<usize, Errno>) {
            if res.is_ok() {
                self.0.fetch_add(100, Ordering::Relaxed);
            }
        }
    }
    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn waker() -> Waker {
        Waker::from(Arc::new(Count(AtomicUsize::new(0))))
    }

    #[test]
    fn a_reused_slot_never_takes_a_stale_completion() {
        let mut t = InFlight::new();
        let w = waker();
        let a = t.insert(&w, Runs::Ring);
        assert!(matches!(t.complete(a, Ok(1), 0), Completed::Wake(Some(_))));
        let mut cx = Context::from_waker(&w);
        assert_eq!(t.poll(a, &mut cx).0, Poll::Ready(Ok(1)));
        let b = t.insert(&w, Runs::Ring);
        assert_eq!(a.slot, b.slot, "the slot is reused");
        assert_ne!(a, b);
        // A late completion for `a` must not complete `b`.
        assert!(matches!(t.complete(a, Ok(7), 0), Completed::Unknown));
        assert!(t.poll(b, &mut cx).0.is_pending());
        assert_eq!(t.in_kernel(), 1);
    }

    #[test]
    fn keys_round_trip_through_user_data_and_never_set_the_top_bit() {
        let mut t = InFlight::new();
        let w = waker();
        for _ in 0..1000 {
            let k = t.insert(&w, Runs::Pool);
            let data = k.to_user_data();
            assert_eq!(data >> 63, 0);
            assert_eq!(OpKey::from_user_data(data), Some(k));
        }
        assert_eq!(OpKey::from_user_data(u64::MAX), None);
    }

    #[test]
    fn an_orphan_is_handed_back_once_its_completion_arrives() {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut t = InFlight::new();
        let k = t.insert(&waker(), Runs::Ring);
        assert!(matches!(
            t.abandon(k, Box::new(Dropped(drops.clone()))),
            Abandoned::InFlight(Runs::Ring)
        ));
        assert_eq!(drops.load(Ordering::Relaxed), 0, "kept while in flight");
        assert_eq!(t.in_kernel(), 1);
        match t.complete(k, Err(Errno::ECANCELED), 0) {
            Completed::Release((op, res)) => {
                assert_eq!(drops.load(Ordering::Relaxed), 0, "the table never drops it");
                op.release(&res);
            }
            _ => panic!("expected the orphan back"),
        }
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        assert_eq!(t.in_kernel(), 0);
    }

    #[test]
    fn abandoning_a_completed_op_hands_it_back_at_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut t = InFlight::new();
        let k = t.insert(&waker(), Runs::Pool);
        let _ = t.complete(k, Ok(3), 0);
        assert_eq!(
            t.in_kernel(),
            0,
            "completed ops are not waited for at shutdown"
        );
        match t.abandon(k, Box::new(Dropped(drops.clone()))) {
            Abandoned::Release((op, res)) => {
                assert_eq!(res, Ok(3));
                op.release(&res);
            }
            Abandoned::InFlight(_) => panic!("it had completed"),
        }
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        assert!(t.ring_keys().is_empty());
    }

    const MORE: u32 = 1 << 1; // IORING_CQE_F_MORE

    #[test]
    fn a_multishot_op_queues_its_results_in_order_until_the_last() {
        let mut t = InFlight::new();
        let w = waker();
        let mut cx = Context::from_waker(&w);
        let k = t.insert_multi(&w);
        assert!(matches!(t.poll_multi(k, &mut cx).0, MultiPoll::Pending));
        assert!(matches!(
            t.complete(k, Ok(1), MORE),
            Completed::Wake(Some(_))
        ));
        assert!(matches!(t.complete(k, Ok(2), MORE), Completed::Wake(None)));
        assert_eq!(t.in_kernel(), 1);
        assert!(matches!(
            t.complete(k, Err(Errno::ENOBUFS), 0),
            Completed::Wake(None)
        ));
        assert_eq!(t.in_kernel(), 0, "the kernel ended it");
        assert_eq!(t.ring_keys(), vec![], "nothing left to cancel");
        let mut got = Vec::new();
        loop {
            match t.poll_multi(k, &mut cx).0 {
                MultiPoll::Ready { shot, last } => {
                    got.push(shot.0);
                    if last {
                        break;
                    }
                }
                MultiPoll::Pending => panic!("results were queued"),
            }
        }
        assert_eq!(got, vec![Ok(1), Ok(2), Err(Errno::ENOBUFS)]);
        assert!(matches!(t.complete(k, Ok(9), MORE), Completed::Unknown));
    }

    #[test]
    fn an_abandoned_multishot_op_releases_every_result_and_then_itself() {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut t = InFlight::new();
        let k = t.insert_multi(&waker());
        let _ = t.complete(k, Ok(5), MORE | 7 << 16);
        let (flags, ab) = t.abandon_multi(k, Box::new(Dropped(drops.clone())));
        assert_eq!(flags, vec![MORE | 7 << 16], "its buffer is given back");
        assert!(matches!(ab, Abandoned::InFlight(Runs::Ring)));
        assert_eq!(
            drops.load(Ordering::Relaxed),
            100,
            "the queued result was released"
        );
        assert!(matches!(t.complete(k, Ok(6), MORE), Completed::Unknown));
        assert_eq!(drops.load(Ordering::Relaxed), 200, "a later one too");
        match t.complete(k, Err(Errno::ECANCELED), 0) {
            Completed::Release((op, res)) => op.release(&res),
            _ => panic!("the orphan comes back with the last completion"),
        }
        assert_eq!(drops.load(Ordering::Relaxed), 201);
        assert_eq!(t.in_kernel(), 0);
    }
}
