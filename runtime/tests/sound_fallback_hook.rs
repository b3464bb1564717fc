//! Issue 10, minor: the fallback hook is called under its own mutex, so a hook that sets the
//! hook (or reads it) deadlocks. Setting the hook from inside the hook must not deadlock.
//! The fallback is forced by refusing io_uring_setup through the fault plan.
#![cfg(feature = "fault-injection")]

use coreloop_runtime::reactor::set_fallback_hook;
use coreloop_runtime::sys::fault::{Action, Plan, Rule};
use coreloop_runtime::sys::{Errno, nr};
use coreloop_runtime::{ReactorKind, Runtime};
use std::time::Duration;

#[test]
fn a_hook_that_sets_the_hook_does_not_deadlock() {
    set_fallback_hook(|_| {
        // Replace ourselves with a quiet hook.
        set_fallback_hook(|_| {});
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _plan = Plan::new(1)
            .rule(Rule::new(
                &[nr::IO_URING_SETUP],
                Action::Fail(Errno::ENOSYS),
            ))
            .install();
        let rt = Runtime::builder()
            .reactor(ReactorKind::Auto)
            .env_override(false)
            .build()
            .unwrap();
        let _ = tx.send(rt.reactor());
    });
    match rx.recv_timeout(Duration::from_secs(3)) {
        Ok(kind) => assert_eq!(kind, ReactorKind::Epoll),
        Err(_) => panic!(
            "building a runtime that falls back hung: the fallback hook, which sets the hook, \
             deadlocked on the hook's own mutex"
        ),
    }
}
