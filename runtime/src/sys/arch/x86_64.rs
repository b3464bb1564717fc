//! The `syscall` instruction on x86_64.
//!
//! | what        | register |
//! |-------------|----------|
//! | number      | rax      |
//! | arguments   | rdi, rsi, rdx, **r10** (not rcx), r8, r9 |
//! | result      | rax      |
//! | clobbered   | rcx (return address), r11 (rflags) |
//!
//! The fourth argument goes in r10 because the instruction itself overwrites rcx. The kernel
//! preserves every other register and does not touch the stack below rsp, so each call is
//! `nostack`. There are no `readonly` variants: on an io_uring ring set up without
//! `DEFER_TASKRUN`, completion work (copying data into user buffers) runs on the exit of *any*
//! syscall the thread makes, so no syscall can promise the compiler that user memory is left
//! alone.

use core::arch::asm;

/// Makes syscall `nr` with no arguments; returns the raw result (`-errno` on failure).
///
/// # Safety
/// The syscall `nr` with these arguments must be valid to make: every pointer it reads or
/// writes must be valid for the length the kernel will use.
#[inline]
pub unsafe fn syscall0(nr: usize) -> isize {
    let ret;
    // SAFETY: the caller upholds the syscall's contract; the asm follows the x86_64 ABI above.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret,
             lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags));
    }
    ret
}

/// Makes syscall `nr` with one argument; returns the raw result (`-errno` on failure).
///
/// # Safety
/// As [`syscall0`].
#[inline]
pub unsafe fn syscall1(nr: usize, a0: usize) -> isize {
    let ret;
    // SAFETY: the caller upholds the syscall's contract; the asm follows the x86_64 ABI above.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a0,
             lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags));
    }
    ret
}

/// Makes syscall `nr` with two arguments; returns the raw result (`-errno` on failure).
///
/// # Safety
/// As [`syscall0`].
#[inline]
pub unsafe fn syscall2(nr: usize, a0: usize, a1: usize) -> isize {
    let ret;
    // SAFETY: the caller upholds the syscall's contract; the asm follows the x86_64 ABI above.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a0, in("rsi") a1,
             lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags));
    }
    ret
}

/// Makes syscall `nr` with three arguments; returns the raw result (`-errno` on failure).
///
/// # Safety
/// As [`syscall0`].
#[inline]
pub unsafe fn syscall3(nr: usize, a0: usize, a1: usize, a2: usize) -> isize {
    let ret;
    // SAFETY: the caller upholds the syscall's contract; the asm follows the x86_64 ABI above.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a0, in("rsi") a1,
             in("rdx") a2, lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags));
    }
    ret
}

/// Makes syscall `nr` with four arguments; returns the raw result (`-errno` on failure).
///
/// # Safety
/// As [`syscall0`].
#[inline]
pub unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> isize {
    let ret;
    // SAFETY: the caller upholds the syscall's contract; the asm follows the x86_64 ABI above.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a0, in("rsi") a1,
             in("rdx") a2, in("r10") a3, lateout("rcx") _, lateout("r11") _,
             options(nostack, preserves_flags));
    }
    ret
}

/// Makes syscall `nr` with five arguments; returns the raw result (`-errno` on failure).
///
/// # Safety
/// As [`syscall0`].
#[inline]
pub unsafe fn syscall5(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize, a4: usize) -> isize {
    let ret;
    // SAFETY: the caller upholds the syscall's contract; the asm follows the x86_64 ABI above.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a0, in("rsi") a1,
             in("rdx") a2, in("r10") a3, in("r8") a4, lateout("rcx") _, lateout("r11") _,
             options(nostack, preserves_flags));
    }
    ret
}

/// Makes syscall `nr` with six arguments; returns the raw result (`-errno` on failure).
///
/// # Safety
/// As [`syscall0`].
#[inline]
pub unsafe fn syscall6(
    nr: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> isize {
    let ret;
    // SAFETY: the caller upholds the syscall's contract; the asm follows the x86_64 ABI above.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a0, in("rsi") a1,
             in("rdx") a2, in("r10") a3, in("r8") a4, in("r9") a5, lateout("rcx") _,
             lateout("r11") _, options(nostack, preserves_flags));
    }
    ret
}

/// Syscall numbers on x86_64 (`arch/x86/entry/syscalls/syscall_64.tbl`).
pub mod nr {
    /// `read(2)`.
    pub const READ: usize = 0;
    /// `write(2)`.
    pub const WRITE: usize = 1;
    /// `close(2)`.
    pub const CLOSE: usize = 3;
    /// `lseek(2)`.
    pub const LSEEK: usize = 8;
    /// `rt_sigprocmask(2)`.
    pub const RT_SIGPROCMASK: usize = 14;
    /// `pread64(2)`.
    pub const PREAD64: usize = 17;
    /// `pwrite64(2)`.
    pub const PWRITE64: usize = 18;
    /// `readv(2)`.
    pub const READV: usize = 19;
    /// `writev(2)`.
    pub const WRITEV: usize = 20;
    /// `sched_yield(2)`.
    pub const SCHED_YIELD: usize = 24;
    /// `getpid(2)`.
    pub const GETPID: usize = 39;
    /// `socket(2)`.
    pub const SOCKET: usize = 41;
    /// `connect(2)`.
    pub const CONNECT: usize = 42;
    /// `sendto(2)`.
    pub const SENDTO: usize = 44;
    /// `recvfrom(2)`.
    pub const RECVFROM: usize = 45;
    /// `sendmsg(2)`.
    pub const SENDMSG: usize = 46;
    /// `recvmsg(2)`.
    pub const RECVMSG: usize = 47;
    /// `shutdown(2)`.
    pub const SHUTDOWN: usize = 48;
    /// `bind(2)`.
    pub const BIND: usize = 49;
    /// `listen(2)`.
    pub const LISTEN: usize = 50;
    /// `getsockname(2)`.
    pub const GETSOCKNAME: usize = 51;
    /// `getpeername(2)`.
    pub const GETPEERNAME: usize = 52;
    /// `socketpair(2)`.
    pub const SOCKETPAIR: usize = 53;
    /// `setsockopt(2)`.
    pub const SETSOCKOPT: usize = 54;
    /// `getsockopt(2)`.
    pub const GETSOCKOPT: usize = 55;
    /// `kill(2)`.
    pub const KILL: usize = 62;
    /// `fcntl(2)`.
    pub const FCNTL: usize = 72;
    /// `fsync(2)`.
    pub const FSYNC: usize = 74;
    /// `fdatasync(2)`.
    pub const FDATASYNC: usize = 75;
    /// `ftruncate(2)`.
    pub const FTRUNCATE: usize = 77;
    /// `gettid(2)`.
    pub const GETTID: usize = 186;
    /// `tgkill(2)`.
    pub const TGKILL: usize = 234;
    /// `sched_setaffinity(2)`.
    pub const SCHED_SETAFFINITY: usize = 203;
    /// `sched_getaffinity(2)`.
    pub const SCHED_GETAFFINITY: usize = 204;
    /// `clock_gettime(2)`.
    pub const CLOCK_GETTIME: usize = 228;
    /// `epoll_ctl(2)`.
    pub const EPOLL_CTL: usize = 233;
    /// `getdents64(2)`.
    pub const GETDENTS64: usize = 217;
    /// `mkdirat(2)`.
    pub const MKDIRAT: usize = 258;
    /// `unlinkat(2)`.
    pub const UNLINKAT: usize = 263;
    /// `linkat(2)`.
    pub const LINKAT: usize = 265;
    /// `symlinkat(2)`.
    pub const SYMLINKAT: usize = 266;
    /// `readlinkat(2)`.
    pub const READLINKAT: usize = 267;
    /// `fchmodat(2)`.
    pub const FCHMODAT: usize = 268;
    /// `epoll_pwait(2)`.
    pub const EPOLL_PWAIT: usize = 281;
    /// `timerfd_create(2)`.
    pub const TIMERFD_CREATE: usize = 283;
    /// `fallocate(2)`.
    pub const FALLOCATE: usize = 285;
    /// `timerfd_settime(2)`.
    pub const TIMERFD_SETTIME: usize = 286;
    /// `timerfd_gettime(2)`.
    pub const TIMERFD_GETTIME: usize = 287;
    /// `accept4(2)`.
    pub const ACCEPT4: usize = 288;
    /// `signalfd4(2)`.
    pub const SIGNALFD4: usize = 289;
    /// `eventfd2(2)`.
    pub const EVENTFD2: usize = 290;
    /// `epoll_create1(2)`.
    pub const EPOLL_CREATE1: usize = 291;
    /// `dup3(2)`.
    pub const DUP3: usize = 292;
    /// `pipe2(2)`.
    pub const PIPE2: usize = 293;
    /// `preadv(2)`.
    pub const PREADV: usize = 295;
    /// `pwritev(2)`.
    pub const PWRITEV: usize = 296;
    /// `prlimit64(2)`.
    pub const PRLIMIT64: usize = 302;
    /// `renameat2(2)`.
    pub const RENAMEAT2: usize = 316;
    /// `statx(2)`.
    pub const STATX: usize = 332;
    /// `io_uring_setup(2)`.
    pub const IO_URING_SETUP: usize = 425;
    /// `io_uring_enter(2)`.
    pub const IO_URING_ENTER: usize = 426;
    /// `io_uring_register(2)`.
    pub const IO_URING_REGISTER: usize = 427;
    /// `openat(2)`.
    pub const OPENAT: usize = 257;
}
