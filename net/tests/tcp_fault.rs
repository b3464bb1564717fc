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

// Every kind of fault at once. An injected EAGAIN or short count did not come from the kernel,
// so the epoll reactor does not take it as news about readiness (see `sys::fault`): the op
// simply tries again, as it would after a spurious wake-up.
fn plan() -> fault::PlanGuard {
    Plan::new(fault::seed_from_env())
        .rule(Rule::new(&IO, Action::Fail(Errno::EINTR)).probability(0.2))
        .rule(Rule::new(&IO, Action::Fail(Errno::EAGAIN)).probability(0.05))
        .rule(Rule::new(&IO, Action::Short).probability(0.3))
        .install()
}

reactor_test! {
    async fn echo_under_faults() {
        let guard = plan();
        let before = fault::injected();
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
        let injected = fault::injected() - before;
        eprintln!("seed {}: {injected} faults injected", guard.seed());
        if coreloop_runtime::current_reactor() == Some(coreloop_runtime::ReactorKind::Epoll) {
            assert!(injected > 100, "the faults really happened: {injected}");
        }
    }
}
