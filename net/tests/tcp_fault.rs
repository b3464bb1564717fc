//! The TCP echo under injected faults: EINTR, EAGAIN and short counts at random (seeded by
//! `CORELOOP_FAULT_SEED`), on the I/O syscalls only (never on epoll_pwait, io_uring_enter or
//! eventfd). On io_uring the I/O happens in the kernel, so only the epoll run really sees
//! them; both runs must still be byte-identical.
#![cfg(feature = "fault-injection")]

mod common;

use common::{check_echo, serve_echo};
use coreloop_net::{TcpListener, TcpStream};
use coreloop_runtime::sys::fault::{self, Action, Plan, Rule};
use coreloop_runtime::sys::{Errno, nr};
use coreloop_runtime::{reactor_test, spawn};

const IO: [usize; 10] = [
    nr::READ,
    nr::WRITE,
    nr::SENDTO,
    nr::RECVFROM,
    nr::SENDMSG,
    nr::RECVMSG,
    nr::READV,
    nr::WRITEV,
    nr::ACCEPT4,
    nr::CONNECT,
];

// No Action::Short rule yet: on the epoll path an injected short count is taken as "drained"
// (Mode::Readiness `full`), readiness is cleared while data is still queued, and the echo
// hangs waiting for an edge that never comes. A runtime question, reported, not hidden here.
fn plan() -> fault::PlanGuard {
    Plan::new(fault::seed_from_env())
        // Not CONNECT: an injected EINTR skips the call, while a real one leaves the kernel
        // connecting, so the op would wait for an edge that never comes.
        .rule(Rule::new(&IO[..9], Action::Fail(Errno::EINTR)).probability(0.2))
        .rule(Rule::new(&IO, Action::Fail(Errno::EAGAIN)).probability(0.01))
        .install()
}

reactor_test! {
    async fn echo_under_faults() {
        let _guard = plan();
        for addr in ["127.0.0.1:0", "[::1]:0"] {
            let l = TcpListener::bind(addr).unwrap();
            let at = l.local_addr().unwrap();
            let server = spawn(async move {
                for _ in 0..3 {
                    let (s, _) = l.accept().await.unwrap();
                    spawn(serve_echo(s));
                }
            });
            for n in [1, 64 * 1024, 4 * 1024 * 1024] {
                check_echo(TcpStream::connect(at).await.unwrap(), n).await;
            }
            server.await.unwrap();
        }
    }
}
