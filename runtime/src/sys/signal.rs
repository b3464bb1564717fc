//! Signals: `rt_sigprocmask`, `signalfd4`, `kill`, `tgkill`.
//!
//! A signal is read from a signalfd only if it is blocked (in every thread that could
//! otherwise take it); the mask is per thread, so block it with [`rt_sigprocmask`] on the
//! threads concerned before relying on the signalfd.

use super::arch::nr;
use super::call::{call2, call3, call4};
use super::errno::Errno;
use super::fd::OwnedFd;
use super::io;
use std::os::fd::RawFd;

/// Hang-up of the controlling terminal; by convention "reload".
pub const SIGHUP: u32 = 1;
/// Interrupt from the keyboard (Ctrl-C).
pub const SIGINT: u32 = 2;
/// Quit from the keyboard (Ctrl-\\).
pub const SIGQUIT: u32 = 3;
/// Abort (`abort(3)`).
pub const SIGABRT: u32 = 6;
/// Kill; cannot be caught, blocked or read from a signalfd.
pub const SIGKILL: u32 = 9;
/// User-defined signal 1.
pub const SIGUSR1: u32 = 10;
/// Invalid memory reference.
pub const SIGSEGV: u32 = 11;
/// User-defined signal 2.
pub const SIGUSR2: u32 = 12;
/// Write to a pipe or socket with no reader (coreloop's sends use `MSG_NOSIGNAL`).
pub const SIGPIPE: u32 = 13;
/// Timer signal (`alarm(2)`).
pub const SIGALRM: u32 = 14;
/// Termination request.
pub const SIGTERM: u32 = 15;
/// A child stopped or terminated.
pub const SIGCHLD: u32 = 17;
/// Continue if stopped.
pub const SIGCONT: u32 = 18;
/// Stop; cannot be caught or blocked.
pub const SIGSTOP: u32 = 19;
/// The terminal window changed size.
pub const SIGWINCH: u32 = 28;

/// `rt_sigprocmask`: add the set to the blocked signals.
pub const SIG_BLOCK: u32 = 0;
/// `rt_sigprocmask`: remove the set from the blocked signals.
pub const SIG_UNBLOCK: u32 = 1;
/// `rt_sigprocmask`: make the set the blocked signals.
pub const SIG_SETMASK: u32 = 2;

/// `signalfd4`: close-on-exec (always added).
pub const SFD_CLOEXEC: u32 = 0o2000000;
/// `signalfd4`: non-blocking reads.
pub const SFD_NONBLOCK: u32 = 0o4000;

/// The kernel's signal set: one bit per signal 1..=64 (8 bytes, not glibc's 128).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct SigSet(u64);

impl SigSet {
    /// No signals.
    pub const fn empty() -> SigSet {
        SigSet(0)
    }
    /// Every signal 1..=64.
    pub const fn full() -> SigSet {
        SigSet(u64::MAX)
    }
    /// Adds `sig` (1..=64; others are ignored).
    pub fn add(&mut self, sig: u32) -> &mut SigSet {
        if (1..=64).contains(&sig) {
            self.0 |= 1 << (sig - 1);
        }
        self
    }
    /// Removes `sig` (1..=64; others are ignored).
    pub fn remove(&mut self, sig: u32) -> &mut SigSet {
        if (1..=64).contains(&sig) {
            self.0 &= !(1 << (sig - 1));
        }
        self
    }
    /// True if `sig` is in the set (false for numbers outside 1..=64).
    pub fn contains(&self, sig: u32) -> bool {
        (1..=64).contains(&sig) && self.0 & (1 << (sig - 1)) != 0
    }
    /// A set holding exactly `sigs`.
    pub fn of(sigs: &[u32]) -> SigSet {
        let mut s = SigSet::empty();
        sigs.iter().for_each(|&sig| {
            s.add(sig);
        });
        s
    }
    /// The raw bit mask (bit `n - 1` is signal `n`).
    pub const fn bits(&self) -> u64 {
        self.0
    }
}

const SIGSET_SIZE: usize = size_of::<SigSet>();

/// `rt_sigprocmask(2)` for the calling thread: `how` is `SIG_BLOCK`, `SIG_UNBLOCK` or
/// `SIG_SETMASK`; `set` `None` only reads the mask. Returns the previous mask.
pub fn rt_sigprocmask(how: u32, set: Option<&SigSet>) -> Result<SigSet, Errno> {
    let mut old = SigSet::empty();
    let set = set.map_or(std::ptr::null(), |s| s as *const SigSet);
    // SAFETY: set is null or a readable SigSet, old a writable one, each SIGSET_SIZE bytes,
    // for the whole call.
    unsafe {
        call4(
            nr::RT_SIGPROCMASK,
            how as usize,
            set as usize,
            &mut old as *mut SigSet as usize,
            SIGSET_SIZE,
        )
    }?;
    Ok(old)
}

/// `signalfd4(2)`: a new descriptor that reads the signals in `mask`; `SFD_CLOEXEC` is always
/// added, `flags` may add `SFD_NONBLOCK`.
pub fn signalfd(mask: &SigSet, flags: u32) -> Result<OwnedFd, Errno> {
    // SAFETY: mask is a readable SigSet of SIGSET_SIZE bytes for the whole call.
    let fd = unsafe { signalfd4(-1, mask, flags | SFD_CLOEXEC) }?;
    // SAFETY: with fd -1, signalfd4 made a new descriptor that only we hold.
    Ok(unsafe { OwnedFd::from_raw(fd as RawFd) })
}

/// `signalfd4(2)` on an existing signalfd: replaces the set of signals it reads.
pub fn signalfd_set_mask(fd: RawFd, mask: &SigSet) -> Result<(), Errno> {
    if fd < 0 {
        // A negative fd would make a new descriptor that nothing owns.
        return Err(Errno::EBADF);
    }
    // SAFETY: mask is readable for the call; fd is not -1, so no descriptor is created.
    unsafe { signalfd4(fd, mask, 0) }.map(drop)
}

/// # Safety
/// When `fd` is -1 the caller takes ownership of the new descriptor returned.
unsafe fn signalfd4(fd: RawFd, mask: &SigSet, flags: u32) -> Result<usize, Errno> {
    // SAFETY: mask is a readable SigSet of SIGSET_SIZE bytes for the whole call.
    unsafe {
        call4(
            nr::SIGNALFD4,
            fd as usize,
            mask as *const SigSet as usize,
            SIGSET_SIZE,
            flags as usize,
        )
    }
}

/// `struct signalfd_siginfo`: what one read from a signalfd returns (128 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalfdSiginfo {
    /// Signal number.
    pub ssi_signo: u32,
    /// Error number (unused on Linux).
    pub ssi_errno: i32,
    /// Signal code (`SI_USER`, `SI_KERNEL`, ...).
    pub ssi_code: i32,
    /// Sender's PID.
    pub ssi_pid: u32,
    /// Sender's real UID.
    pub ssi_uid: u32,
    /// File descriptor (`SIGIO`).
    pub ssi_fd: i32,
    /// Kernel timer ID (POSIX timers).
    pub ssi_tid: u32,
    /// Band event (`SIGIO`).
    pub ssi_band: u32,
    /// Overrun count (POSIX timers).
    pub ssi_overrun: u32,
    /// Trap number that caused the signal.
    pub ssi_trapno: u32,
    /// Exit status or signal (`SIGCHLD`).
    pub ssi_status: i32,
    /// Integer sent by `sigqueue(3)`.
    pub ssi_int: i32,
    /// Pointer sent by `sigqueue(3)`.
    pub ssi_ptr: u64,
    /// User CPU time consumed (`SIGCHLD`).
    pub ssi_utime: u64,
    /// System CPU time consumed (`SIGCHLD`).
    pub ssi_stime: u64,
    /// Address that generated the signal (hardware signals).
    pub ssi_addr: u64,
    /// Least significant bit of the address (`SIGBUS`).
    pub ssi_addr_lsb: u16,
    /// Padding.
    pub __pad2: u16,
    /// System call number (`SIGSYS` from seccomp).
    pub ssi_syscall: i32,
    /// Address of the system call instruction (`SIGSYS`).
    pub ssi_call_addr: u64,
    /// Architecture of the system call (`SIGSYS`).
    pub ssi_arch: u32,
    /// Padding to 128 bytes.
    pub __pad: [u8; 28],
}

impl Default for SignalfdSiginfo {
    fn default() -> SignalfdSiginfo {
        // SAFETY: integers and byte arrays only: all-zero is a valid value.
        unsafe { std::mem::zeroed() }
    }
}

/// `read(2)` of one `struct signalfd_siginfo` from a signalfd. `EAGAIN` on a non-blocking
/// signalfd with none pending. Retries `EINTR`.
pub fn signalfd_read(fd: RawFd) -> Result<SignalfdSiginfo, Errno> {
    let mut info = SignalfdSiginfo::default();
    let ptr = (&mut info as *mut SignalfdSiginfo).cast::<u8>();
    // SAFETY: info is writable for its 128 bytes, and any bytes are a valid SignalfdSiginfo.
    let n = unsafe { io::read_raw(fd, ptr, size_of::<SignalfdSiginfo>()) }?;
    if n != size_of::<SignalfdSiginfo>() {
        // The kernel reads whole records only; anything else is not a signalfd.
        return Err(Errno::EINVAL);
    }
    Ok(info)
}

/// `kill(2)`: sends `sig` to process `pid` (0 for the caller's group; `sig` 0 only checks).
pub fn kill(pid: i32, sig: u32) -> Result<(), Errno> {
    // SAFETY: kill takes no pointers.
    unsafe { call2(nr::KILL, pid as usize, sig as usize) }.map(drop)
}

/// `tgkill(2)`: sends `sig` to thread `tid` of process `tgid`.
pub fn tgkill(tgid: i32, tid: i32, sig: u32) -> Result<(), Errno> {
    // SAFETY: tgkill takes no pointers.
    unsafe { call3(nr::TGKILL, tgid as usize, tid as usize, sig as usize) }.map(drop)
}
