//! Links and names: `hard_link`, `symlink`, `read_link`, `canonicalize`, and
//! `set_permissions`.

use crate::metadata::Permissions;
use crate::path::c_path;
use coreloop_runtime::op::{
    DirFd, chmod::FchmodAt, link::LinkAt, open::OpenAt, readlink::ReadLinkAt, symlink::SymlinkAt,
};
use coreloop_runtime::reactor::Op;
use coreloop_runtime::sys::file::O_PATH;
use std::ffi::{CString, OsString};
use std::io;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

/// How much room a first `readlinkat` gets; it doubles while the content may have been cut.
const LINK_FIRST: usize = 256;
/// The longest link content read (Linux's `PATH_MAX` is 4096; /proc links can be longer).
const LINK_MAX: usize = 1 << 20;

/// Makes `link` another name for the file `original` (linkat, not following `original` if it
/// is a symbolic link, as std on Linux). `AlreadyExists` if `link` exists.
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let original = c_path(original.as_ref())?;
    let link = c_path(link.as_ref())?;
    Op::new(LinkAt::new(DirFd::Cwd, original, DirFd::Cwd, link, 0)).await
}

/// Makes `link` a symbolic link to `original` (symlinkat). `original` is stored as given:
/// a relative one is relative to `link`'s directory, and it need not exist.
pub async fn symlink(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let original = c_path(original.as_ref())?;
    let link = c_path(link.as_ref())?;
    Op::new(SymlinkAt::new(original, DirFd::Cwd, link)).await
}

/// What the symbolic link `path` points to, as stored (readlinkat). `InvalidInput` if `path`
/// is not a symbolic link.
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    read_link_at(DirFd::Cwd, c_path(path.as_ref())?).await
}

async fn read_link_at(dirfd: DirFd, path: CString) -> io::Result<PathBuf> {
    let mut room = LINK_FIRST;
    loop {
        let op = ReadLinkAt::new(dirfd.clone(), path.clone(), Vec::with_capacity(room));
        let given = op.room();
        let (res, buf) = Op::new(op).await;
        // Filling every byte given may mean the content was cut: ask again with more room.
        if res? < given || room >= LINK_MAX {
            return Ok(PathBuf::from(OsString::from_vec(buf)));
        }
        room *= 2;
    }
}

/// The absolute path of `path` with every symbolic link, `.` and `..` resolved; the file must
/// exist.
///
/// How: the file is opened with `O_PATH` (which reads nothing and needs no permission on the
/// file itself) and the kernel's name for that descriptor is read from
/// `/proc/self/fd/<n>`, so it needs `/proc` mounted (`NotFound` otherwise). For a file
/// deleted meanwhile the kernel's name ends in ` (deleted)`.
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let fd = Op::new(OpenAt::new(DirFd::Cwd, c_path(path.as_ref())?, O_PATH, 0)).await?;
    let proc_path = format!("/proc/self/fd/{}", fd.raw());
    let proc_path = CString::new(proc_path).expect("no NUL in a number");
    // The descriptor stays open (owned here) until the link is read.
    let real = read_link_at(DirFd::Cwd, proc_path).await;
    drop(fd);
    real
}

/// Sets the permission bits of `path` (fchmodat, following a symbolic link), as
/// `std::fs::set_permissions`.
pub async fn set_permissions(path: impl AsRef<Path>, perm: Permissions) -> io::Result<()> {
    let path = c_path(path.as_ref())?;
    Op::new(FchmodAt::new(DirFd::Cwd, path, perm.mode())).await
}
