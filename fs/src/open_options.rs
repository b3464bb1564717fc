//! `OpenOptions`: how to open a file, as in std.

use crate::file::File;
use crate::path::c_path;
use coreloop_runtime::op::{DirFd, open::OpenAt};
use coreloop_runtime::reactor::Op;
use coreloop_runtime::sys::file::{O_APPEND, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY};
use std::io;
use std::path::Path;

/// The access-mode bits of the open flags, which [`OpenOptions::custom_flags`] may not set.
const O_ACCMODE: u32 = 0o3;

/// Options for opening a file, with std's meanings. The descriptor is always close-on-exec.
///
/// # Examples
///
/// ```
/// use coreloop_fs::OpenOptions;
/// use coreloop_runtime::Runtime;
/// use coreloop_runtime::io::AsyncWriteRentExt;
///
/// let path = std::env::temp_dir().join(format!("coreloop-doc-append-{}", std::process::id()));
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     coreloop_fs::write(&path, "one\n").await?;
///     let mut log = OpenOptions::new().append(true).open(&path).await?;
///     log.write_all("two\n").await.0?; // appended, whatever the cursor says
///     log.close().await?;
///     assert_eq!(coreloop_fs::read(&path).await?, b"one\ntwo\n");
///     coreloop_fs::remove_file(&path).await
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions {
    read: bool,
    write: bool,
    append: bool,
    truncate: bool,
    create: bool,
    create_new: bool,
    custom_flags: u32,
    mode: u32,
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl OpenOptions {
    /// Everything off; a new file gets mode `0o666` (less the umask).
    pub fn new() -> OpenOptions {
        OpenOptions {
            read: false,
            write: false,
            append: false,
            truncate: false,
            create: false,
            create_new: false,
            custom_flags: 0,
            mode: 0o666,
        }
    }

    /// Opens for reading.
    pub fn read(&mut self, on: bool) -> &mut OpenOptions {
        self.read = on;
        self
    }

    /// Opens for writing.
    pub fn write(&mut self, on: bool) -> &mut OpenOptions {
        self.write = on;
        self
    }

    /// Every write goes to the end of the file (`O_APPEND`); implies write access.
    pub fn append(&mut self, on: bool) -> &mut OpenOptions {
        self.append = on;
        self
    }

    /// Cut the file to zero length on open; needs write access.
    pub fn truncate(&mut self, on: bool) -> &mut OpenOptions {
        self.truncate = on;
        self
    }

    /// Create the file if it is missing; needs write or append access.
    pub fn create(&mut self, on: bool) -> &mut OpenOptions {
        self.create = on;
        self
    }

    /// Create the file, failing with `AlreadyExists` if it exists (`O_CREAT | O_EXCL`);
    /// overrides `create` and `truncate`.
    pub fn create_new(&mut self, on: bool) -> &mut OpenOptions {
        self.create_new = on;
        self
    }

    /// More `O_*` flags for open(2) (`O_DIRECT`, `O_NOATIME`, ...). The access mode bits are
    /// ignored (use `read`/`write`); `O_CLOEXEC` is added regardless.
    pub fn custom_flags(&mut self, flags: u32) -> &mut OpenOptions {
        self.custom_flags = flags;
        self
    }

    /// The permission bits of a file this open creates (default `0o666`, less the umask).
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        self.mode = mode;
        self
    }

    /// Opens `path` with these options.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let flags = self.flags()?;
        let path = c_path(path.as_ref())?;
        let fd = Op::new(OpenAt::new(DirFd::Cwd, path, flags, self.mode)).await?;
        Ok(File::from_owned(fd, self.append))
    }

    /// The open(2) flags, checked as std checks them.
    fn flags(&self) -> io::Result<u32> {
        let invalid = |msg: &str| Err(io::Error::new(io::ErrorKind::InvalidInput, msg.to_string()));
        let access = match (self.read, self.write, self.append) {
            (true, false, false) => O_RDONLY,
            (false, true, false) => O_WRONLY,
            (true, true, false) => O_RDWR,
            (false, _, true) => O_WRONLY | O_APPEND,
            (true, _, true) => O_RDWR | O_APPEND,
            (false, false, false) => {
                return invalid("open: no access mode (read, write or append)");
            }
        };
        if !self.write && !self.append && (self.truncate || self.create || self.create_new) {
            return invalid("open: create and truncate need write or append access");
        }
        if self.append && self.truncate && !self.create_new {
            return invalid("open: truncate and append together");
        }
        let creation = match (self.create, self.truncate, self.create_new) {
            (_, _, true) => O_CREAT | O_EXCL,
            (false, false, false) => 0,
            (true, false, false) => O_CREAT,
            (false, true, false) => O_TRUNC,
            (true, true, false) => O_CREAT | O_TRUNC,
        };
        Ok(access | creation | (self.custom_flags & !O_ACCMODE))
    }
}
