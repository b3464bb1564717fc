//! Without the `fault-injection` feature no syscall is intercepted; this compiles away.

use super::errno::Errno;

#[inline(always)]
pub(crate) fn intercept(_nr: usize, _args: &mut [usize]) -> Option<Errno> {
    None
}

/// Without the feature nothing is injected.
#[inline(always)]
pub(crate) fn last_call_injected() -> bool {
    false
}

/// Without the feature there is no plan to take on.
#[inline(always)]
pub(crate) fn inherit_plan(_blocking: bool) {}

/// Without the feature no io_uring op is faulted.
#[inline(always)]
pub(crate) fn uring_op_fault() -> Option<Errno> {
    None
}
