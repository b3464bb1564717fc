//! Shared by the fs tests: a unique temporary directory, removed on drop, and patterned data.
#![allow(unused_imports)]

pub use coreloop_runtime::testing::{TempDir, pattern};
