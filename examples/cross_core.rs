//! Step 4: more than one core. Each core runs its own loop and its own tasks; `spawn_on`
//! sends a future to another core, which runs it there, and the `JoinHandle` brings the
//! result back. What crosses cores must be `Send`; what stays on a core need not be.
//!
//! Core 0 hands out ten jobs round-robin over every core and sums the answers. Each core
//! counts the jobs it ran in core-local state (a `thread_local!` `Cell`: no locks, no
//! atomics, since a core is one thread). A core whose own future has finished keeps running
//! what `spawn_on` sends it until every core's future has finished.
//!
//! ```text
//! cargo run --example cross_core
//! ```

use coreloop::{CoreInfo, Runtime};
use std::cell::Cell;
use std::io;

thread_local! {
    /// Jobs this core has run.
    static JOBS: Cell<u64> = const { Cell::new(0) };
}

fn main() -> io::Result<()> {
    let rt = Runtime::builder().cores(2).build()?;
    // One result per core, in core order.
    let results = rt.run(core_main)?;
    let mut failed = false;
    for (core, res) in results.into_iter().enumerate() {
        match res {
            Ok(Some(total)) => println!("core {core}: handed out the jobs, sum of squares {total}"),
            Ok(None) => println!("core {core}: served jobs"),
            Err(e) => {
                eprintln!("core {core}: {e}");
                failed = true;
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
    Ok(())
}

/// Core 0 hands out the jobs and waits for them; the other cores return at once and go on
/// running what they are sent.
async fn core_main(core: CoreInfo) -> io::Result<Option<u64>> {
    if core.index != 0 {
        return Ok(None);
    }
    let mut handles = Vec::new();
    for job in 0..10u64 {
        let target = job as usize % core.cores;
        // The future moves to `target` and runs there: only Send values cross.
        handles.push(coreloop::spawn_on(target, async move {
            JOBS.with(|j| j.set(j.get() + 1));
            let ran_on = coreloop::current_core().unwrap_or(usize::MAX);
            (ran_on, job * job)
        })?);
    }
    let mut total = 0;
    for h in handles {
        let (ran_on, square) = h
            .await
            .map_err(|e| io::Error::other(format!("a job failed: {e:?}")))?;
        println!("{square} computed on core {ran_on}");
        total += square;
    }
    println!("core 0 ran {} of the jobs itself", JOBS.with(Cell::get));
    Ok(Some(total))
}
