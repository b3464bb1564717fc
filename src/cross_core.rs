//! Cross-core work and which channels to use (documentation only: coreloop has no channels
//! of its own, and needs none).
//!
//! A coreloop task stays on its core, but its `Waker` is `Send + Sync`: a wake from any
//! thread goes to the owning core's remote queue and unparks that core (one eventfd write,
//! only if it is parked). So any channel written for `std::task::Waker` works between cores,
//! with no coreloop-specific code:
//!
//! | channel | use it for | cross-core round trip (2 vCPU VM, median / p99) |
//! |---------|------------|-----------------------------|
//! | `tokio::sync::{mpsc, oneshot, watch, broadcast, Notify, Semaphore}` (feature `sync` only, no tokio runtime) | the default: requests to a shard, replies, shutdown signals | uring 6.3 / 25 µs, epoll 4.7 / 10 µs |
//! | `futures::channel::{mpsc, oneshot}` | the same, without tokio | uring 6.5 / 33 µs, epoll 4.8 / 7 µs |
//! | `async-channel`, `flume` | multi-consumer queues (work stealing between cores), sync + async ends | uring 23 / 56 µs, epoll 22 / 54 µs |
//!
//! Measured by `cargo run --release --example cross_core_rtt -- --reactor uring|epoll`
//! (20,000 round trips, core 1 parked between them). `tests/channels.rs` checks on both
//! reactors that each of these channels wakes a parked core.
//!
//! The thread-per-core shape: give each core the data it owns (a shard), and send work for
//! it there instead of sharing it behind a lock. `examples/sharded_kv.rs` is a key-value store
//! built that way: every core accepts connections, and a command for a key owned by another
//! core goes there on that core's `tokio::sync::mpsc` queue, with a `oneshot` for the answer.
//! To run a whole task on another core instead, use [`spawn_on`](crate::spawn_on) (the
//! future must be `Send`; it runs there and only there).
