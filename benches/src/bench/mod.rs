//! `coreloop-bench`: drop-in reactor benchmarking for any TCP server.
//!
//! The pieces, in the order a run uses them: [`cli`] turns flags into a checked [`cli::Plan`]
//! ([`preset`] builds the `reactor-ab` one); [`spec`] names servers and cases; [`server`]
//! starts a server, waits for its port to accept, and stops it; [`load`] is the built-in
//! echo and HTTP/1.1 load (max throughput or fixed rate); [`procfs`] reads CPU time, memory,
//! interrupts and steal; [`run`] interleaves the rounds; [`report`] keeps every raw sample,
//! summarises and prints the table; [`html`] draws the charts.
//!
//! The HTTP load is built in rather than `wrk`: `wrk` has no fixed-rate mode (that is
//! `wrk2`, which no distribution packages), reports no latency when a script pipelines, and
//! is one more thing to install; the built-in load shares the echo load's open-loop pacer
//! and answer checks, so a garbage answer is caught and named in either protocol.

pub mod cli;
pub mod html;
pub mod load;
pub mod preset;
pub mod procfs;
pub mod report;
pub mod run;
pub mod server;
pub mod spec;

/// Sends `sig` to `pid` (a negative pid is a process group); errors are ignored, the
/// process may be gone already.
pub fn signal(pid: i32, sig: i32) {
    // SAFETY: kill takes no pointers.
    unsafe { libc::kill(pid, sig) };
}
