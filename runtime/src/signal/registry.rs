//! The process-wide part of signal handling: the one signalfd and its mask, a delivery
//! counter per signal, and the wakers of every listener on every core.

use crate::sys::Errno;
use crate::sys::OwnedFd;
use crate::sys::signal::{
    SFD_NONBLOCK, SIG_BLOCK, SigSet, rt_sigprocmask, signalfd, signalfd_set_mask,
};
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::task::Waker;

/// The size of one `struct signalfd_siginfo` record.
pub(super) const SIGINFO_LEN: usize = 128;
/// Signal numbers are 1..=64.
const SIGNALS: usize = 65;

pub(super) struct Registry {
    /// The signalfd, non-blocking (the epoll path tries the read once before waiting). Never
    /// closed: it lives as long as the process.
    fd: OwnedFd,
    /// The signals in the signalfd's mask.
    mask: Mutex<SigSet>,
    /// How many times each signal has been read from the signalfd.
    delivered: [AtomicU64; SIGNALS],
    /// The listeners of each signal, on every core.
    listeners: Mutex<Vec<Vec<Weak<Listener>>>>,
}

/// One listener's waker, shared with whichever core distributes a signal.
#[derive(Default)]
pub(super) struct Listener {
    waker: Mutex<Option<Waker>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain data under the locks: a panic elsewhere leaves it consistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Listener {
    pub(super) fn set_waker(&self, w: &Waker) {
        let mut slot = lock(&self.waker);
        match &*slot {
            Some(old) if old.will_wake(w) => {}
            _ => *slot = Some(w.clone()),
        }
    }
}

/// The registry, made with its signalfd (empty mask) on first use.
pub(super) fn get() -> io::Result<&'static Registry> {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    static INIT: Mutex<()> = Mutex::new(());
    if let Some(r) = REGISTRY.get() {
        return Ok(r);
    }
    // Serialize creation so a failure is reported and no second signalfd is made.
    let _guard = lock(&INIT);
    if let Some(r) = REGISTRY.get() {
        return Ok(r);
    }
    let fd = signalfd(&SigSet::empty(), SFD_NONBLOCK)?;
    let r = Registry {
        fd,
        mask: Mutex::new(SigSet::empty()),
        delivered: std::array::from_fn(|_| AtomicU64::new(0)),
        listeners: Mutex::new((0..SIGNALS).map(|_| Vec::new()).collect()),
    };
    Ok(REGISTRY.get_or_init(|| r))
}

/// Blocks `sig` on this thread and adds it to the signalfd's mask.
pub(super) fn enable(sig: u32) -> io::Result<()> {
    if !(1..SIGNALS as u32).contains(&sig) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("signal {sig} is not in 1..=64"),
        ));
    }
    let r = get()?;
    rt_sigprocmask(SIG_BLOCK, Some(&SigSet::of(&[sig])))?;
    let mut mask = lock(&r.mask);
    if !mask.contains(sig) {
        let mut next = *mask;
        next.add(sig);
        signalfd_set_mask(r.fd.raw(), &next).map_err(|e: Errno| {
            io::Error::new(
                io::Error::from(e).kind(),
                format!("adding signal {sig} to the signalfd: {e:?}"),
            )
        })?;
        *mask = next;
    }
    Ok(())
}

impl Registry {
    pub(super) fn fd(&self) -> RawFd {
        self.fd.raw()
    }

    pub(super) fn delivered(&self, sig: u32) -> u64 {
        self.delivered[sig as usize].load(Ordering::Acquire)
    }

    pub(super) fn register(&self, sig: u32) -> Arc<Listener> {
        let listener = Arc::new(Listener::default());
        let mut all = lock(&self.listeners);
        let list = &mut all[sig as usize];
        list.retain(|w| w.strong_count() > 0);
        list.push(Arc::downgrade(&listener));
        listener
    }

    /// Counts every signal in `records` (whole `signalfd_siginfo` records) and wakes every
    /// listener of each, on whatever core it lives.
    pub(super) fn distribute(&self, records: &[u8]) {
        let mut wake = Vec::new();
        for rec in records.chunks_exact(SIGINFO_LEN) {
            // ssi_signo is the record's first field, a native-endian u32.
            let sig = u32::from_ne_bytes([rec[0], rec[1], rec[2], rec[3]]) as usize;
            if sig == 0 || sig >= SIGNALS {
                continue;
            }
            self.delivered[sig].fetch_add(1, Ordering::AcqRel);
            let all = lock(&self.listeners);
            for l in all[sig].iter().filter_map(Weak::upgrade) {
                if let Some(w) = lock(&l.waker).take() {
                    wake.push(w);
                }
            }
        }
        // Wake outside the locks: a waker may run code that registers a listener.
        wake.into_iter().for_each(Waker::wake);
    }
}
