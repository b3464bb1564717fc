//! The one door every typed wrapper goes through.
//!
//! `callN` makes the raw syscall and splits its return into a value or an [`Errno`]. With the
//! `fault-injection` feature, each call is first counted per thread and shown to the thread's
//! fault plan, which may fail it or shorten its length argument; without the feature that hook
//! is an empty inline function and costs nothing.

use super::arch;
use super::errno::Errno;
use super::fault::intercept;

/// # Safety
/// The syscall `nr` with these arguments must be valid to make (see `arch`).
#[inline]
pub unsafe fn call0(nr: usize) -> Result<usize, Errno> {
    if let Some(e) = intercept(nr, &mut []) {
        return Err(e);
    }
    // SAFETY: the caller upholds the syscall's contract.
    Errno::result(unsafe { arch::syscall0(nr) })
}

/// # Safety
/// As [`call0`].
#[inline]
pub unsafe fn call1(nr: usize, a0: usize) -> Result<usize, Errno> {
    let mut a = [a0];
    if let Some(e) = intercept(nr, &mut a) {
        return Err(e);
    }
    // SAFETY: the caller upholds the syscall's contract.
    Errno::result(unsafe { arch::syscall1(nr, a[0]) })
}

/// # Safety
/// As [`call0`].
#[inline]
pub unsafe fn call2(nr: usize, a0: usize, a1: usize) -> Result<usize, Errno> {
    let mut a = [a0, a1];
    if let Some(e) = intercept(nr, &mut a) {
        return Err(e);
    }
    // SAFETY: the caller upholds the syscall's contract.
    Errno::result(unsafe { arch::syscall2(nr, a[0], a[1]) })
}

/// # Safety
/// As [`call0`].
#[inline]
pub unsafe fn call3(nr: usize, a0: usize, a1: usize, a2: usize) -> Result<usize, Errno> {
    let mut a = [a0, a1, a2];
    if let Some(e) = intercept(nr, &mut a) {
        return Err(e);
    }
    // SAFETY: the caller upholds the syscall's contract.
    Errno::result(unsafe { arch::syscall3(nr, a[0], a[1], a[2]) })
}

/// # Safety
/// As [`call0`].
#[inline]
pub unsafe fn call4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> Result<usize, Errno> {
    let mut a = [a0, a1, a2, a3];
    if let Some(e) = intercept(nr, &mut a) {
        return Err(e);
    }
    // SAFETY: the caller upholds the syscall's contract.
    Errno::result(unsafe { arch::syscall4(nr, a[0], a[1], a[2], a[3]) })
}

/// # Safety
/// As [`call0`].
#[inline]
pub unsafe fn call5(
    nr: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
) -> Result<usize, Errno> {
    let mut a = [a0, a1, a2, a3, a4];
    if let Some(e) = intercept(nr, &mut a) {
        return Err(e);
    }
    // SAFETY: the caller upholds the syscall's contract.
    Errno::result(unsafe { arch::syscall5(nr, a[0], a[1], a[2], a[3], a[4]) })
}

/// # Safety
/// As [`call0`].
#[inline]
pub unsafe fn call6(
    nr: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> Result<usize, Errno> {
    let mut a = [a0, a1, a2, a3, a4, a5];
    if let Some(e) = intercept(nr, &mut a) {
        return Err(e);
    }
    // SAFETY: the caller upholds the syscall's contract.
    Errno::result(unsafe { arch::syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]) })
}

/// Runs `f` again while it fails with `EINTR`. Used only by wrappers whose syscall is safe to
/// repeat after an interruption (their docs say so).
#[inline]
pub fn retry_eintr<T>(mut f: impl FnMut() -> Result<T, Errno>) -> Result<T, Errno> {
    loop {
        match f() {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}
