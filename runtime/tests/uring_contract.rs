//! The `OpCode` contract is checked, not only documented: in debug builds, an io_uring entry
//! that points into its op's own inline bytes (which move with the op) is refused.
#![cfg(debug_assertions)]

use coreloop_runtime::op::{Mode, OpCode};
use coreloop_runtime::reactor::Op;
use coreloop_runtime::sys::Errno;
use coreloop_runtime::{ReactorKind, Runtime};
use io_uring::{opcode, squeue, types};
use std::time::Duration;

/// Wrong on purpose: reads into an array inside the op itself.
struct ReadsIntoItself {
    fd: i32,
    inline: [u8; 16],
}

// SAFETY: deliberately NOT upheld — this op exists to show the check refuses it. It is never
// handed to the kernel: the check panics before the entry is queued.
unsafe impl OpCode for ReadsIntoItself {
    type Output = ();
    fn uring_entry(&mut self) -> Option<squeue::Entry> {
        Some(opcode::Read::new(types::Fd(self.fd), self.inline.as_mut_ptr(), 16).build())
    }
    fn mode(&self) -> Mode<'_> {
        Mode::Now
    }
    fn call(&mut self) -> Result<usize, Errno> {
        Err(Errno::EAGAIN)
    }
    fn finish(self, _: std::io::Result<usize>) {}
}

#[test]
fn an_entry_pointing_into_its_own_op_is_refused() {
    if !coreloop_runtime::testing::should_run(ReactorKind::Uring, module_path!()) {
        return;
    }
    let rt = Runtime::builder()
        .reactor(ReactorKind::Uring)
        .env_override(false)
        .shutdown_timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async {
            Op::new(ReadsIntoItself {
                fd: 0,
                inline: [0; 16],
            })
            .await;
        })
    }));
    let payload = refused.expect_err("the check must refuse the entry");
    let msg = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(msg.contains("points into the inline bytes"), "{msg}");
}
