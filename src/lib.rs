//! coreloop: facade (re-exports only).
