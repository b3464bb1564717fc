//! Fault injection through the raw syscall layer: injected EINTR is retried, injected short
//! writes are finished by a caller loop with the stream intact, injected EMFILE surfaces
//! without creating a descriptor, and every call of a round trip is counted.
//!
//! Every test installs a seeded plan (`CORELOOP_FAULT_SEED` replays one) and keeps its
//! `PlanGuard` alive, so a failure prints the seed. The tests share one lock: the descriptor
//! count in `/proc/self/fd` is per process, and no other test may open one meanwhile.
#![cfg(feature = "fault-injection")]

use coreloop_runtime::sys::fault::{self, Action, Plan, Rule};
use coreloop_runtime::sys::socket::{AF_INET, SOCK_STREAM, socket};
use coreloop_runtime::sys::{Errno, io, nr};
use std::os::fd::RawFd;
use std::sync::{Mutex, MutexGuard};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Writes all of `buf`, at most `chunk` bytes per call, finishing short writes.
fn write_all(fd: RawFd, mut buf: &[u8], chunk: usize) -> Result<(), Errno> {
    while !buf.is_empty() {
        let n = io::write(fd, &buf[..buf.len().min(chunk)])?;
        assert!(n > 0, "write returned 0");
        buf = &buf[n..];
    }
    Ok(())
}

#[test]
fn injected_eintr_is_retried_by_read() {
    let _s = serial();
    let (r, w) = io::pipe(false).unwrap();
    io::write(w.raw(), b"after three interruptions").unwrap();

    let guard = Plan::new(fault::seed_from_env())
        .rule(Rule::new(&[nr::READ], Action::Fail(Errno::EINTR)).times(3))
        .install();
    fault::reset_calls();
    let mut buf = [0u8; 64];
    let n = io::read(r.raw(), &mut buf).unwrap();
    assert_eq!(&buf[..n], b"after three interruptions");
    assert_eq!(
        fault::calls(nr::READ),
        4,
        "three failed attempts and the real one"
    );
    assert_eq!(fault::injected(), 3);
    drop(guard);
}

#[test]
fn injected_short_writes_keep_the_stream_intact() {
    let _s = serial();
    const LEN: usize = 1 << 20;
    let data: Vec<u8> = (0..LEN).map(|i| (i * 31 % 251) as u8).collect();
    let (r, w) = io::pipe(false).unwrap();

    // The reader runs on its own thread, which has no plan: only the writer is faulted.
    let reader = std::thread::spawn(move || {
        let mut got = Vec::with_capacity(LEN);
        let mut buf = vec![0u8; 8192];
        loop {
            let n = io::read(r.raw(), &mut buf).unwrap();
            if n == 0 {
                return got;
            }
            got.extend_from_slice(&buf[..n]);
        }
    });

    let guard = Plan::new(fault::seed_from_env())
        .rule(Rule::new(&[nr::WRITE], Action::Short).probability(0.5))
        .install();
    fault::reset_calls();
    write_all(w.raw(), &data, 16 * 1024).unwrap();
    let writes = fault::calls(nr::WRITE);
    let shortened = fault::injected();
    drop(w);
    let got = reader.join().unwrap();

    assert_eq!(got.len(), LEN);
    assert!(got == data, "bytes differ after short writes");
    // At least 64 calls each had a 1 in 2 chance: some were shortened, so more calls were
    // needed than the 64 whole chunks.
    assert!(shortened > 0, "no write was shortened in {writes} calls");
    assert!(
        writes > 64,
        "{writes} writes for 64 chunks with {shortened} shortened"
    );
    drop(guard);
}

#[test]
fn injected_emfile_creates_no_socket() {
    let _s = serial();
    let guard = Plan::new(fault::seed_from_env())
        .rule(Rule::new(&[nr::SOCKET], Action::Fail(Errno::EMFILE)).times(1))
        .install();
    fault::reset_calls();
    let before = open_fds();
    let e = socket(AF_INET, SOCK_STREAM, 0).unwrap_err();
    assert_eq!(open_fds(), before, "a descriptor was created");
    assert_eq!(e, Errno::EMFILE);
    let err = std::io::Error::from(e);
    assert_eq!(err.raw_os_error(), Some(24));
    assert_eq!(fault::calls(nr::SOCKET), 1);

    // The rule fired its one time; the next socket is real.
    let s = socket(AF_INET, SOCK_STREAM, 0).unwrap();
    assert_eq!(open_fds(), before + 1);
    drop(s);
    assert_eq!(fault::calls(nr::SOCKET), 2);
    drop(guard);
}

#[test]
fn every_call_of_a_round_trip_is_counted() {
    let _s = serial();
    // An empty plan: nothing is injected, everything is counted.
    let guard = Plan::new(fault::seed_from_env()).install();
    fault::reset_calls();
    let (r, w) = io::pipe(false).unwrap();
    assert_eq!(fault::calls(nr::PIPE2), 1);
    io::write(w.raw(), b"counted").unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(io::read(r.raw(), &mut buf).unwrap(), 7);
    assert_eq!(fault::calls(nr::WRITE), 1);
    assert_eq!(fault::calls(nr::READ), 1);
    drop((r, w));
    assert_eq!(fault::calls(nr::CLOSE), 2);
    assert_eq!(fault::injected(), 0);
    drop(guard);
}
