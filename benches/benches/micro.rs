//! Micro-benchmarks, one layer each: the executor (spawn+join, yield, cross-core wake), the
//! timers (insert+cancel), the reactors (a no-op op round trip on io_uring and on epoll) and
//! the syscall layer (our inline `syscall` against `libc::syscall`).
//!
//! `cargo bench -p coreloop-benches --bench micro`

use coreloop_runtime::op::nop::Nop;
use coreloop_runtime::reactor::Op;
use coreloop_runtime::{ReactorKind, Runtime, spawn, spawn_on, time, yield_now};
use criterion::{Criterion, criterion_group, criterion_main};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

fn runtime(kind: ReactorKind) -> Runtime {
    Runtime::builder()
        .reactor(kind)
        .env_override(false)
        .build()
        .expect("runtime")
}

fn executor(c: &mut Criterion) {
    let rt = runtime(ReactorKind::Uring);
    c.bench_function("spawn+join", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async move {
                let start = Instant::now();
                for _ in 0..iters {
                    spawn(async { black_box(1) }).await.unwrap();
                }
                start.elapsed()
            })
        })
    });
    c.bench_function("yield_now", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async move {
                let start = Instant::now();
                for _ in 0..iters {
                    yield_now().await;
                }
                start.elapsed()
            })
        })
    });
    let two = Runtime::builder()
        .cores(2)
        .reactor(ReactorKind::Uring)
        .env_override(false)
        .build()
        .expect("runtime");
    c.bench_function("cross-core spawn_on round trip", |b| {
        b.iter_custom(|iters| {
            let out = two
                .run(|info| async move {
                    if info.index != 0 {
                        return Duration::ZERO;
                    }
                    let start = Instant::now();
                    for _ in 0..iters {
                        spawn_on(1, async { black_box(1) }).unwrap().await.unwrap();
                    }
                    start.elapsed()
                })
                .expect("run");
            out[0]
        })
    });
}

fn timers(c: &mut Criterion) {
    let rt = runtime(ReactorKind::Uring);
    c.bench_function("timer insert+cancel", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async move {
                let mut cx = Context::from_waker(Waker::noop());
                let start = Instant::now();
                for _ in 0..iters {
                    let mut s = pin!(time::sleep(Duration::from_secs(60)));
                    assert!(s.as_mut().poll(&mut cx) == Poll::Pending);
                }
                start.elapsed()
            })
        })
    });
}

fn reactors(c: &mut Criterion) {
    for kind in [ReactorKind::Uring, ReactorKind::Epoll] {
        let rt = runtime(kind);
        c.bench_function(&format!("nop op round trip ({kind})"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async move {
                    let start = Instant::now();
                    for _ in 0..iters {
                        Op::new(Nop).await.unwrap();
                    }
                    start.elapsed()
                })
            })
        });
    }
}

fn syscalls(c: &mut Criterion) {
    c.bench_function("getpid: coreloop raw syscall", |b| {
        b.iter(|| black_box(coreloop_runtime::sys::sched::getpid()))
    });
    c.bench_function("getpid: libc::syscall", |b| {
        // SAFETY: as above.
        b.iter(|| black_box(unsafe { libc::syscall(libc::SYS_getpid) }))
    });
}

criterion_group!(benches, executor, timers, reactors, syscalls);
criterion_main!(benches);
