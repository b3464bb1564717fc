//! Builder conveniences: `ReactorKind: FromStr`, one core per CPU, and what `spawn_on` from
//! `block_on` says when the runtime was built with several cores.

use coreloop_runtime::{ReactorKind, Runtime, spawn_on, testing};
use std::io::ErrorKind;

#[test]
fn reactor_kind_parses_from_str_with_the_env_var_names() {
    for (s, kind) in [
        ("uring", ReactorKind::Uring),
        ("io_uring", ReactorKind::Uring),
        (" EPOLL ", ReactorKind::Epoll),
        ("auto", ReactorKind::Auto),
    ] {
        assert_eq!(s.parse::<ReactorKind>().unwrap(), kind, "{s:?}");
        assert_eq!(kind.to_string().parse::<ReactorKind>().unwrap(), kind);
    }
    let e = "kqueue".parse::<ReactorKind>().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("kqueue"), "{e}");
}

#[test]
fn one_core_per_cpu_counts_the_cpus_this_process_may_use_and_runs_them() {
    let allowed = coreloop_runtime::sys::sched::sched_getaffinity(0)
        .unwrap()
        .count();
    for kind in testing::reactors(module_path!()) {
        let rt = Runtime::builder()
            .cores(3)
            .one_core_per_cpu()
            .reactor(kind)
            .env_override(false)
            .build()
            .unwrap();
        assert_eq!(rt.cores(), allowed);
        let indexes = rt.run(|info| async move { info.index }).unwrap();
        assert_eq!(indexes, (0..allowed).collect::<Vec<_>>());
        // cores() after one_core_per_cpu() takes over again.
        let rt = Runtime::builder()
            .one_core_per_cpu()
            .cores(2)
            .reactor(kind)
            .env_override(false)
            .build()
            .unwrap();
        assert_eq!(rt.cores(), 2);
    }
    let e = Runtime::builder().cores(0).build().err().unwrap();
    assert!(e.to_string().contains("one_core_per_cpu"), "{e}");
}

#[test]
fn spawn_on_from_block_on_reaches_core_0_and_explains_the_others() {
    for kind in testing::reactors(module_path!()) {
        let rt = Runtime::builder()
            .cores(4)
            .reactor(kind)
            .env_override(false)
            .build()
            .unwrap();
        rt.block_on(async {
            assert_eq!(spawn_on(0, async { 7 }).unwrap().await.unwrap(), 7);
            let Err(e) = spawn_on(1, async {}) else {
                panic!("core 1 does not run in block_on, yet spawn_on(1) succeeded");
            };
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            let msg = e.to_string();
            assert!(msg.contains("block_on runs core 0 alone"), "{msg}");
            assert!(msg.contains("Runtime::run"), "{msg}");
        });
        // Inside run, the same call crosses cores; past the last core it names the range.
        let out = rt
            .run(|info| async move {
                if info.index != 0 {
                    return None;
                }
                let there = spawn_on(3, async { coreloop_runtime::current_core() })
                    .unwrap()
                    .await
                    .unwrap();
                let Err(e) = spawn_on(4, async { None::<usize> }) else {
                    panic!("spawn_on(4) on a 4-core runtime succeeded");
                };
                Some((there, e.to_string()))
            })
            .unwrap();
        let (there, msg) = out[0].clone().unwrap();
        assert_eq!(there, Some(3));
        assert!(msg.contains("cores 0..4, not core 4"), "{msg}");
    }
}
