//! coreloop: facade (re-exports only).

pub use coreloop_net as net;
pub use coreloop_runtime::*;
