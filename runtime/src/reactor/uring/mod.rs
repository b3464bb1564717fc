//! The io_uring backend of the reactor.
//!
//! - One ring per core, created on the core's own thread (so `SINGLE_ISSUER` holds). Each
//!   entry's `user_data` is a key into the core's in-flight table (`op::InFlight`); keys with
//!   the top bit set are the reactor's own entries.
//! - Batched: ops only queue entries; one `io_uring_enter` per loop turn submits them all and
//!   waits (`GETEVENTS`, with the deadline as an `EXT_ARG` timeout). Completions are drained in
//!   one pass. A full SQ is submitted and the push retried — never dropped.
//! - CQ overflow: with `IORING_FEAT_NODROP` the kernel keeps overflowed completions and flags
//!   the SQ; the drain sees the flag and enters again to flush them, until none are left.
//! - Unpark: an 8-byte read of the core's eventfd is kept armed on the ring.
//! - Set-up flags: `setup` probes from the most to the least capable set the kernel accepts.

mod setup;

pub use setup::Setup;
pub(crate) use setup::build;

use super::Ledger;
use super::in_flight::OpKey;
use crate::sys::Errno;
use crate::sys::uring::{self as sys_uring, GeteventsArg, KernelTimespec};
use io_uring::{IoUring, opcode, squeue, types};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

/// How many times a full SQ is handed to a kernel that will not take it before the op that
/// needed room fails with the kernel's error (instead of spinning).
const SUBMIT_RETRIES: u32 = 64;

/// The completion of the armed eventfd read.
const UNPARK_KEY: u64 = u64::MAX;
/// Completions of cancel requests (the cancelled op reports on its own key).
const CANCEL_KEY: u64 = u64::MAX - 1;

pub(crate) struct UringBackend {
    /// What `io_uring_enter` names the ring by: its index among the registered ring fds, or its
    /// fd if it could not be registered (`enter_flags` says which).
    enter_fd: RawFd,
    enter_flags: u32,
    ring: IoUring,
    setup: Setup,
    unpark_fd: RawFd,
    /// Where the armed eventfd read writes; boxed so its address is stable.
    unpark_buf: Box<u64>,
    unpark_armed: bool,
}

impl UringBackend {
    pub(crate) fn setup(&self) -> &Setup {
        &self.setup
    }

    /// Registers the ring's fd with itself (`IORING_REGISTER_RING_FDS`), so each enter skips
    /// the fd table look-up; a kernel that refuses (before 5.18) keeps the plain fd.
    pub(crate) fn register_ring_fd(&mut self) {
        let mut update = sys_uring::RsrcUpdate {
            offset: u32::MAX,
            resv: 0,
            data: self.ring.as_raw_fd() as u64,
        };
        // SAFETY: `update` is a valid io_uring_rsrc_update, read and written back by the kernel
        // during the call only.
        let res = unsafe {
            sys_uring::io_uring_register(
                self.ring.as_raw_fd(),
                sys_uring::IORING_REGISTER_RING_FDS,
                (&mut update as *mut sys_uring::RsrcUpdate).cast(),
                1,
            )
        };
        if res == Ok(1) {
            self.enter_fd = update.offset as RawFd;
            self.enter_flags = sys_uring::IORING_ENTER_REGISTERED_RING;
            self.setup.registered_ring_fd = true;
        }
    }

    /// The ring's descriptor (to register resources with it).
    pub(crate) fn ring_fd(&self) -> RawFd {
        self.ring.as_raw_fd()
    }

    /// Queues an entry, submitting what is queued first if the SQ is full. Fails only if the
    /// kernel keeps refusing to take the queued entries.
    pub(crate) fn push(&mut self, entry: squeue::Entry, ledger: &mut Ledger) -> Result<(), Errno> {
        let mut refused = 0;
        loop {
            // SAFETY: entries come from `OpCode::uring_entry` (whose contract keeps every
            // pointer on the heap and valid while the op is alive, wherever the op moves, and the
            // op stays alive — in its future or orphaned in the in-flight table — until its
            // completion) or from this
            // reactor's own boxed fields, which live as long as the ring.
            if unsafe { self.ring.submission().push(&entry) }.is_ok() {
                return Ok(());
            }
            // SQ full: hand what is queued to the kernel, then try again.
            let before = self.ring.submission().len();
            let res = self.enter(0, None, ledger);
            if self.ring.submission().len() < before {
                refused = 0;
                continue;
            }
            refused += 1;
            if refused >= SUBMIT_RETRIES {
                // The kernel took none of the queued entries, time after time (EBUSY/EAGAIN
                // with nothing to drain, or a harder error): fail this op, never spin.
                return Err(res.err().unwrap_or(Errno::EBUSY));
            }
        }
    }

    /// Asks the kernel to cancel the op under `key`; its own completion still follows.
    pub(crate) fn cancel(&mut self, key: OpKey, ledger: &mut Ledger) {
        let entry = opcode::AsyncCancel::new(key.to_user_data())
            .build()
            .user_data(CANCEL_KEY);
        // A cancel the kernel will not take only means the op runs to its end: its completion
        // still releases it.
        let _ = self.push(entry, ledger);
    }

    pub(crate) fn park(
        &mut self,
        timeout: Option<Duration>,
        ledger: &mut Ledger,
    ) -> io::Result<()> {
        if !self.unpark_armed {
            let entry = opcode::Read::new(
                types::Fd(self.unpark_fd),
                (&mut *self.unpark_buf as *mut u64).cast(),
                8,
            )
            .build()
            .user_data(UNPARK_KEY);
            if self.push(entry, ledger).is_ok() {
                self.unpark_armed = true;
            }
        }
        let min_complete = if timeout == Some(Duration::ZERO) {
            0
        } else {
            1
        };
        self.enter(min_complete, timeout, ledger)
            .map_err(io::Error::from)
    }

    /// One `io_uring_enter`: submits everything queued, waits for `min_complete` completions
    /// (bounded by `timeout`), then drains the CQ, flushing any overflow.
    fn enter(
        &mut self,
        min_complete: u32,
        timeout: Option<Duration>,
        ledger: &mut Ledger,
    ) -> Result<(), Errno> {
        let to_submit = {
            let mut sq = self.ring.submission();
            sq.sync();
            sq.len() as u32
        };
        let ts;
        let arg;
        let (arg_ptr, arg_size, ext) = match timeout {
            Some(t) if min_complete > 0 => {
                ts = KernelTimespec {
                    tv_sec: t.as_secs() as i64,
                    tv_nsec: t.subsec_nanos() as i64,
                };
                arg = GeteventsArg {
                    ts: &ts as *const KernelTimespec as u64,
                    ..Default::default()
                };
                (
                    &arg as *const GeteventsArg as *const u8,
                    size_of::<GeteventsArg>(),
                    sys_uring::IORING_ENTER_EXT_ARG,
                )
            }
            _ => (std::ptr::null(), 0, 0),
        };
        let flags = sys_uring::IORING_ENTER_GETEVENTS | ext | self.enter_flags;
        ledger.stats.reactor_syscalls += 1;
        // SAFETY: every queued entry points to memory kept alive until its completion (see
        // `push`); `arg` and `ts` live on this stack frame across the call.
        let res = unsafe {
            sys_uring::io_uring_enter(
                self.enter_fd,
                to_submit,
                min_complete,
                flags,
                arg_ptr,
                arg_size,
            )
        };
        match res {
            Ok(n) => ledger.stats.submitted += n as u64,
            // The deadline passed, a signal arrived, or the kernel wants the CQ drained before
            // it takes more: all are "look at the CQ and go round again" (a full SQ that stays
            // full is bounded by `push`).
            Err(Errno::ETIME | Errno::EINTR | Errno::EBUSY | Errno::EAGAIN) => {}
            Err(e) => return Err(e),
        }
        self.drain(ledger);
        Ok(())
    }

    fn drain(&mut self, ledger: &mut Ledger) {
        loop {
            let mut unparked = false;
            for cqe in self.ring.completion() {
                match cqe.user_data() {
                    UNPARK_KEY => unparked = true,
                    CANCEL_KEY => {}
                    data => {
                        let Some(key) = OpKey::from_user_data(data) else {
                            continue;
                        };
                        let r = cqe.result();
                        let res = if r < 0 {
                            Err(Errno::from_raw(-r))
                        } else {
                            Ok(r as usize)
                        };
                        ledger.complete(key, res, cqe.flags());
                    }
                }
            }
            if unparked {
                ledger.stats.unparks += 1;
                self.unpark_armed = false;
            }
            if !self.ring.submission().cq_overflow() {
                return;
            }
            // Completions overflowed the CQ and wait in the kernel: an enter flushes them.
            ledger.stats.cq_overflows += 1;
            ledger.stats.reactor_syscalls += 1;
            // SAFETY: submits nothing and passes no argument.
            let _ = unsafe {
                sys_uring::io_uring_enter(
                    self.enter_fd,
                    0,
                    0,
                    sys_uring::IORING_ENTER_GETEVENTS | self.enter_flags,
                    std::ptr::null(),
                    0,
                )
            };
        }
    }
}

impl Drop for UringBackend {
    fn drop(&mut self) {
        self.cancel_unpark();
        if self.enter_flags & sys_uring::IORING_ENTER_REGISTERED_RING != 0 {
            // A registered ring fd holds the ring until the thread exits: let go of it now, so
            // a thread that builds runtime after runtime does not keep their rings.
            let mut update = sys_uring::RsrcUpdate {
                offset: self.enter_fd as u32,
                ..Default::default()
            };
            // SAFETY: a valid io_uring_rsrc_update, used by the kernel during the call only.
            let _ = unsafe {
                sys_uring::io_uring_register(
                    self.ring.as_raw_fd(),
                    sys_uring::IORING_UNREGISTER_RING_FDS,
                    (&mut update as *mut sys_uring::RsrcUpdate).cast(),
                    1,
                )
            };
        }
    }
}

impl UringBackend {
    fn cancel_unpark(&mut self) {
        if !self.unpark_armed {
            return;
        }
        // The armed eventfd read may still write `unpark_buf`: cancel it and wait (briefly)
        // for its completion; if it does not come, leak the 8 bytes rather than free them.
        let cancel = opcode::AsyncCancel::new(UNPARK_KEY)
            .build()
            .user_data(CANCEL_KEY);
        // SAFETY: a cancel entry points to no memory.
        if unsafe { self.ring.submission().push(&cancel) }.is_ok() {
            for _ in 0..100 {
                // SAFETY: submits the cancel; every other queued entry's memory is owned by an
                // op that the executor waited for or leaked.
                let _ = unsafe {
                    sys_uring::io_uring_enter(
                        self.enter_fd,
                        self.ring.submission().len() as u32,
                        0,
                        sys_uring::IORING_ENTER_GETEVENTS | self.enter_flags,
                        std::ptr::null(),
                        0,
                    )
                };
                if self.ring.completion().any(|c| c.user_data() == UNPARK_KEY) {
                    return;
                }
                std::thread::sleep(Duration::from_micros(100));
            }
        }
        std::mem::forget(std::mem::replace(&mut self.unpark_buf, Box::new(0)));
    }
}

/// Checks the `OpCode` contract in debug builds (every test): no pointer field of an entry
/// (`addr`, `addr2`/`off`, `addr3`) may point into the op's own inline bytes, since the op may
/// move while the kernel holds the entry. A file offset could in principle collide with that
/// range; a real one never comes near a heap or stack address.
#[cfg(debug_assertions)]
pub(crate) fn assert_points_outside<T>(entry: &squeue::Entry, op: &T) {
    // SAFETY: `Entry` is a `repr(C)` wrapper of the 64-byte `io_uring_sqe`, whose layout puts
    // off/addr2, addr and addr3 in 64-bit words 1, 2 and 6; reading it as words is valid.
    let words: &[u64; 8] = unsafe { &*(entry as *const squeue::Entry).cast::<[u64; 8]>() };
    let start = op as *const T as u64;
    let end = start + size_of::<T>() as u64;
    for (name, w) in [
        ("off/addr2", words[1]),
        ("addr", words[2]),
        ("addr3", words[6]),
    ] {
        assert!(
            !(start..end).contains(&w),
            "io_uring entry field {name} points into the inline bytes of {}: box what the kernel \
             points into (see OpCode's Safety section)",
            std::any::type_name::<T>()
        );
    }
}
