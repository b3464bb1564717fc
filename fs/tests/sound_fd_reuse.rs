//! Issue 10, defect 4 (files): a `write_at` or `set_len` whose future was dropped (timed out),
//! on a file that was then dropped, must never run against the file that reuses the fd
//! number next: the other file is never overwritten nor truncated.

use coreloop_fs::File;
use coreloop_runtime::{reactor_test, time};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

const ROUNDS: usize = 200;
const MARKER: &[u8] = b"STALE-OP-MARKER!";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "coreloop-sound-fd-reuse-{}-{name}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn original() -> Vec<u8> {
    vec![b'o'; 4096]
}

fn open_rw(p: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(p)
        .unwrap()
}

/// Runs `ROUNDS` times: open the victim, start `op` on it and drop it, drop the victim, open
/// the bystander (it takes the victim's number), let the reactor run. Then the bystander must
/// hold exactly what it held.
async fn no_stale_effects<F, Fut>(name: &str, op: F)
where
    F: Fn(File) -> Fut,
    Fut: Future<Output = File>,
{
    let dir = scratch(name);
    let victim = dir.join("victim");
    let other = dir.join("other");
    std::fs::write(&other, original()).unwrap();
    for _ in 0..ROUNDS {
        let v = File::options()
            .read(true)
            .write(true)
            .create(true)
            .open(&victim)
            .await
            .unwrap();
        let v = op(v).await;
        drop(v);
        let b = open_rw(&other);
        time::sleep(Duration::from_millis(1)).await;
        drop(b);
    }
    // Give a pool thread time to run anything still queued.
    time::sleep(Duration::from_millis(50)).await;
    let mut now = Vec::new();
    std::fs::File::open(&other)
        .unwrap()
        .read_to_end(&mut now)
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        now == original(),
        "{name}: a dropped op on a closed file changed the file that reused its fd number: \
         {} bytes now (was 4096), starts {:?}",
        now.len(),
        String::from_utf8_lossy(&now[..now.len().min(16)])
    );
}

reactor_test! {
    async fn dropped_write_at_never_writes_a_file_that_reuses_the_fd() {
        no_stale_effects("write_at", |v: File| async move {
            coreloop_runtime::testing::start_then_drop(v.write_at(MARKER, 0)).await;
            v
        })
        .await;
    }
}

reactor_test! {
    async fn dropped_set_len_never_truncates_a_file_that_reuses_the_fd() {
        no_stale_effects("set_len", |v: File| async move {
            coreloop_runtime::testing::start_then_drop(v.set_len(0)).await;
            v
        })
        .await;
    }
}
