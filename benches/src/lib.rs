//! coreloop-benches: the programs that compare coreloop's reactors with each other and with
//! tokio (see `src/bin`), and the code they share with the examples.
//!
//! The HTTP protocol and the flag reader live once, in `coreloop-examples-support`, and are
//! re-exported here: the tokio servers parse and answer with exactly the code the coreloop
//! example uses.

pub use coreloop_examples_support::args;
pub use coreloop_examples_support::http_proto as http;

pub mod bench;

pub mod tokio_server;
