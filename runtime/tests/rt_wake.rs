//! Wakes from foreign threads: none lost, on both reactors.

use coreloop_runtime::reactor_test;
use std::future::poll_fn;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

struct Shared {
    count: AtomicU64,
    waker: Mutex<Option<Waker>>,
}

reactor_test! {
    async fn a_million_wakes_from_eight_threads_none_lost() {
        const THREADS: u64 = 8;
        const PER_THREAD: u64 = 125_000;
        let shared = Arc::new(Shared { count: AtomicU64::new(0), waker: Mutex::new(None) });
        let mut polls = 0u64;
        // Register before the threads start, so their first wakes find a waker.
        poll_fn(|cx| {
            *shared.waker.lock().unwrap() = Some(cx.waker().clone());
            Poll::Ready(())
        })
        .await;
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let s = shared.clone();
                std::thread::spawn(move || {
                    for _ in 0..PER_THREAD {
                        s.count.fetch_add(1, Ordering::AcqRel);
                        let w = s.waker.lock().unwrap().clone();
                        if let Some(w) = w {
                            w.wake();
                        }
                    }
                })
            })
            .collect();
        // Done only when the last wake has been seen: a lost wake-up hangs here, and the
        // watchdog fails the test.
        poll_fn(|cx| {
            polls += 1;
            *shared.waker.lock().unwrap() = Some(cx.waker().clone());
            if shared.count.load(Ordering::Acquire) == THREADS * PER_THREAD {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
        for t in threads {
            t.join().unwrap();
        }
        eprintln!("1,000,000 wakes took {polls} polls");
    }
}

reactor_test! {
    async fn ping_pong_with_foreign_threads_parks_and_unparks() {
        // Each round trip makes the core park and a foreign thread unpark it.
        const THREADS: usize = 8;
        const ROUNDS: u64 = 2_000;
        let shared: Vec<_> = (0..THREADS)
            .map(|_| Arc::new(Shared { count: AtomicU64::new(0), waker: Mutex::new(None) }))
            .collect();
        let threads: Vec<_> = shared
            .iter()
            .cloned()
            .map(|s| {
                std::thread::spawn(move || {
                    for round in 0..ROUNDS {
                        // Wait for the core to register for this round, then bump and wake.
                        loop {
                            let w = s.waker.lock().unwrap().take();
                            if let Some(w) = w {
                                s.count.store(round + 1, Ordering::Release);
                                w.wake();
                                break;
                            }
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        for s in &shared {
            for round in 0..ROUNDS {
                poll_fn(|cx| {
                    if s.count.load(Ordering::Acquire) > round {
                        return Poll::Ready(());
                    }
                    let mut w = s.waker.lock().unwrap();
                    if w.is_none() && s.count.load(Ordering::Acquire) == round {
                        *w = Some(cx.waker().clone());
                    }
                    Poll::Pending
                })
                .await;
            }
        }
        for t in threads {
            t.join().unwrap();
        }
    }
}

reactor_test! {
    async fn a_parked_core_sleeps_until_one_foreign_wake() {
        let before = coreloop_runtime::reactor_stats().unwrap();
        let shared = Arc::new(Shared { count: AtomicU64::new(0), waker: Mutex::new(None) });
        let s = shared.clone();
        let start = std::time::Instant::now();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            s.count.store(1, Ordering::Release);
            if let Some(w) = s.waker.lock().unwrap().take() {
                w.wake();
            }
        });
        poll_fn(|cx| {
            *shared.waker.lock().unwrap() = Some(cx.waker().clone());
            if shared.count.load(Ordering::Acquire) == 1 { Poll::Ready(()) } else { Poll::Pending }
        })
        .await;
        t.join().unwrap();
        assert!(start.elapsed() >= std::time::Duration::from_millis(100));
        let after = coreloop_runtime::reactor_stats().unwrap();
        let syscalls = after.reactor_syscalls - before.reactor_syscalls;
        // Blocked the whole time: a park, the wake, and little else — no spinning.
        assert!(syscalls <= 6, "the core spun while parked: {syscalls} reactor syscalls, {after:?}");
        assert!(after.unparks - before.unparks >= 1, "{after:?}");
    }
}
