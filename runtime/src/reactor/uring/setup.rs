//! Ring set-up: the best flags this kernel accepts, and the ops we need.

use super::UringBackend;
use crate::sys::Errno;
use crate::sys::uring::setup_gate;
use io_uring::{IoUring, Probe, opcode};
use std::os::fd::AsRawFd;
use std::os::fd::RawFd;

/// What the ring was set up with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setup {
    /// Submission queue size, in entries.
    pub entries: u32,
    /// Completion queue size, in entries.
    pub cq_entries: u32,
    /// `IORING_SETUP_SINGLE_ISSUER`: only the owning thread submits.
    pub single_issuer: bool,
    /// `IORING_SETUP_DEFER_TASKRUN`: completion work runs only when the core enters the ring to
    /// wait.
    pub defer_taskrun: bool,
    /// `IORING_SETUP_COOP_TASKRUN`: the kernel does not interrupt the thread to run completion
    /// work.
    pub coop_taskrun: bool,
    /// `IORING_SETUP_SUBMIT_ALL`: a failing entry does not stop the rest of a batch.
    pub submit_all: bool,
    /// `IORING_FEAT_NODROP`: the kernel keeps completions that overflow the CQ instead of dropping
    /// them.
    pub nodrop: bool,
    /// `IORING_REGISTER_RING_FDS`: the ring's own fd is registered, so each `io_uring_enter`
    /// names it by index and skips the fd table look-up (Linux 5.18+).
    pub registered_ring_fd: bool,
}

/// Why the kernel refused io_uring, in words a user can act on.
pub(crate) struct Refusal {
    pub(crate) errno: Option<Errno>,
    pub(crate) reason: String,
}

impl Refusal {
    fn from_errno(e: Errno) -> Refusal {
        let why = match e {
            Errno::ENOSYS => "this kernel has no io_uring",
            Errno::EPERM => {
                "io_uring is not permitted here (kernel.io_uring_disabled or a seccomp filter)"
            }
            Errno::ENOMEM => {
                "the kernel could not lock memory for the ring (RLIMIT_MEMLOCK too low?)"
            }
            _ => "io_uring_setup failed",
        };
        Refusal {
            errno: Some(e),
            reason: format!("{why}: io_uring_setup returned {e}"),
        }
    }
}

/// Flag sets to try, most capable first. `DEFER_TASKRUN` keeps completion work on this thread
/// (run when it enters the ring) instead of interrupting it from other CPUs; it needs
/// `SINGLE_ISSUER` (6.1+). `COOP_TASKRUN` (5.19+) at least avoids the interrupts.
const FLAG_SETS: [RingFlags; 4] = [
    RingFlags {
        single_issuer: true,
        defer_taskrun: true,
        coop_taskrun: false,
        submit_all: true,
    },
    RingFlags {
        single_issuer: true,
        defer_taskrun: false,
        coop_taskrun: true,
        submit_all: true,
    },
    RingFlags {
        single_issuer: false,
        defer_taskrun: false,
        coop_taskrun: true,
        submit_all: true,
    },
    RingFlags {
        single_issuer: false,
        defer_taskrun: false,
        coop_taskrun: false,
        submit_all: false,
    },
];

/// One set of ring set-up flags to try.
#[derive(Clone, Copy)]
struct RingFlags {
    single_issuer: bool,
    defer_taskrun: bool,
    coop_taskrun: bool,
    submit_all: bool,
}

/// The io_uring ops coreloop submits; a kernel without one of them gets the epoll reactor.
const NEEDED_OPS: &[(u8, &str)] = &[
    (opcode::Nop::CODE, "NOP"),
    (opcode::Read::CODE, "READ"),
    (opcode::Write::CODE, "WRITE"),
    (opcode::Readv::CODE, "READV"),
    (opcode::Writev::CODE, "WRITEV"),
    (opcode::Accept::CODE, "ACCEPT"),
    (opcode::Connect::CODE, "CONNECT"),
    (opcode::Recv::CODE, "RECV"),
    (opcode::Send::CODE, "SEND"),
    (opcode::SendMsg::CODE, "SENDMSG"),
    (opcode::RecvMsg::CODE, "RECVMSG"),
    (opcode::AsyncCancel::CODE, "ASYNC_CANCEL"),
    (opcode::OpenAt::CODE, "OPENAT"),
    (opcode::Statx::CODE, "STATX"),
    (opcode::Fsync::CODE, "FSYNC"),
    (opcode::Fallocate::CODE, "FALLOCATE"),
    (opcode::Close::CODE, "CLOSE"),
    (opcode::UnlinkAt::CODE, "UNLINKAT"),
    (opcode::RenameAt::CODE, "RENAMEAT"),
    (opcode::MkDirAt::CODE, "MKDIRAT"),
    (opcode::Shutdown::CODE, "SHUTDOWN"),
];

pub(crate) fn build(
    entries: u32,
    cq_entries: Option<u32>,
    unpark_fd: RawFd,
) -> Result<UringBackend, Refusal> {
    setup_gate().map_err(Refusal::from_errno)?;
    let mut last = None;
    for flags in FLAG_SETS {
        let RingFlags {
            single_issuer,
            defer_taskrun,
            coop_taskrun,
            submit_all,
        } = flags;
        let mut b = IoUring::builder();
        if single_issuer {
            b.setup_single_issuer();
        }
        if defer_taskrun {
            b.setup_defer_taskrun();
        }
        if coop_taskrun {
            b.setup_coop_taskrun();
        }
        if submit_all {
            b.setup_submit_all();
        }
        if let Some(cq) = cq_entries {
            b.setup_cqsize(cq);
        }
        let ring = match b.build(entries) {
            Ok(r) => r,
            Err(e) => {
                let errno = Errno::from_raw(e.raw_os_error().unwrap_or(Errno::EINVAL.raw()));
                // EINVAL: this kernel does not know one of the flags; try fewer.
                if errno == Errno::EINVAL {
                    last = Some(errno);
                    continue;
                }
                return Err(Refusal::from_errno(errno));
            }
        };
        let params = ring.params();
        if !params.is_feature_ext_arg() {
            return Err(Refusal {
                errno: None,
                reason: "the kernel's io_uring lacks IORING_FEAT_EXT_ARG (Linux 5.11+), which \
                         coreloop needs for timed waits"
                    .into(),
            });
        }
        let mut probe = Probe::new();
        if ring.submitter().register_probe(&mut probe).is_ok() {
            let missing: Vec<&str> = NEEDED_OPS
                .iter()
                .filter(|(code, _)| !probe.is_supported(*code))
                .map(|(_, name)| *name)
                .collect();
            if !missing.is_empty() {
                return Err(Refusal {
                    errno: None,
                    reason: format!(
                        "the kernel's io_uring lacks ops coreloop uses: {}",
                        missing.join(", ")
                    ),
                });
            }
        }
        let setup = Setup {
            entries: params.sq_entries(),
            cq_entries: params.cq_entries(),
            single_issuer,
            defer_taskrun,
            coop_taskrun,
            submit_all,
            nodrop: params.is_feature_nodrop(),
            registered_ring_fd: false,
        };
        let mut backend = UringBackend {
            enter_fd: ring.as_raw_fd(),
            enter_flags: 0,
            ring,
            setup,
            unpark_fd,
            unpark_buf: Box::new(0),
            unpark_armed: false,
        };
        backend.register_ring_fd();
        return Ok(backend);
    }
    Err(Refusal::from_errno(last.unwrap_or(Errno::EINVAL)))
}
