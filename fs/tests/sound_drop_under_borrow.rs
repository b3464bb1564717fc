//! Issue 10, defect 6: the data of an orphaned op (its future was dropped while in flight) is
//! dropped only after the reactor's borrow ends, so a buffer whose `Drop` touches the runtime
//! (here: reads the reactor's stats) does not panic the core with "already borrowed".
//!
//! Each case runs in a child process: on main the core panics inside the completion path,
//! and a second panic while unwinding through the runtime could abort the test binary.

use coreloop_fs::File;
use coreloop_runtime::buf::{IoBuf, IoBufMut};
use coreloop_runtime::{ReactorKind, time};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

// --- a buffer whose Drop touches the runtime ---

static DROPPED: AtomicUsize = AtomicUsize::new(0);

/// A `Vec<u8>` buffer that reads the current core's reactor stats when dropped (as any buffer
/// that owns an fd, an op, or a pool handle would touch the runtime).
struct Touchy(Vec<u8>);

// SAFETY: as for Vec<u8>: its heap pointer is stable across moves; len/capacity bound it.
unsafe impl IoBuf for Touchy {
    fn stable_ptr(&self) -> *const u8 {
        self.0.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.0.len()
    }
    fn bytes_total(&self) -> usize {
        self.0.capacity()
    }
}

// SAFETY: as for Vec<u8>.
unsafe impl IoBufMut for Touchy {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.0.as_mut_ptr()
    }
    unsafe fn set_init(&mut self, pos: usize) {
        // SAFETY: the caller initialized up to pos, within capacity.
        unsafe { self.0.set_len(pos) }
    }
}

impl Drop for Touchy {
    fn drop(&mut self) {
        let _ = coreloop_runtime::reactor_stats();
        DROPPED.fetch_add(1, Ordering::SeqCst);
    }
}

async fn orphaned_touchy_buffer() {
    let dir =
        std::env::temp_dir().join(format!("coreloop-sound-drop-borrow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("f");
    std::fs::write(&path, vec![1u8; 4096]).unwrap();
    let file = File::open(&path).await.unwrap();
    for _ in 0..20 {
        coreloop_runtime::testing::start_then_drop(
            file.read_at(Touchy(Vec::with_capacity(4096)), 0),
        )
        .await;
        // The op completes; its orphaned buffer is dropped by the core.
        time::sleep(Duration::from_millis(5)).await;
    }
    time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        DROPPED.load(Ordering::SeqCst),
        20,
        "every orphaned buffer was dropped"
    );
    drop(file);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn orphaned_buffer_dropped_outside_driver_borrow_uring() {
    if coreloop_runtime::testing::in_child(
        "orphaned_buffer_dropped_outside_driver_borrow_uring",
        "CORELOOP_SOUND_DROP_BORROW",
        Duration::from_secs(30),
    ) {
        if !coreloop_runtime::testing::should_run(
            coreloop_runtime::ReactorKind::Uring,
            module_path!(),
        ) {
            return;
        }
        coreloop_runtime::testing::run(ReactorKind::Uring, orphaned_touchy_buffer());
    }
}

#[test]
fn orphaned_buffer_dropped_outside_driver_borrow_epoll() {
    if coreloop_runtime::testing::in_child(
        "orphaned_buffer_dropped_outside_driver_borrow_epoll",
        "CORELOOP_SOUND_DROP_BORROW",
        Duration::from_secs(30),
    ) {
        coreloop_runtime::testing::run(ReactorKind::Epoll, orphaned_touchy_buffer());
    }
}
