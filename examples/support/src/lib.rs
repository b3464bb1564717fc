//! coreloop-examples-support: the code the example servers share that is not coreloop itself,
//! in one `publish = false` crate so that no source file is included by path.
//!
//! - [`http_proto`]: HTTP/1.1 (RFC 9112) as an I/O-free state machine over byte buffers;
//!   the tokio twin in `coreloop-benches` answers with exactly this code.
//! - [`http_server`]: the HTTP connection loop on coreloop (timeouts, backpressure,
//!   lingering close).
//! - [`echo_conn`]: the echo server's connection.
//! - [`server`]: one `SO_REUSEPORT` listener per core, the accept loop, signals, counters.
//! - [`shutdown`]: a shutdown signal every core can wait on, and a two-way `select`.
//! - [`args`]: the flag reader of the examples and the bench programs.
//! - [`testing`]: helpers for the tests that run the built examples as processes.
//!
//! The graded examples in `examples/` show coreloop's API on its own first (echo, client,
//! timeout/select, cross-core); only the two production-shape servers use this crate.

#![deny(missing_docs)]

pub mod args;
pub mod echo_conn;
pub mod http_proto;
pub mod http_server;
pub mod server;
pub mod shutdown;
pub mod testing;
