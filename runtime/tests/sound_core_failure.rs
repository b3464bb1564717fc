//! Issue 10, defect 12: when one core's future panics, `Runtime::run` reports it at once
//! (stops the runtime and returns the error), even while other cores would run for much
//! longer. On main it reports only after every other core finished.

use coreloop_runtime::{ReactorKind, Runtime, time};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn a_panicking_core_stops_run_promptly(kind: ReactorKind) {
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let flag = stop.clone();
    let runner = std::thread::spawn(move || {
        let rt = Runtime::builder()
            .reactor(kind)
            .cores(2)
            .env_override(false)
            .build()
            .unwrap();
        let start = Instant::now();
        let res = rt.run(|info| {
            let flag = flag.clone();
            async move {
                if info.index == 1 {
                    time::sleep(Duration::from_millis(10)).await;
                    panic!("core 1 fails on purpose");
                }
                // Core 0 would serve for a long time (bounded so the thread ends).
                let until = Instant::now() + Duration::from_secs(10);
                while !flag.load(Ordering::Acquire) && Instant::now() < until {
                    time::sleep(Duration::from_millis(5)).await;
                }
            }
        });
        let _ = tx.send((res.map(|_| ()), start.elapsed()));
    });
    let got = rx.recv_timeout(Duration::from_secs(2));
    stop.store(true, Ordering::Release);
    let _ = runner.join();
    match got {
        Ok((Err(e), took)) => {
            assert!(
                e.to_string().contains("core 1"),
                "{kind}: the error names the failed core: {e}"
            );
            assert!(
                took < Duration::from_secs(2),
                "{kind}: reported after {took:?}"
            );
        }
        Ok((Ok(()), took)) => panic!("{kind}: run returned Ok after a core panicked ({took:?})"),
        Err(_) => panic!(
            "{kind}: a core panicked, but Runtime::run did not return within 2 s: the other \
             core goes on serving and the failure stays invisible"
        ),
    }
}

#[test]
fn a_panicking_core_stops_run_promptly_uring() {
    if !coreloop_runtime::testing::should_run(coreloop_runtime::ReactorKind::Uring, module_path!())
    {
        return;
    }
    a_panicking_core_stops_run_promptly(ReactorKind::Uring);
}

#[test]
fn a_panicking_core_stops_run_promptly_epoll() {
    a_panicking_core_stops_run_promptly(ReactorKind::Epoll);
}
