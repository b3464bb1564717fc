//! 4 KiB random reads over a 256 MiB file, at queue depth 1 and 32, on coreloop's io_uring
//! reactor, coreloop's epoll reactor (reads run on the blocking pool) and tokio
//! (current-thread runtime; `std::fs` pread inside `spawn_blocking`, which is what tokio::fs
//! does). Cases are interleaved over rounds; the table shows the median and the spread.
//!
//! `cargo run --release -p coreloop-benches --bin fs_randread [seconds-per-case] [rounds]`

use coreloop::fs::File;
use coreloop_runtime::{ReactorKind, Runtime};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

const FILE_SIZE: u64 = 256 << 20;
const BLOCK: usize = 4096;
const BLOCKS: u64 = FILE_SIZE / BLOCK as u64;

/// A small xorshift: the same offsets for every case, no dependency.
fn offsets(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % BLOCKS) * BLOCK as u64
    }
}

fn prepare(path: &Path) {
    if std::fs::metadata(path).is_ok_and(|m| m.len() == FILE_SIZE) {
        return;
    }
    let chunk: Vec<u8> = (0..1 << 20)
        .map(|i: u32| (i.wrapping_mul(31) >> 3) as u8)
        .collect();
    let f = std::fs::File::create(path).unwrap();
    for i in 0..FILE_SIZE / chunk.len() as u64 {
        f.write_all_at(&chunk, i * chunk.len() as u64).unwrap();
    }
    f.sync_all().unwrap();
}

/// Reads for `dur` with `qd` tasks; returns the number of reads.
fn coreloop_case(kind: ReactorKind, path: &Path, qd: usize, dur: Duration) -> u64 {
    let rt = Runtime::builder()
        .reactor(kind)
        .env_override(false)
        .build()
        .unwrap();
    assert_eq!(rt.reactor(), kind, "reactor not available");
    rt.block_on(async {
        let file = Rc::new(File::open(path).await.unwrap());
        let end = Instant::now() + dur;
        let tasks: Vec<_> = (0..qd)
            .map(|t| {
                let file = file.clone();
                coreloop_runtime::spawn(async move {
                    let mut next = offsets(t as u64 + 1);
                    let mut buf = Vec::with_capacity(BLOCK);
                    let mut n = 0u64;
                    while Instant::now() < end {
                        buf.clear();
                        let (res, b) = file.read_at(buf, next()).await;
                        assert_eq!(res.unwrap(), BLOCK);
                        buf = b;
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        total
    })
}

fn tokio_case(path: &Path, qd: usize, dur: Duration) -> u64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let file = Arc::new(std::fs::File::open(path).unwrap());
        let end = Instant::now() + dur;
        let tasks: Vec<_> = (0..qd)
            .map(|t| {
                let file = file.clone();
                tokio::spawn(async move {
                    let mut next = offsets(t as u64 + 1);
                    let mut buf = vec![0u8; BLOCK];
                    let mut n = 0u64;
                    while Instant::now() < end {
                        let off = next();
                        let f = file.clone();
                        let (res, b) = tokio::task::spawn_blocking(move || {
                            let r = f.read_at(&mut buf, off);
                            (r, buf)
                        })
                        .await
                        .unwrap();
                        assert_eq!(res.unwrap(), BLOCK);
                        buf = b;
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        total
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let secs: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let rounds: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(3);
    let dur = Duration::from_secs_f64(secs);
    let path: PathBuf = std::env::temp_dir().join("coreloop-bench-fs-randread-256m");
    prepare(&path);
    // Warm the page cache so every case reads from RAM.
    let _ = std::fs::read(&path).unwrap();

    let engines = ["coreloop-uring", "coreloop-epoll", "tokio"];
    let qds = [1usize, 32];
    let mut results: Vec<((&str, usize), Vec<f64>)> = Vec::new();
    for e in engines {
        for q in qds {
            results.push(((e, q), Vec::new()));
        }
    }
    for _ in 0..rounds {
        for ((engine, qd), iops) in results.iter_mut() {
            let t = Instant::now();
            let n = match *engine {
                "coreloop-uring" => coreloop_case(ReactorKind::Uring, &path, *qd, dur),
                "coreloop-epoll" => coreloop_case(ReactorKind::Epoll, &path, *qd, dur),
                _ => tokio_case(&path, *qd, dur),
            };
            iops.push(n as f64 / t.elapsed().as_secs_f64());
        }
    }
    println!(
        "fs_randread: 4 KiB random reads over a {} MiB file, {rounds} rounds x {secs} s per case, \
         interleaved",
        FILE_SIZE >> 20
    );
    println!(
        "note: the file is in the page cache (RAM), so this measures runtime overhead, not the disk"
    );
    println!(
        "{:<16} {:>4} {:>12} {:>10} {:>12} {:>12}",
        "engine", "qd", "median IOPS", "us/op", "min IOPS", "max IOPS"
    );
    for ((engine, qd), mut iops) in results {
        iops.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let median = iops[iops.len() / 2];
        println!(
            "{engine:<16} {qd:>4} {median:>12.0} {:>10.2} {:>12.0} {:>12.0}",
            1e6 / median,
            iops[0],
            iops[iops.len() - 1]
        );
    }
}
