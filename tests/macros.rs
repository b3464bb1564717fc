//! `#[coreloop::test]` and `#[coreloop::main]` in real use: the test attribute makes one
//! test per reactor that really runs there, passes `?` and `#[should_panic]` through, and can
//! pick one reactor; the main attribute runs on one core or on every core and honours
//! `CORELOOP_REACTOR`.

use coreloop::ReactorKind;
use coreloop::io::AsyncWriteRentExt;
use coreloop::net::UnixStream;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The reactor named by this test's own name (`…::uring` or `…::epoll`).
fn reactor_of_this_test() -> ReactorKind {
    let thread = std::thread::current();
    let name = thread.name().unwrap_or_default();
    if name.ends_with("uring") {
        ReactorKind::Uring
    } else if name.ends_with("epoll") {
        ReactorKind::Epoll
    } else {
        panic!("test thread {name:?} names no reactor")
    }
}

#[coreloop::test]
async fn each_case_runs_on_its_named_reactor() {
    assert_eq!(coreloop::current_reactor(), Some(reactor_of_this_test()));
    let (mut a, b) = UnixStream::pair().unwrap();
    let (res, _) = a.write_all(b"ping".to_vec()).await;
    res.unwrap();
    let (res, buf) = b.read(Vec::with_capacity(16)).await;
    assert_eq!(res.unwrap(), 4);
    assert_eq!(buf, b"ping");
}

#[coreloop::test]
async fn a_result_body_may_use_the_question_mark() -> io::Result<()> {
    let (a, b) = UnixStream::pair()?;
    drop(a);
    let (res, _) = b.read(Vec::with_capacity(4)).await;
    assert_eq!(res?, 0, "end of stream once the peer is gone");
    Ok(())
}

#[coreloop::test]
#[should_panic(expected = "on purpose")]
async fn attributes_apply_to_both_cases() {
    coreloop::time::sleep(std::time::Duration::from_millis(1)).await;
    panic!("on purpose");
}

#[coreloop::test(reactor = "epoll")]
async fn one_reactor_only() {
    assert_eq!(coreloop::current_reactor(), Some(ReactorKind::Epoll));
}

/// `#[coreloop::main]` need not be on `main`: here it makes a plain function that builds a
/// runtime and runs the body on it.
#[coreloop::main(reactor = "epoll")]
async fn one_core_main() -> (Option<ReactorKind>, Option<usize>) {
    coreloop::time::sleep(std::time::Duration::from_millis(1)).await;
    (coreloop::current_reactor(), coreloop::core_count())
}

static RUNS: AtomicUsize = AtomicUsize::new(0);

#[coreloop::main(cores = 2, reactor = "epoll")]
async fn every_core_main() -> Result<(), String> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    match coreloop::current_core() {
        Some(1) => Err("core 1 says no".to_string()),
        _ => Ok(()),
    }
}

#[test]
fn main_runs_on_one_core_by_default() {
    assert_eq!(one_core_main(), (Some(ReactorKind::Epoll), Some(1)));
}

#[test]
fn main_with_cores_runs_on_every_core_and_returns_the_first_error() {
    assert_eq!(every_core_main(), Err("core 1 says no".to_string()));
    assert_eq!(RUNS.load(Ordering::SeqCst), 2);
}

/// Prints the reactor `#[coreloop::main(reactor = "epoll")]` ended up with; run by the next
/// test in a child process with `CORELOOP_REACTOR` set.
#[test]
#[ignore = "run by main_honours_coreloop_reactor in a child process"]
fn print_main_reactor() {
    println!("REACTOR={:?}", one_core_main().0);
}

#[test]
fn main_honours_coreloop_reactor() {
    // io_uring where the kernel gives it; else epoll (the point is the variable is honoured).
    let (var, want) = if coreloop::testing::uring_refusal().is_none() {
        ("uring", "REACTOR=Some(Uring)")
    } else {
        ("epoll", "REACTOR=Some(Epoll)")
    };
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "print_main_reactor", "--ignored", "--nocapture"])
        .env("CORELOOP_REACTOR", var)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(want), "{stdout}");
}
