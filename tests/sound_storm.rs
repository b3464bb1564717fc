//! Issue 10: the cancellation storm, extended. Ops are dropped while in flight (or queued),
//! and right after that their stream or file is dropped and a new descriptor takes the
//! number (fd reuse); nested-runtime misuse happens in the middle of it. Afterwards:
//! - the unrelated connection that kept reusing the numbers never received a stale write,
//!   and every byte sent to it arrived, in order (no stale read consumed any);
//! - the unrelated file that kept reusing the numbers was never written nor truncated;
//! - every nested `block_on` was refused with a panic.

use coreloop_fs::File;
use coreloop_net::{TcpListener, TcpStream};
use coreloop_runtime::{ReactorKind, Runtime, spawn, time};
use std::io::{Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

const ROUNDS: u64 = 400;
const MARKER: &[u8] = b"STALE-OP-MARKER!";

/// A small seeded generator (xorshift), so a failing storm can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn seed() -> u64 {
    std::env::var("CORELOOP_STORM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_cafe)
}

#[derive(Default, Debug)]
struct Counts {
    nested: u64,
    refused: u64,
}

async fn storm(kind: ReactorKind) {
    let seed = seed();
    let mut rng = Rng(seed | 1);
    let dir = std::env::temp_dir().join(format!(
        "coreloop-sound-storm-{}-{kind}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let victim = dir.join("victim");
    let other = dir.join("other");
    let original = vec![b'o'; 4096];
    std::fs::write(&other, &original).unwrap();

    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let at = l.local_addr().unwrap();
    // The unrelated connection: `client` is dup'ed onto freed numbers; `server` sends it a
    // numbered token each round and must never receive anything.
    let sl = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = std::net::TcpStream::connect(sl.local_addr().unwrap()).unwrap();
    let (mut server, _) = sl.accept().unwrap();
    let mut sent = Vec::new();
    let mut counts = Counts::default();

    for round in 0..ROUNDS {
        match rng.next() % 6 {
            0 => {
                let x = TcpStream::connect(at).await.unwrap();
                let (px, _) = l.accept().await.unwrap();
                coreloop::testing::start_then_drop(x.write(MARKER)).await;
                drop(x);
                let d = client.try_clone().unwrap();
                time::sleep(Duration::from_micros(rng.next() % 500)).await;
                drop(d);
                drop(px);
            }
            1 => {
                let x = TcpStream::connect(at).await.unwrap();
                let (px, _) = l.accept().await.unwrap();
                coreloop::testing::start_then_drop(x.read(Vec::with_capacity(64))).await;
                drop(x);
                let d = client.try_clone().unwrap();
                let token = format!("T{round:06};");
                server.write_all(token.as_bytes()).unwrap();
                sent.extend_from_slice(token.as_bytes());
                time::sleep(Duration::from_micros(rng.next() % 500)).await;
                drop(d);
                drop(px);
            }
            2 | 3 => {
                let v = File::options()
                    .read(true)
                    .write(true)
                    .create(true)
                    .open(&victim)
                    .await
                    .unwrap();
                if rng.next() % 2 == 0 {
                    coreloop::testing::start_then_drop(v.write_at(MARKER, 0)).await;
                } else {
                    coreloop::testing::start_then_drop(v.set_len(0)).await;
                }
                drop(v);
                let b = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&other)
                    .unwrap();
                time::sleep(Duration::from_micros(rng.next() % 500)).await;
                drop(b);
            }
            4 => {
                // Nested-runtime misuse, from a task, with ops of this core in flight.
                counts.nested += 1;
                let refused = spawn(async move {
                    catch_unwind(AssertUnwindSafe(|| {
                        let inner = Runtime::builder()
                            .reactor(kind)
                            .env_override(false)
                            .build()
                            .unwrap();
                        inner.block_on(async {})
                    }))
                    .is_err()
                })
                .await
                .unwrap();
                if refused {
                    counts.refused += 1;
                }
            }
            _ => {
                // Plain cancellation of a read on a live connection.
                let x = TcpStream::connect(at).await.unwrap();
                let (px, _) = l.accept().await.unwrap();
                let r = time::timeout(
                    Duration::from_micros(rng.next() % 200),
                    x.read(Vec::with_capacity(64)),
                )
                .await;
                assert!(r.is_err(), "no data was sent");
                drop(px);
                drop(x);
            }
        }
    }
    time::sleep(Duration::from_millis(50)).await;

    // The unrelated connection: nothing stale arrived, nothing was consumed.
    server.set_nonblocking(true).unwrap();
    let mut stale = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = server.read(&mut buf) {
        if n == 0 {
            break;
        }
        stale.extend_from_slice(&buf[..n]);
    }
    client.set_nonblocking(true).unwrap();
    let mut got = Vec::new();
    while let Ok(n) = (&client).read(&mut buf) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    let mut now = Vec::new();
    std::fs::File::open(&other)
        .unwrap()
        .read_to_end(&mut now)
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        stale.is_empty(),
        "{kind} (CORELOOP_STORM_SEED={seed}): dropped writes delivered {} bytes to an unrelated \
         connection",
        stale.len()
    );
    assert!(
        got == sent,
        "{kind} (CORELOOP_STORM_SEED={seed}): the unrelated connection received {} of {} bytes: \
         dropped reads consumed the rest",
        got.len(),
        sent.len()
    );
    assert!(
        now == original,
        "{kind} (CORELOOP_STORM_SEED={seed}): dropped file ops changed an unrelated file \
         ({} bytes now, was {})",
        now.len(),
        original.len()
    );
    assert_eq!(
        counts.refused, counts.nested,
        "{kind} (CORELOOP_STORM_SEED={seed}): nested block_on calls were not refused: {counts:?}"
    );
}

#[test]
fn fd_reuse_and_nested_runtime_storm_uring() {
    if !coreloop_runtime::testing::should_run(coreloop_runtime::ReactorKind::Uring, module_path!())
    {
        return;
    }
    coreloop_runtime::testing::run(ReactorKind::Uring, storm(ReactorKind::Uring));
}

#[test]
fn fd_reuse_and_nested_runtime_storm_epoll() {
    coreloop_runtime::testing::run(ReactorKind::Epoll, storm(ReactorKind::Epoll));
}
