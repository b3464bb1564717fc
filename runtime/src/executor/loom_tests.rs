//! Loom models of the cross-thread protocols, on the real code: `Unparker` (park/unpark) and
//! `Shared` (the remote queue, `close` against `push_remote`). Loom runs each model under every
//! interleaving of its threads and every value the memory model lets each load return.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p coreloop-runtime --lib --release loom`
//! (`src/sync.rs` swaps in loom's atomics and a loom queue; the code under test is unchanged).
//!
//! What stays real: the eventfd. Writing it is a non-blocking syscall, which the models can
//! make; a core blocked in `epoll_wait`/`io_uring_enter` is modelled by waiting for the other
//! threads to finish and then reading the eventfd's counter: a core that decided to block must
//! find it written (else the wake-up was lost), and written once at most per park.

use super::shared::Shared;
use super::task::Task;
use crate::reactor::unpark::Unparker;
use crate::sys::eventfd;
use loom::thread;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

fn task(owner: &Arc<Shared>) -> Arc<Task> {
    Task::new(owner.clone(), Box::pin(async {}))
}

/// How many times the eventfd was written since it was last read (and resets it). A read
/// that finds writes is ordered after them, as the kernel orders it.
fn signals(unparker: &Unparker) -> u64 {
    let n = eventfd::eventfd_read(unparker.fd()).unwrap_or(0);
    if n > 0 {
        crate::sync::EVENTFD_WRITES.fetch_add(0, Ordering::AcqRel);
    }
    n
}

fn core() -> (Arc<Unparker>, Arc<Shared>) {
    let unparker = Arc::new(Unparker::new().expect("eventfd"));
    let shared = Shared::new(0, unparker.clone());
    (unparker, shared)
}

/// `Core::turn`'s check before blocking.
fn more_work(shared: &Shared) -> bool {
    shared.has_remote() || shared.main_woken.load(Ordering::Relaxed)
}

/// Runs `f` under every interleaving loom can find with at most `preemptions` forced
/// preemptions per execution (`None`: unbounded, exhaustive); `LOOM_MAX_PREEMPTIONS` overrides.
/// Prints how many executions were explored and how long it took.
fn model(preemptions: Option<usize>, f: impl Fn() + Sync + Send + 'static) {
    use std::sync::atomic::AtomicUsize;
    let started = std::time::Instant::now();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let mut builder = loom::model::Builder::new();
    if std::env::var_os("LOOM_MAX_PREEMPTIONS").is_none() {
        builder.preemption_bound = preemptions;
    }
    builder.check(move || {
        counted.fetch_add(1, Ordering::Relaxed);
        f()
    });
    eprintln!(
        "  {} executions (preemption bound {:?}) in {:.1?}",
        runs.load(Ordering::Relaxed),
        builder.preemption_bound,
        started.elapsed()
    );
}

/// A `spawn_on`/wake from another thread against the core going to sleep: the core either
/// sees the task in its check, or is woken through the eventfd, exactly once.
#[test]
fn loom_remote_push_vs_park() {
    model(None, || {
        let (unparker, shared) = core();
        let t = task(&shared);
        let remote = shared.clone();
        let pusher = thread::spawn(move || assert!(remote.push_remote(t), "the core is open"));

        let blocking = unparker.prepare_park(|| more_work(&shared));
        if blocking {
            // Blocked in the reactor until the eventfd is written.
            pusher.join().unwrap();
            assert_eq!(
                signals(&unparker),
                1,
                "lost wake-up: the core sleeps on a queued task"
            );
            unparker.end_park();
        } else {
            // The check saw the task: the drain right after finds it.
            assert!(
                shared.pop_remote().is_some(),
                "the check saw work the drain misses"
            );
            pusher.join().unwrap();
            assert!(signals(&unparker) <= 1);
        }
        while shared.pop_remote().is_some() {}
        assert_eq!(Arc::strong_count(&shared), 1, "a task still holds its core");
    });
}

/// Two producers of different kinds (a pool completion and a `block_on` wake) against one
/// park: if the core blocks, the eventfd is written exactly once (not lost, not twice); if it
/// does not, what it saw is really there.
#[test]
fn loom_completion_and_main_wake_vs_park() {
    model(None, || {
        let (unparker, shared) = core();
        let u = unparker.clone();
        let pool = thread::spawn(move || {
            u.push_completion(
                crate::reactor::in_flight::OpKey::from_user_data(7).unwrap(),
                Ok(3),
            )
        });
        let s = shared.clone();
        let waker = thread::spawn(move || s.wake_main());

        let blocking = unparker.prepare_park(|| more_work(&shared));
        pool.join().unwrap();
        waker.join().unwrap();
        let n = signals(&unparker);
        if blocking {
            assert_eq!(n, 1, "lost (0) or doubled wake-up for one park");
            unparker.end_park();
        } else {
            assert!(n <= 1, "eventfd written {n} times for one park");
        }
        assert!(unparker.pop_completion().is_some());
        assert!(shared.main_woken.swap(false, Ordering::AcqRel));
    });
}

/// Two parks in a row with a producer racing both: the `parked` flag is reset between them,
/// so a push after the first wake-up still wakes the second park.
///
/// Ignored: loom 0.7.3 reports a lost wake-up here (the core parks a second time without
/// seeing t2, and the producer's `unpark` for t2 reads `parked == false`), an outcome the
/// C++20 fence rule forbids: the core's `parked = true` is sequenced before its SeqCst fence
/// X, the producer's load of `parked` after its fence Y; if X precedes Y the load sees `true`
/// (or the producer's own later swap, which would have read `true` and signalled), and if Y
/// precedes X the core's check sees the push. `loom_probe_two_rounds_fences` below reproduces
/// the same report with plain loom atomics and no coreloop code, so it is taken as loom's
/// limit, not a bug here: loom's fence model loses the ordering once the flag has been
/// stored more than once. Run with `--ignored` to see both.
#[test]
#[ignore = "loom 0.7.3 false positive, reproduced without coreloop code by loom_probe_two_rounds_fences"]
fn loom_two_parks_one_producer_each() {
    model(None, || {
        let (unparker, shared) = core();
        let s = shared.clone();
        let t1 = task(&shared);
        let t2 = task(&shared);
        // Set when the producer has returned: after that, a core still waiting for the
        // eventfd would wait forever.
        let done = Arc::new(loom::sync::atomic::AtomicBool::new(false));
        let d = done.clone();
        let pusher = thread::spawn(move || {
            assert!(s.push_remote(t1));
            assert!(s.push_remote(t2));
            d.store(true, Ordering::Release);
        });
        let mut seen = 0;
        while seen < 2 {
            if unparker.prepare_park(|| more_work(&shared)) {
                // Blocked: only the eventfd wakes the core.
                loop {
                    // Read `done` first: if it was set, the producer's signal (if any) was
                    // written before, and the read below finds it.
                    let finished = done.load(Ordering::Acquire);
                    if signals(&unparker) > 0 {
                        break;
                    }
                    assert!(
                        !finished,
                        "lost wake-up: the producer is done, the core sleeps on a queued task"
                    );
                    thread::yield_now();
                }
                unparker.end_park();
            }
            while shared.pop_remote().is_some() {
                seen += 1;
            }
        }
        pusher.join().unwrap();
    });
}

/// Shutdown against pushes from two threads (late wakes, `spawn_on`): `Core::drop` closes
/// and drains. Every task is run, dropped by the core, or dropped by its pusher at once;
/// none stays queued (which would keep the core's `Shared` and eventfd alive through its
/// `owner`); a push that returns false never runs, and one that returns true before the core
/// started shutting down does.
///
/// `push_remote` returns false only for a task that never reached its core. Before that
/// was so, this model found: pusher `remote.push`; core drains the task (runs it), then
/// `close()`; pusher: fence, loads `closed == true`, drains nothing, returned false, and
/// `spawn_on` reported "core N has shut down" for a future that ran.
#[test]
fn loom_push_remote_vs_close() {
    // Three threads with many steps each: bounded (3 preemptions, as loom recommends; set
    // LOOM_MAX_PREEMPTIONS to go further).
    model(Some(3), || {
        let (_unparker, shared) = core();
        let spawn_pusher = |shared: &Arc<Shared>| {
            let s = shared.clone();
            thread::spawn(move || {
                let t = task(&s);
                let weak = Arc::downgrade(&t);
                let ptr = Arc::as_ptr(&t) as usize;
                (s.push_remote(t), weak, ptr)
            })
        };
        let p1 = spawn_pusher(&shared);
        let p2 = spawn_pusher(&shared);

        // The core's last drain while running: these tasks run.
        let mut ran = Vec::new();
        while let Some(t) = shared.pop_remote() {
            ran.push(Arc::as_ptr(&t) as usize);
        }
        // Core::drop: close, then drop every queued task on the core.
        shared.close();
        let mut on_core = Vec::new();
        while let Some(t) = shared.pop_remote() {
            on_core.push(Arc::as_ptr(&t) as usize);
        }

        let results: Vec<(bool, Weak<Task>, usize)> = vec![p1.join().unwrap(), p2.join().unwrap()];
        for (accepted, weak, ptr) in &results {
            if !accepted {
                assert!(
                    !ran.contains(ptr),
                    "push_remote returned false for a task that ran"
                );
                assert!(
                    !on_core.contains(ptr),
                    "push_remote returned false for a task its core took"
                );
            }
            assert!(
                weak.upgrade().is_none(),
                "a task is still alive after shutdown (leak)"
            );
        }
        assert!(
            shared.pop_remote().is_none(),
            "a task stayed queued after shutdown"
        );
        assert_eq!(
            Arc::strong_count(&shared),
            1,
            "Shared kept alive by a queued task"
        );
    });
}

/// The park protocol of `Unparker` reduced to plain loom atomics, two pushes against two
/// parks (the first of which sees the first push): loom reports the second push's wake-up as
/// lost, which C++20's fence rules forbid (see `loom_two_parks_one_producer_each`).
#[test]
#[ignore = "loom 0.7.3 false positive (fence-fence rule after a second store of the flag)"]
fn loom_probe_two_rounds_fences() {
    use loom::sync::atomic::{AtomicBool, AtomicUsize, fence};
    loom::model(|| {
        let parked = Arc::new(AtomicBool::new(false));
        let n = Arc::new(AtomicUsize::new(0));
        let sig = Arc::new(AtomicUsize::new(0));
        let (p2, n2, s2) = (parked.clone(), n.clone(), sig.clone());
        let unpark = move |p: &AtomicBool, s: &AtomicUsize| {
            fence(Ordering::SeqCst);
            if p.load(Ordering::Relaxed) && p.swap(false, Ordering::AcqRel) {
                s.fetch_add(1, Ordering::Relaxed);
            }
        };
        let t = thread::spawn(move || {
            n2.fetch_add(1, Ordering::AcqRel);
            unpark(&p2, &s2);
            n2.fetch_add(1, Ordering::AcqRel);
            unpark(&p2, &s2);
        });
        parked.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if n.load(Ordering::Acquire) == 1 {
            parked.store(false, Ordering::Relaxed);
            parked.store(true, Ordering::Relaxed);
            fence(Ordering::SeqCst);
            if n.load(Ordering::Acquire) == 1 {
                t.join().unwrap();
                assert!(
                    sig.load(Ordering::Relaxed) > 0,
                    "lost wake-up reported by loom"
                );
                return;
            }
        }
        t.join().unwrap();
    });
}
