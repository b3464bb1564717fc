//! One file per architecture: the `syscallN` functions and the syscall numbers.

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use x86_64::*;

#[cfg(not(target_arch = "x86_64"))]
compile_error!(
    "coreloop's raw syscall layer has no implementation for this architecture yet: \
     add runtime/src/sys/arch/<arch>.rs (only x86_64 is built and tested)"
);
