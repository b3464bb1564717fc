//! Paths as the kernel takes them.

use coreloop_runtime::sys::file::cstr_path;
use std::ffi::CString;
use std::io;
use std::path::Path;

/// `path` NUL-terminated, for an op to own. A NUL inside is `InvalidInput` (`EINVAL`).
pub(crate) fn c_path(path: &Path) -> io::Result<CString> {
    cstr_path(path).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("path {path:?} contains a NUL byte"),
        )
    })
}
