//! Free functions on paths: metadata, remove, rename, and whole-file read, write and copy.

use crate::file::File;
use crate::metadata::{Metadata, STATX_WANTED};
use crate::open_options::OpenOptions;
use crate::path::c_path;
use coreloop_runtime::buf::IoBuf;
use coreloop_runtime::op::{DirFd, rename::RenameAt, statx::Statx, unlink::UnlinkAt};
use coreloop_runtime::reactor::Op;
use coreloop_runtime::sys::file::AT_SYMLINK_NOFOLLOW;
use std::io;
use std::path::Path;

/// How much [`copy`] moves per read.
const COPY_CHUNK: usize = 256 * 1024;
/// How much [`read`] grows its buffer by, at least, when a file turns out longer than it was.
const READ_GROWTH: usize = 8 * 1024;

/// What statx says about `path`, following symbolic links.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    stat(path.as_ref(), 0).await
}

/// What statx says about `path` itself, not following a symbolic link.
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    stat(path.as_ref(), AT_SYMLINK_NOFOLLOW).await
}

async fn stat(path: &Path, flags: u32) -> io::Result<Metadata> {
    let path = c_path(path)?;
    Op::new(Statx::new(DirFd::Cwd, path, flags, STATX_WANTED))
        .await
        .map(Metadata::new)
}

/// Removes the file (or symbolic link) `path`.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = c_path(path.as_ref())?;
    Op::new(UnlinkAt::new(DirFd::Cwd, path, 0)).await
}

/// Renames `from` to `to`, replacing `to` if it exists (renameat2, no flags).
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let from = c_path(from.as_ref())?;
    let to = c_path(to.as_ref())?;
    Op::new(RenameAt::new(DirFd::Cwd, from, DirFd::Cwd, to, 0)).await
}

/// The whole file. The buffer is sized from statx, and reading goes on to end of file, so a
/// file that grows or shrinks meanwhile (or reports size 0, as in /proc) is read correctly.
///
/// # Examples
///
/// ```
/// use coreloop_runtime::Runtime;
///
/// let path = std::env::temp_dir().join(format!("coreloop-doc-read-{}", std::process::id()));
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     coreloop_fs::write(&path, "contents").await?;
///     assert_eq!(coreloop_fs::read(&path).await?, b"contents");
///     coreloop_fs::remove_file(&path).await
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let file = File::open(path).await?;
    let size = file.metadata().await?.len();
    // One byte more than the size, so that end of file is seen without growing the buffer.
    // A size no allocation can hold (a huge sparse file) is an error, never an abort.
    let too_big = |_| {
        io::Error::new(
            io::ErrorKind::OutOfMemory,
            format!("fs::read: the file is {size} bytes, more than memory can hold"),
        )
    };
    let mut buf = Vec::new();
    let want = usize::try_from(size)
        .ok()
        .and_then(|n| n.checked_add(1))
        .unwrap_or(usize::MAX);
    buf.try_reserve_exact(want).map_err(too_big)?;
    loop {
        if buf.len() == buf.capacity() {
            buf.try_reserve(buf.len().max(READ_GROWTH))
                .map_err(too_big)?;
        }
        let pos = buf.len() as u64;
        let (res, b) = file.read_at(buf, pos).await;
        buf = b;
        match res {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    file.close().await?;
    Ok(buf)
}

/// Makes `path` hold exactly `data`'s initialized bytes: creates it or cuts it first.
///
/// # Examples
///
/// ```
/// use coreloop_runtime::Runtime;
///
/// let path = std::env::temp_dir().join(format!("coreloop-doc-write-{}", std::process::id()));
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     coreloop_fs::write(&path, b"first version".to_vec()).await?;
///     coreloop_fs::write(&path, "second").await?; // replaces, not appends
///     assert_eq!(coreloop_fs::read(&path).await?, b"second");
///     coreloop_fs::remove_file(&path).await
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn write<B: IoBuf>(path: impl AsRef<Path>, data: B) -> io::Result<()> {
    let file = File::create(path).await?;
    let (res, _) = file.write_all_at(data, 0).await;
    res?;
    file.close().await
}

/// Copies the contents of `from` to `to` (created with `from`'s permission bits if missing,
/// cut to zero length if not). Returns how many bytes were copied.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let src = File::open(from).await?;
    let mode = src.metadata().await?.permissions().mode();
    let dst = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(to)
        .await?;
    let mut buf = Vec::with_capacity(COPY_CHUNK);
    let mut copied = 0u64;
    loop {
        buf.clear();
        let (res, b) = src.read_at(buf, copied).await;
        buf = b;
        let n = match res {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let (res, b) = dst.write_all_at(buf, copied).await;
        buf = b;
        res?;
        copied += n as u64;
    }
    src.close().await?;
    dst.close().await?;
    Ok(copied)
}
