//! `auto` falls back to epoll when the kernel refuses io_uring, saying why; `uring` refuses.
//! The refusals are injected at ring set-up through the fault plan.
#![cfg(feature = "fault-injection")]

use coreloop_runtime::reactor::set_fallback_hook;
use coreloop_runtime::sys::fault::{Action, Plan, Rule};
use coreloop_runtime::sys::{Errno, nr};
use coreloop_runtime::{ReactorKind, Runtime};
use std::sync::Mutex;

static SAID: Mutex<Vec<String>> = Mutex::new(Vec::new());

#[test]
fn injected_refusals_fall_back_with_the_reason_and_strict_uring_fails() {
    set_fallback_hook(|choice| SAID.lock().unwrap().push(choice.to_string()));
    for (errno, words) in [
        (Errno::ENOSYS, "no io_uring"),
        (Errno::EPERM, "not permitted"),
        (Errno::ENOMEM, "RLIMIT_MEMLOCK"),
    ] {
        let _plan = Plan::new(1)
            .rule(Rule::new(&[nr::IO_URING_SETUP], Action::Fail(errno)))
            .install();

        SAID.lock().unwrap().clear();
        let rt = Runtime::builder()
            .reactor(ReactorKind::Auto)
            .env_override(false)
            .build()
            .unwrap();
        assert_eq!(rt.reactor(), ReactorKind::Epoll);
        let reason = rt.choice().reason.clone().expect("a fallback has a reason");
        assert!(
            reason.contains(words) && reason.contains(&format!("{errno:?}")),
            "{reason}"
        );
        let said = SAID.lock().unwrap().clone();
        assert_eq!(said.len(), 1, "said exactly once: {said:?}");
        assert!(
            said[0].contains("reactor epoll") && said[0].contains(words),
            "{said:?}"
        );
        // The fallen-back runtime works.
        assert_eq!(rt.block_on(async { 3 }), 3);

        let err = Runtime::builder()
            .reactor(ReactorKind::Uring)
            .env_override(false)
            .build()
            .err()
            .expect("strict uring");
        assert_eq!(
            err.raw_os_error(),
            None,
            "the message carries the errno: {err}"
        );
        assert!(err.to_string().contains(words), "{err}");
        assert_eq!(err.kind(), std::io::Error::from(errno).kind(), "{err}");
    }
}

#[test]
fn the_environment_overrides_the_builder() {
    // SAFETY: this test binary's only other test does not read the environment.
    unsafe { std::env::set_var("CORELOOP_REACTOR", "epoll") };
    let rt = Runtime::builder()
        .reactor(ReactorKind::Uring)
        .build()
        .unwrap();
    assert_eq!(rt.reactor(), ReactorKind::Epoll);
    // SAFETY: as above.
    unsafe { std::env::set_var("CORELOOP_REACTOR", "bogus") };
    let err = Runtime::builder().build().err().unwrap();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("CORELOOP_REACTOR"), "{err}");
    // SAFETY: as above.
    unsafe { std::env::remove_var("CORELOOP_REACTOR") };
}
