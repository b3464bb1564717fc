//! `try_exists`: whether a path exists, telling "no" apart from "could not tell".

use crate::functions::metadata;
use std::io;
use std::path::Path;

/// `Ok(true)` if `path` exists (following symbolic links), `Ok(false)` if it does not
/// (`ENOENT`, or `ENOTDIR` for a path through a regular file), and the error otherwise — a
/// permission problem is not an answer, unlike std's `Path::exists`, which says `false`.
/// A dangling symbolic link does not exist. One statx, through the reactor.
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    match metadata(path).await {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => Ok(false),
        Err(e) => Err(e),
    }
}
