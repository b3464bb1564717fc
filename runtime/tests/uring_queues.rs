//! The ring's queues under pressure: a full SQ and an overflowing CQ. The same bodies run on
//! epoll too (where there is no ring), so both reactors keep the same promise: every op
//! completes exactly once.

use coreloop_runtime::op::{Position, SharedFd, nop::Nop, read::Read};
use coreloop_runtime::reactor::Op;
use coreloop_runtime::sys::io::{pipe, write};
use coreloop_runtime::testing::run_with;
use coreloop_runtime::{ReactorKind, Runtime, reactor_stats, spawn, yield_now};
use std::cell::Cell;
use std::rc::Rc;

fn builder(kind: ReactorKind, sq: u32, cq: u32) -> coreloop_runtime::Builder {
    Runtime::builder()
        .reactor(kind)
        .env_override(false)
        .ring_entries(sq)
        .cq_entries(cq)
}

/// Starts `n` ops at once (each polled once before any completes) and waits for all.
async fn many_at_once(n: usize) {
    let done = Rc::new(Cell::new(0usize));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let done = done.clone();
            spawn(async move {
                Op::new(Nop).await.unwrap();
                done.set(done.get() + 1);
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    assert_eq!(done.get(), n, "every op completed exactly once");
}

#[test]
fn sq_full_ten_times_the_ring_each_completes_once() {
    for kind in coreloop_runtime::testing::reactors(module_path!()) {
        run_with(builder(kind, 16, 32), async move {
            many_at_once(160).await;
            if kind == ReactorKind::Uring {
                let s = reactor_stats().unwrap();
                assert!(s.submitted >= 160, "{s:?}");
                assert!(s.completions >= 160, "{s:?}");
            }
        });
    }
}

#[test]
fn cq_of_four_with_a_thousand_in_flight_all_complete() {
    for kind in coreloop_runtime::testing::reactors(module_path!()) {
        run_with(builder(kind, 2, 4), async move {
            // A thousand 1-byte reads wait on one pipe, then one write makes them all complete
            // in the same burst: far more completions than the CQ's four slots.
            let (r, w) = pipe(true).unwrap();
            let fd = SharedFd::new(r);
            let got = Rc::new(Cell::new(0usize));
            let handles: Vec<_> = (0..1_000)
                .map(|_| {
                    let got = got.clone();
                    let fd = fd.clone();
                    spawn(async move {
                        let read = Read::new(&fd, Vec::with_capacity(1), Position::Stream);
                        let (res, buf) = Op::new(read).await;
                        assert_eq!(res.unwrap(), 1);
                        assert_eq!(buf, b"x");
                        got.set(got.get() + 1);
                    })
                })
                .collect();
            for _ in 0..5 {
                yield_now().await;
            }
            assert_eq!(got.get(), 0);
            // The burst must be one write (a fault plan must not split it).
            let exact = coreloop_runtime::testing::exact();
            assert_eq!(write(w.raw(), &[b'x'; 1_000]).unwrap(), 1_000);
            drop(exact);
            for h in handles {
                h.await.unwrap();
            }
            assert_eq!(got.get(), 1_000, "every read completed exactly once");
            if kind == ReactorKind::Uring {
                let s = reactor_stats().unwrap();
                assert!(s.cq_overflows > 0, "the CQ really overflowed: {s:?}");
            }
            drop(fd);
        });
    }
}

#[test]
fn the_ring_uses_the_best_flags_this_kernel_has() {
    if !coreloop_runtime::testing::should_run(ReactorKind::Uring, module_path!()) {
        return;
    }
    let rt = Runtime::builder()
        .reactor(ReactorKind::Uring)
        .env_override(false)
        .build()
        .unwrap();
    let setup = rt.uring_setup().expect("uring runs");
    eprintln!("{setup:?}");
    assert!(
        setup.nodrop,
        "every kernel coreloop accepts has IORING_FEAT_NODROP"
    );
    // Kernels from 6.1 on take SINGLE_ISSUER | DEFER_TASKRUN; older ones fall back.
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut parts = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse::<u32>().ok());
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if (major, minor) >= (6, 1) {
        assert!(
            setup.single_issuer && setup.defer_taskrun,
            "{setup:?} on {release}"
        );
    }
    if (major, minor) >= (5, 18) {
        assert!(setup.registered_ring_fd, "{setup:?} on {release}");
    }
}

/// A registered ring fd keeps its ring until it is unregistered (or the thread exits), and a
/// thread has 16 slots: a thread that builds runtime after runtime must not run out of them.
#[test]
fn runtimes_built_one_after_another_each_register_their_ring() {
    if !coreloop_runtime::testing::should_run(ReactorKind::Uring, module_path!()) {
        return;
    }
    for i in 0..40 {
        let rt = Runtime::builder()
            .reactor(ReactorKind::Uring)
            .env_override(false)
            .build()
            .unwrap();
        assert!(
            rt.uring_setup().unwrap().registered_ring_fd,
            "runtime {i} could not register its ring fd"
        );
        rt.block_on(async {
            coreloop_runtime::time::sleep(std::time::Duration::from_micros(1)).await
        });
    }
}
