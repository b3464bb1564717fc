//! coreloop-benches: the programs that compare coreloop's reactors with each other and with
//! tokio (see `src/bin`), and the code they share with the examples.
//!
//! The HTTP protocol and the flag reader live once, in the facade's `examples/common/`, and
//! are included here with `#[path]`: the tokio servers parse and answer with exactly the code
//! the coreloop example uses. (The examples cannot depend on this crate: it depends on the
//! facade.)

#[path = "../../examples/common/http_proto.rs"]
pub mod http;

#[path = "../../examples/common/args.rs"]
pub mod args;

pub mod bench;

pub mod tokio_server;
