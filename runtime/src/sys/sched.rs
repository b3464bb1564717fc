//! Threads and CPUs: `gettid`, `getpid`, `sched_setaffinity`, `sched_getaffinity`.

use super::arch::nr;
use super::call::{call0, call3};
use super::errno::Errno;

/// `gettid(2)`: the calling thread's id.
pub fn gettid() -> i32 {
    // SAFETY: no arguments; gettid cannot fail.
    unsafe { call0(nr::GETTID) }.unwrap_or(0) as i32
}

/// `getpid(2)`: the calling process's id.
pub fn getpid() -> i32 {
    // SAFETY: no arguments; getpid cannot fail.
    unsafe { call0(nr::GETPID) }.unwrap_or(0) as i32
}

/// A CPU set of up to 1024 CPUs (`cpu_set_t`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CpuSet([u64; 16]);

impl CpuSet {
    /// An empty set.
    pub fn new() -> CpuSet {
        CpuSet([0; 16])
    }
    /// Adds CPU `cpu` (CPUs from 1024 up are ignored).
    pub fn set(&mut self, cpu: usize) {
        if cpu < 1024 {
            self.0[cpu / 64] |= 1 << (cpu % 64);
        }
    }
    /// True if CPU `cpu` is in the set.
    pub fn is_set(&self, cpu: usize) -> bool {
        cpu < 1024 && self.0[cpu / 64] & (1 << (cpu % 64)) != 0
    }
    /// Number of CPUs in the set.
    pub fn count(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }
    /// The CPUs in the set, in order.
    pub fn cpus(&self) -> impl Iterator<Item = usize> + '_ {
        (0..1024).filter(|&c| self.is_set(c))
    }
}

impl Default for CpuSet {
    fn default() -> CpuSet {
        CpuSet::new()
    }
}

impl std::fmt::Debug for CpuSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.cpus()).finish()
    }
}

/// `sched_setaffinity(tid, set)`; `tid` 0 is the calling thread.
pub fn sched_setaffinity(tid: i32, set: &CpuSet) -> Result<(), Errno> {
    // SAFETY: set points to 128 readable bytes, the size passed.
    unsafe {
        call3(
            nr::SCHED_SETAFFINITY,
            tid as usize,
            128,
            set.0.as_ptr() as usize,
        )
    }
    .map(drop)
}

/// `sched_getaffinity(tid)`; `tid` 0 is the calling thread.
pub fn sched_getaffinity(tid: i32) -> Result<CpuSet, Errno> {
    let mut set = CpuSet::new();
    // SAFETY: set points to 128 writable bytes, the size passed.
    unsafe {
        call3(
            nr::SCHED_GETAFFINITY,
            tid as usize,
            128,
            set.0.as_mut_ptr() as usize,
        )
    }?;
    Ok(set)
}
