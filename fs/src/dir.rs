//! Directories: `create_dir`, `create_dir_all`, `remove_dir`.

use crate::functions::metadata;
use crate::path::c_path;
use coreloop_runtime::op::{DirFd, mkdir::MkDirAt, unlink::UnlinkAt};
use coreloop_runtime::reactor::Op;
use coreloop_runtime::sys::file::AT_REMOVEDIR;
use std::io;
use std::path::Path;

/// Makes the directory `path` (mode `0o777`, less the umask). `AlreadyExists` if it exists.
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = c_path(path.as_ref())?;
    Op::new(MkDirAt::new(DirFd::Cwd, path, 0o777)).await
}

/// Makes `path` and every missing parent. A directory that exists already (or that another
/// task or process makes meanwhile) is fine; anything else in the way is an error.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref();
    // Walk up until a directory is made or found, remembering what was missing...
    let mut missing = Vec::new();
    let mut at = Some(path);
    while let Some(p) = at {
        if p.as_os_str().is_empty() {
            break;
        }
        match make_dir_if_missing(p).await {
            Ok(()) => break,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                missing.push(p);
                at = p.parent();
            }
            Err(e) => return Err(e),
        }
    }
    // ...then make the missing ones, outermost first.
    for p in missing.into_iter().rev() {
        make_dir_if_missing(p).await?;
    }
    Ok(())
}

/// `create_dir`, where an existing directory counts as success.
async fn make_dir_if_missing(p: &Path) -> io::Result<()> {
    match create_dir(p).await {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match metadata(p).await {
            Ok(m) if m.is_dir() => Ok(()),
            _ => Err(e),
        },
        r => r,
    }
}

/// Removes the empty directory `path`.
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = c_path(path.as_ref())?;
    Op::new(UnlinkAt::new(DirFd::Cwd, path, AT_REMOVEDIR)).await
}
