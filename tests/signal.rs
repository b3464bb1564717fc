//! Signals on both reactors: a raised signal reaches a listener, every listener on every core,
//! `ctrl_c`, and a signal sent to the core's own thread.
//!
//! Not run by libtest's harness: the module docs' rule is that signals must be blocked before
//! any other thread exists, and libtest's threads would otherwise take a process-directed
//! signal's default action (terminate). So `main` blocks them first, as a program would, then
//! runs each case on io_uring and on epoll.

use coreloop::signal::unix::{SignalKind, signal};
use coreloop::signal::{self, ctrl_c};
use coreloop::time::timeout;
use coreloop::unstable::sys::sched::{getpid, gettid};
use coreloop::unstable::sys::signal::{kill, tgkill};
use coreloop::{ReactorKind, Runtime};
use std::sync::Barrier;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

fn raise(kind: SignalKind) {
    kill(getpid(), kind.as_raw()).expect("kill(getpid())");
}

fn one_core(kind: ReactorKind) -> Runtime {
    Runtime::builder()
        .reactor(kind)
        .env_override(false)
        .build()
        .expect("runtime")
}

fn a_raised_signal_reaches_its_listener(kind: ReactorKind) {
    one_core(kind).block_on(async {
        let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
        raise(SignalKind::user_defined1());
        let got = timeout(WAIT, usr1.recv())
            .await
            .expect("SIGUSR1 within 5 s");
        assert_eq!(got, Some(()));
        // Delivered once: nothing more to receive, and waiting costs no busy loop.
        let before = coreloop::reactor_stats().unwrap();
        let again = timeout(Duration::from_millis(100), usr1.recv()).await;
        assert!(again.is_err(), "a second delivery that was never sent");
        let after = coreloop::reactor_stats().unwrap();
        let turns = after.reactor_syscalls - before.reactor_syscalls;
        assert!(
            turns < 20,
            "{turns} reactor syscalls in 100 ms of waiting: a busy loop"
        );
    });
}

fn every_listener_on_every_core_gets_it(kind: ReactorKind) {
    const CORES: usize = 2;
    let rt = Runtime::builder()
        .cores(CORES)
        .reactor(kind)
        .env_override(false)
        .build()
        .unwrap();
    let ready = Barrier::new(CORES);
    let got = rt
        .run(|core| {
            let ready = &ready;
            async move {
                // Two listeners per core, both registered before anyone raises.
                let mut a = signal(SignalKind::user_defined2()).unwrap();
                let mut b = signal(SignalKind::user_defined2()).unwrap();
                ready.wait();
                if core.index == 0 {
                    raise(SignalKind::user_defined2());
                }
                let a = timeout(WAIT, a.recv()).await.ok().flatten();
                let b = timeout(WAIT, b.recv()).await.ok().flatten();
                (a.is_some(), b.is_some())
            }
        })
        .unwrap();
    assert_eq!(
        got,
        vec![(true, true); CORES],
        "per core: (listener a, listener b)"
    );
}

fn ctrl_c_resolves_on_sigint(kind: ReactorKind) {
    one_core(kind).block_on(async {
        let raise_soon = async {
            coreloop::yield_now().await;
            raise(SignalKind::interrupt());
        };
        let (res, ()) = futures_util::future::join(timeout(WAIT, ctrl_c()), raise_soon).await;
        res.expect("SIGINT within 5 s").unwrap();
    });
}

fn a_signal_sent_to_the_core_thread_is_read_there(kind: ReactorKind) {
    one_core(kind).block_on(async {
        let mut hup = signal(SignalKind::hangup()).unwrap();
        tgkill(getpid(), gettid(), SignalKind::hangup().as_raw()).unwrap();
        let got = timeout(WAIT, hup.recv()).await.expect("SIGHUP within 5 s");
        assert_eq!(got, Some(()));
    });
}

fn sigkill_is_refused(_: ReactorKind) {
    let err = signal(SignalKind::from_raw(9)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

/// One test body, run once per reactor.
type Case = fn(ReactorKind);

fn main() {
    signal::block(&[
        SignalKind::user_defined1(),
        SignalKind::user_defined2(),
        SignalKind::interrupt(),
        SignalKind::hangup(),
    ])
    .expect("blocking the test signals");
    let cases: [(&str, Case); 5] = [
        (
            "a_raised_signal_reaches_its_listener",
            a_raised_signal_reaches_its_listener,
        ),
        (
            "every_listener_on_every_core_gets_it",
            every_listener_on_every_core_gets_it,
        ),
        ("ctrl_c_resolves_on_sigint", ctrl_c_resolves_on_sigint),
        (
            "a_signal_sent_to_the_core_thread_is_read_there",
            a_signal_sent_to_the_core_thread_is_read_there,
        ),
        ("sigkill_is_refused", sigkill_is_refused),
    ];
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let (mut passed, mut failed) = (0, 0);
    for (name, case) in cases {
        for (kind, tag) in [(ReactorKind::Uring, "uring"), (ReactorKind::Epoll, "epoll")] {
            let full = format!("{name}::{tag}");
            if !filter.is_empty() && !filter.iter().any(|f| full.contains(f.as_str())) {
                continue;
            }
            if !coreloop::testing::should_run(kind, &full) {
                continue;
            }
            let _dog = coreloop::testing::Watchdog::new(full.clone(), Duration::from_secs(60));
            match std::panic::catch_unwind(|| case(kind)) {
                Ok(()) => {
                    println!("test {full} ... ok");
                    passed += 1;
                }
                Err(_) => {
                    println!("test {full} ... FAILED");
                    failed += 1;
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
