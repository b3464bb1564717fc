//! coreloop: facade (re-exports only).

pub use coreloop_fs as fs;
