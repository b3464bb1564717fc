//! The core's pool of read buffers, for pooled reads (`TcpStream::read_pooled`).
//!
//! A pooled read takes a buffer only when data arrives, so an idle connection holds none: the
//! buffers are the core's, not the connection's. A [`PooledBuf`] handed to the user goes back
//! to the pool when dropped.
//!
//! Two ways to hand buffers out, chosen when the pool is made (on the first pooled read):
//!
//! - **Kernel ring** (io_uring with `IORING_REGISTER_PBUF_RING`, Linux 5.19+): free buffers sit
//!   in a ring of provided buffers registered with the io_uring instance, and the kernel picks
//!   one when a receive with buffer select has data (multishot recv); the completion names it.
//!   Giving a buffer back is two stores into that ring, no syscall.
//! - **Free list** (epoll, or io_uring whose kernel refuses the registration): free buffers sit
//!   on a stack; a read takes one right before its `recv` (epoll: after readiness) and gives
//!   it back if nothing came. Why the ring is not used is kept in [`BufPoolStats::fallback`].
//!
//! Every buffer is in exactly one place: free (in the ring or on the list), taken (picked by
//! the kernel or a read, its data not yet with the user: queued in a stream's multishot
//! results), or held (a live `PooledBuf`). `free + taken + held = buffers`, checked by
//! [`BufPoolStats`] and the tests; a buffer is never handed out twice (each one's state is
//! tracked, and a bad transition panics rather than alias memory).
//!
//! Exhaustion is counted, never spun on: a read that finds no buffer waits until one comes
//! back ([`BufPool::wait_for_buffer`]), and the data stays in the socket meanwhile.

use crate::sys::Errno;
use crate::sys::uring::{self as sys_uring, BufReg};
use std::alloc::{Layout, alloc, dealloc};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::task::Waker;

/// The buffer group id of the core's pool in the ring.
pub(crate) const BUF_GROUP: u16 = 0;

/// Largest pool: a provided-buffer ring holds at most 32,768 entries (and ids are `u16`).
pub const MAX_BUFFERS: usize = 32_768;

/// How many free buffers a kernel ring starts with; the rest wait in a reserve until the
/// ring runs dry under load (see `BufPool::ring_ran_dry`).
const INITIAL_WINDOW: usize = 32;

/// How a pool is set up (builder settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSettings {
    /// How many buffers the core's pool has (1..=32,768).
    pub buffers: usize,
    /// Bytes per buffer (1 byte .. 1 GiB): the most one pooled read returns.
    pub buf_size: usize,
}

impl Default for PoolSettings {
    /// 512 buffers of 4 KiB per core (2 MiB, touched only as used).
    fn default() -> PoolSettings {
        PoolSettings {
            buffers: 512,
            buf_size: 4096,
        }
    }
}

impl PoolSettings {
    /// Checks the settings, with an error a user can act on.
    pub fn validate(&self) -> io::Result<()> {
        if !(1..=MAX_BUFFERS).contains(&self.buffers) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "coreloop: a buffer pool has 1 to {MAX_BUFFERS} buffers, not {}",
                    self.buffers
                ),
            ));
        }
        if !(1..=1 << 30).contains(&self.buf_size) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "coreloop: a pool buffer has 1 byte to 1 GiB, not {}",
                    self.buf_size
                ),
            ));
        }
        Ok(())
    }
}

/// What a core's buffer pool holds and has done.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BufPoolStats {
    /// Buffers in the pool.
    pub buffers: usize,
    /// Bytes per buffer.
    pub buf_size: usize,
    /// Whether free buffers sit in a provided-buffer ring the kernel picks from (io_uring).
    pub kernel_ring: bool,
    /// Why an io_uring core uses a free list instead of a kernel ring (`None` if it does not,
    /// or runs epoll, where a free list is the only way).
    pub fallback: Option<String>,
    /// Buffers free to be picked.
    pub free: usize,
    /// Buffers picked by the kernel or a read whose data the user has not taken yet.
    pub taken: usize,
    /// Buffers the user holds (live `PooledBuf`s).
    pub held: usize,
    /// Times a read found the pool empty (and waited for a buffer to come back).
    pub exhausted: u64,
    /// Pooled reads that delivered data.
    pub reads: u64,
    /// Times a multishot receive the kernel had ended was armed again.
    pub rearms: u64,
    /// Kernel ring: how many free buffers it is kept filled with (grows when it runs dry).
    pub ring_window: usize,
}

impl BufPoolStats {
    /// `free + taken + held == buffers`: every buffer is somewhere, once.
    pub fn balanced(&self) -> bool {
        self.free + self.taken + self.held == self.buffers
    }
}

/// Where one buffer is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Place {
    Free,
    Taken,
    Held,
}

/// The provided-buffer ring: `entries` 16-byte `struct io_uring_buf`, page-aligned; the
/// kernel reads entries up to `tail` (the last 2 bytes of entry 0).
struct KernelRing {
    ring: NonNull<u8>,
    layout: Layout,
    mask: u16,
    tail: Cell<u16>,
}

impl KernelRing {
    /// Puts buffer `id` (at `addr`, `len` bytes) in the ring and publishes it.
    fn push(&self, addr: *mut u8, len: u32, id: u16) {
        let tail = self.tail.get();
        let slot = (tail & self.mask) as usize;
        // SAFETY: slot < entries, so the 16-byte entry is inside the ring's allocation; the
        // fields are written one by one so entry 0's last 2 bytes (the shared tail) are left
        // alone. The kernel reads an entry only once the tail below passes it.
        unsafe {
            let e = self.ring.as_ptr().add(slot * 16);
            e.cast::<u64>().write(addr as u64);
            e.add(8).cast::<u32>().write(len);
            e.add(12).cast::<u16>().write(id);
        }
        let tail = tail.wrapping_add(1);
        self.tail.set(tail);
        // SAFETY: the tail field is the aligned u16 at offset 14 of the ring, which the kernel
        // reads with acquire ordering; the release store makes the entry visible first.
        unsafe { AtomicU16::from_ptr(self.ring.as_ptr().add(14).cast()) }
            .store(tail, Ordering::Release);
    }
}

/// One core's pool of read buffers. Shared (`Rc`) by the reactor and every `PooledBuf`, so its
/// memory outlives both; `!Send`.
pub struct BufPool {
    mem: NonNull<u8>,
    mem_layout: Layout,
    buf_size: usize,
    places: Box<[Cell<Place>]>,
    ring: Option<KernelRing>,
    fallback: Option<String>,
    /// Free buffers outside the kernel's ring: all of them with a free list; with a kernel
    /// ring, the reserve beyond its window (a stack, so the same few buffers stay hot).
    free_list: RefCell<Vec<u16>>,
    /// Kernel ring: how many free buffers it holds, and how many it should (the window grows
    /// when the ring runs dry while the reserve has some, so it follows demand; an idle or
    /// lightly loaded core touches only the window's pages, not the whole pool).
    in_ring: Cell<usize>,
    window: Cell<usize>,
    free: Cell<usize>,
    exhausted: Cell<u64>,
    reads: Cell<u64>,
    rearms: Cell<u64>,
    waiters: RefCell<Vec<Waker>>,
    /// The kernel may still use the memory (a shutdown gave up on ops in flight): never free it.
    leak: Cell<bool>,
}

impl fmt::Debug for BufPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufPool")
            .field("stats", &self.stats())
            .finish()
    }
}

impl BufPool {
    /// A pool with a free list (`fallback`: why not a kernel ring, if one was wanted).
    pub(crate) fn with_free_list(s: PoolSettings, fallback: Option<String>) -> io::Result<BufPool> {
        let mut pool = BufPool::alloc(s)?;
        pool.fallback = fallback;
        pool.free_list = RefCell::new((0..s.buffers as u16).rev().collect());
        Ok(pool)
    }

    /// A pool whose free buffers sit in a provided-buffer ring registered with the io_uring
    /// `ring_fd`; the kernel's refusal is returned as the reason to fall back.
    pub(crate) fn with_kernel_ring(s: PoolSettings, ring_fd: i32) -> Result<BufPool, String> {
        let mut pool = BufPool::alloc(s).map_err(|e| e.to_string())?;
        let entries = s.buffers.next_power_of_two();
        let layout = Layout::from_size_align(entries * 16, 4096).map_err(|e| e.to_string())?;
        // SAFETY: the layout has a non-zero size.
        let ring = NonNull::new(unsafe { std::alloc::alloc_zeroed(layout) })
            .ok_or_else(|| "out of memory for the provided-buffer ring".to_string())?;
        let mut reg = BufReg {
            ring_addr: ring.as_ptr() as u64,
            ring_entries: entries as u32,
            bgid: BUF_GROUP,
            ..Default::default()
        };
        // SAFETY: `reg` is a valid io_uring_buf_reg; the ring memory it names is page-aligned,
        // zeroed, and lives as long as the pool, which outlives the io_uring instance's use of
        // it (the reactor keeps the pool until its ring is closed, and leaks it if ops it gave up
        // on may still pick buffers).
        let res = unsafe {
            sys_uring::io_uring_register(
                ring_fd,
                sys_uring::IORING_REGISTER_PBUF_RING,
                (&mut reg as *mut BufReg).cast(),
                1,
            )
        };
        if let Err(e) = res {
            // SAFETY: allocated above with this layout; the kernel refused it, so never saw it.
            unsafe { dealloc(ring.as_ptr(), layout) };
            return Err(refusal_reason(e));
        }
        let kr = KernelRing {
            ring,
            layout,
            mask: (entries - 1) as u16,
            tail: Cell::new(0),
        };
        pool.ring = Some(kr);
        pool.window.set(s.buffers.min(INITIAL_WINDOW));
        pool.free_list = RefCell::new((0..s.buffers as u16).rev().collect());
        pool.top_up();
        Ok(pool)
    }

    fn alloc(s: PoolSettings) -> io::Result<BufPool> {
        s.validate()?;
        let bytes = s.buffers.checked_mul(s.buf_size).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "coreloop: buffer pool too large",
            )
        })?;
        let layout = Layout::from_size_align(bytes, 4096)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        // SAFETY: the layout has a non-zero size (validated above). The bytes are uninitialized:
        // only the kernel (or a recv) writes them, and a `PooledBuf` shows only what it wrote.
        let mem = NonNull::new(unsafe { alloc(layout) }).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::OutOfMemory,
                format!("coreloop: cannot allocate a buffer pool of {bytes} bytes"),
            )
        })?;
        Ok(BufPool {
            mem,
            mem_layout: layout,
            buf_size: s.buf_size,
            places: (0..s.buffers).map(|_| Cell::new(Place::Free)).collect(),
            ring: None,
            fallback: None,
            free_list: RefCell::new(Vec::new()),
            in_ring: Cell::new(0),
            window: Cell::new(0),
            free: Cell::new(s.buffers),
            exhausted: Cell::new(0),
            reads: Cell::new(0),
            rearms: Cell::new(0),
            waiters: RefCell::new(Vec::new()),
            leak: Cell::new(false),
        })
    }

    /// Whether the kernel picks buffers (a provided-buffer ring is registered).
    pub(crate) fn kernel_ring(&self) -> bool {
        self.ring.is_some()
    }

    /// Bytes per buffer.
    pub(crate) fn buf_size(&self) -> usize {
        self.buf_size
    }

    /// Where buffer `id` starts (`buf_size` bytes), for a read that took it.
    pub(crate) fn buf_ptr(&self, id: u16) -> *mut u8 {
        self.addr(id)
    }

    fn addr(&self, id: u16) -> *mut u8 {
        // In bounds: id < buffers, checked by every caller through `places`.
        self.mem.as_ptr().wrapping_add(id as usize * self.buf_size)
    }

    #[inline]
    fn move_buf(&self, id: u16, from: Place, to: Place) {
        match self.places.get(id as usize) {
            Some(p) if p.get() == from => p.set(to),
            other => panic!(
                "coreloop: buffer pool corrupted: buffer {id} is {:?}, expected {from:?} \
                 (refusing to hand out memory twice)",
                other.map(Cell::get)
            ),
        }
    }

    /// Takes a free buffer from the free list, for a read about to `recv` (`None`: empty).
    pub(crate) fn take(&self) -> Option<u16> {
        debug_assert!(self.ring.is_none(), "the kernel takes from a kernel ring");
        let id = self.free_list.borrow_mut().pop()?;
        self.move_buf(id, Place::Free, Place::Taken);
        self.free.set(self.free.get() - 1);
        Some(id)
    }

    /// A completion says the kernel picked buffer `id` from the ring: the ring gets one from
    /// the reserve, if it has any, to stay at its window.
    #[inline]
    pub(crate) fn picked_by_kernel(&self, id: u16) {
        self.move_buf(id, Place::Free, Place::Taken);
        self.free.set(self.free.get() - 1);
        self.in_ring.set(self.in_ring.get().saturating_sub(1));
        self.top_up();
    }

    /// Fills the kernel ring from the reserve up to its window.
    #[inline]
    fn top_up(&self) {
        let Some(r) = &self.ring else { return };
        if self.in_ring.get() >= self.window.get() {
            return;
        }
        let mut reserve = self.free_list.borrow_mut();
        while self.in_ring.get() < self.window.get() {
            let Some(id) = reserve.pop() else { break };
            r.push(self.addr(id), self.buf_size as u32, id);
            self.in_ring.set(self.in_ring.get() + 1);
        }
    }

    /// The kernel found its ring empty (`ENOBUFS`). If buffers wait in the reserve, the window
    /// was too small for this core's load: it doubles, and the ring is filled again.
    pub(crate) fn ring_ran_dry(&self) {
        if self.ring.is_some() && !self.free_list.borrow().is_empty() {
            let buffers = self.places.len();
            self.window.set((self.window.get() * 2).clamp(1, buffers));
            self.top_up();
        }
    }

    /// A taken buffer goes back unused (nothing arrived, or its data will never be read).
    /// Returns whether reads wait for a buffer: the caller wakes them
    /// ([`take_waiters`](Self::take_waiters)) once no runtime borrow is held.
    pub(crate) fn put_back(&self, id: u16) -> bool {
        self.move_buf(id, Place::Taken, Place::Free);
        self.release(id)
    }

    #[inline]
    fn release(&self, id: u16) -> bool {
        match &self.ring {
            Some(r) if self.in_ring.get() < self.window.get() => {
                r.push(self.addr(id), self.buf_size as u32, id);
                self.in_ring.set(self.in_ring.get() + 1);
            }
            _ => self.free_list.borrow_mut().push(id),
        }
        self.free.set(self.free.get() + 1);
        !self.waiters.borrow().is_empty()
    }

    /// The reads waiting for a buffer, to be woken.
    pub(crate) fn take_waiters(&self) -> Vec<Waker> {
        std::mem::take(&mut *self.waiters.borrow_mut())
    }

    /// A read found no free buffer: counts it, and keeps `waker` to be woken when one comes
    /// back. Returns false (and keeps nothing) if one is free after all.
    pub(crate) fn wait_for_buffer(&self, waker: &Waker) -> bool {
        if self.free.get() > 0 {
            return false;
        }
        self.exhausted.set(self.exhausted.get() + 1);
        let mut w = self.waiters.borrow_mut();
        if !w.iter().any(|x| x.will_wake(waker)) {
            w.push(waker.clone());
        }
        true
    }

    /// Whether a buffer is free now.
    pub(crate) fn has_free(&self) -> bool {
        self.free.get() > 0
    }

    /// Counts a multishot receive armed again after the kernel ended it.
    pub(crate) fn count_rearm(&self) {
        self.rearms.set(self.rearms.get() + 1);
    }

    /// Never free the memory: the kernel may still write it.
    pub(crate) fn leak(&self) {
        self.leak.set(true);
    }

    /// What the pool holds and has done.
    pub fn stats(&self) -> BufPoolStats {
        let places = &self.places;
        let count = |p| places.iter().filter(|x| x.get() == p).count();
        BufPoolStats {
            buffers: places.len(),
            buf_size: self.buf_size,
            kernel_ring: self.ring.is_some(),
            fallback: self.fallback.clone(),
            free: count(Place::Free),
            taken: count(Place::Taken),
            held: count(Place::Held),
            exhausted: self.exhausted.get(),
            reads: self.reads.get(),
            rearms: self.rearms.get(),
            ring_window: self.window.get(),
        }
    }
}

impl Drop for BufPool {
    fn drop(&mut self) {
        if self.leak.get() {
            return;
        }
        // SAFETY: allocated in `alloc`/`with_kernel_ring` with these layouts; the pool is
        // dropped only when the reactor (after its ring closed) and every `PooledBuf` let go.
        unsafe {
            dealloc(self.mem.as_ptr(), self.mem_layout);
            if let Some(r) = &self.ring {
                dealloc(r.ring.as_ptr(), r.layout);
            }
        }
    }
}

fn refusal_reason(e: Errno) -> String {
    let why = match e {
        Errno::EINVAL => " (provided buffer rings need Linux 5.19 or later)",
        Errno::ENOMEM => " (the buffer ring's pages could not be pinned: RLIMIT_MEMLOCK?)",
        _ => "",
    };
    format!(
        "io_uring_register(IORING_REGISTER_PBUF_RING) refused: {}{why}; pooled reads use a free \
         list and plain receives",
        io::Error::from(e)
    )
}

/// A buffer of the core's pool holding the bytes one pooled read received; it goes back to the
/// pool when dropped. Empty means end of stream. Reads as a `[u8]` (`Deref`), and can be written
/// as is (`IoBuf`): `stream.write_all(buf).await` echoes without a copy.
///
/// `!Send`: the pool belongs to its core. Holding many pooled buffers for long starves the
/// core's other reads (they wait for a buffer to come back): copy what must be kept.
pub struct PooledBuf {
    pool: Option<Rc<BufPool>>,
    id: u16,
    len: u32,
}

impl PooledBuf {
    /// End of stream: no buffer, no bytes.
    pub(crate) fn eof() -> PooledBuf {
        PooledBuf {
            pool: None,
            id: 0,
            len: 0,
        }
    }

    /// Buffer `id`, taken for a read, now holds `len` bytes for the user.
    pub(crate) fn filled(pool: &Rc<BufPool>, id: u16, len: usize) -> PooledBuf {
        pool.move_buf(id, Place::Taken, Place::Held);
        pool.reads.set(pool.reads.get() + 1);
        PooledBuf {
            pool: Some(pool.clone()),
            id,
            len: len.min(pool.buf_size) as u32,
        }
    }

    /// The bytes received.
    pub fn as_slice(&self) -> &[u8] {
        match &self.pool {
            // SAFETY: the buffer is held by this value alone (its place is `Held`), the pool's
            // memory lives while the `Rc` does, and the kernel or recv wrote `len` bytes there.
            Some(p) => unsafe { std::slice::from_raw_parts(p.addr(self.id), self.len as usize) },
            None => &[],
        }
    }

    /// The bytes, writable (to decode in place).
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        match &self.pool {
            // SAFETY: as `as_slice`, and `&mut self` makes the access unique.
            Some(p) => unsafe {
                std::slice::from_raw_parts_mut(p.addr(self.id), self.len as usize)
            },
            None => &mut [],
        }
    }

    /// Keeps only the first `len` bytes (no effect if it has fewer).
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len as u32);
    }
}

impl std::ops::Deref for PooledBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl std::ops::DerefMut for PooledBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

impl AsRef<[u8]> for PooledBuf {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl fmt::Debug for PooledBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledBuf")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl Drop for PooledBuf {
    fn drop(&mut self) {
        let Some(pool) = self.pool.take() else {
            return;
        };
        pool.move_buf(self.id, Place::Held, Place::Free);
        // Dropped by the user, outside every runtime borrow: wake the reads waiting for it.
        if pool.release(self.id) {
            for w in pool.take_waiters() {
                w.wake();
            }
        }
    }
}

// SAFETY: the pointer is into the pool's memory, which does not move and lives while this
// value's `Rc` does; `len` bytes there are initialized, and the allocation holds `len` (a
// pooled buffer is a finished read: its spare room is not offered).
unsafe impl crate::buf::IoBuf for PooledBuf {
    fn stable_ptr(&self) -> *const u8 {
        self.as_slice().as_ptr()
    }

    fn bytes_init(&self) -> usize {
        self.len as usize
    }

    fn bytes_total(&self) -> usize {
        self.len as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(n: usize) -> Rc<BufPool> {
        Rc::new(
            BufPool::with_free_list(
                PoolSettings {
                    buffers: n,
                    buf_size: 64,
                },
                None,
            )
            .unwrap(),
        )
    }

    #[test]
    fn every_buffer_is_in_one_place() {
        let p = pool(4);
        let a = p.take().unwrap();
        let b = p.take().unwrap();
        assert_ne!(a, b);
        let s = p.stats();
        assert_eq!((s.free, s.taken, s.held), (2, 2, 0));
        let mut held = PooledBuf::filled(&p, a, 10);
        held.as_mut_slice().fill(7);
        assert_eq!(&held[..], &[7; 10]);
        assert!(!p.put_back(b));
        let s = p.stats();
        assert_eq!((s.free, s.taken, s.held), (3, 0, 1));
        assert!(s.balanced());
        drop(held);
        assert_eq!(p.stats().free, 4);
    }

    #[test]
    fn an_empty_pool_keeps_a_waiter_and_a_returned_buffer_wakes_it() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        struct W(AtomicUsize);
        impl std::task::Wake for W {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
        let p = pool(1);
        let id = p.take().unwrap();
        assert!(p.take().is_none());
        let w = Arc::new(W(AtomicUsize::new(0)));
        let waker = Waker::from(w.clone());
        assert!(p.wait_for_buffer(&waker));
        assert!(p.wait_for_buffer(&waker), "the same waker is kept once");
        assert_eq!(p.stats().exhausted, 2);
        drop(PooledBuf::filled(&p, id, 1));
        // Woken (once natively; Miri may see the waker's vtable at two addresses, so that
        // `will_wake` keeps it twice).
        assert!(w.0.load(Ordering::Relaxed) >= 1);
        assert!(!p.wait_for_buffer(&waker), "a buffer is free again");
    }

    #[test]
    #[should_panic(expected = "buffer pool corrupted")]
    fn a_buffer_is_never_put_back_twice() {
        let p = pool(2);
        let id = p.take().unwrap();
        p.put_back(id);
        p.put_back(id);
    }

    #[test]
    fn eof_is_empty_and_holds_nothing() {
        let e = PooledBuf::eof();
        assert!(e.is_empty());
        assert!(
            PoolSettings {
                buffers: 0,
                buf_size: 1
            }
            .validate()
            .is_err()
        );
        assert!(
            PoolSettings {
                buffers: 40_000,
                buf_size: 1
            }
            .validate()
            .is_err()
        );
        assert!(PoolSettings::default().validate().is_ok());
    }
}
