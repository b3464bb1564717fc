//! Several cores: run one future per core, spawn_on across cores, panics reported.

use coreloop_runtime::{ReactorKind, Runtime, current_core, spawn_on, testing::Watchdog};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn both(f: impl Fn(ReactorKind)) {
    for kind in coreloop_runtime::testing::reactors(module_path!()) {
        let _dog = Watchdog::new(format!("{kind}"), Duration::from_secs(120));
        f(kind);
    }
}

#[test]
fn run_starts_one_copy_per_core_and_spawn_on_crosses_cores() {
    both(|kind| {
        let rt = Runtime::builder()
            .cores(2)
            .reactor(kind)
            .env_override(false)
            .build()
            .unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let out = rt
            .run(|info| {
                let hits = hits.clone();
                async move {
                    assert_eq!(current_core(), Some(info.index));
                    let other = (info.index + 1) % info.cores;
                    // 2,000 hops to the other core and back.
                    for _ in 0..2_000 {
                        let h = hits.clone();
                        let ran_on = spawn_on(other, async move {
                            h.fetch_add(1, Ordering::Relaxed);
                            current_core().unwrap()
                        })
                        .unwrap()
                        .await
                        .unwrap();
                        assert_eq!(ran_on, other);
                    }
                    info.index
                }
            })
            .unwrap();
        assert_eq!(out, vec![0, 1]);
        assert_eq!(hits.load(Ordering::Relaxed), 4_000);
    });
}

#[test]
fn a_panic_on_one_core_is_reported() {
    both(|kind| {
        let rt = Runtime::builder()
            .cores(2)
            .reactor(kind)
            .env_override(false)
            .build()
            .unwrap();
        let err = rt
            .run(|info| async move {
                if info.index == 1 {
                    panic!("core one fails");
                }
                info.index
            })
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("core 1 panicked: core one fails"), "{msg}");
    });
}

#[test]
fn spawn_on_a_missing_core_is_an_error() {
    both(|kind| {
        let rt = Runtime::builder()
            .reactor(kind)
            .env_override(false)
            .build()
            .unwrap();
        rt.block_on(async {
            let err = spawn_on(5, async {}).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        });
    });
}

#[test]
fn bad_settings_are_errors_not_panics() {
    for b in [
        Runtime::builder().cores(0),
        Runtime::builder().ring_entries(3),
        Runtime::builder().ring_entries(64).cq_entries(32),
        Runtime::builder().cores(4096),
    ] {
        let err = b.build().err().expect("bad settings must fail");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
    }
}

#[test]
fn pinning_puts_each_core_on_its_cpu() {
    let cpus = coreloop_runtime::sys::sched::sched_getaffinity(0).unwrap();
    let n = cpus.count().min(2);
    both(|kind| {
        let rt = Runtime::builder()
            .cores(n)
            .pin(true)
            .reactor(kind)
            .env_override(false)
            .build()
            .unwrap();
        let out = rt
            .run(|info| async move {
                let mine = coreloop_runtime::sys::sched::sched_getaffinity(0).unwrap();
                (info.cpu, mine.cpus().collect::<Vec<_>>())
            })
            .unwrap();
        for (cpu, mine) in out {
            assert_eq!(mine, vec![cpu.unwrap()]);
        }
    });
}
