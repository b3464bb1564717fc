//! `File`: an open file, with positional and sequential ownership-passing I/O.

use crate::metadata::{Metadata, STATX_WANTED};
use crate::open_options::OpenOptions;
use crate::positional::{AsyncReadAt, AsyncReadAtExt, AsyncWriteAt, AsyncWriteAtExt};
use coreloop_runtime::buf::{IoBuf, IoBufMut};
use coreloop_runtime::io::{AsyncReadRent, AsyncWriteRent, BufResult};
use coreloop_runtime::op::{
    DirFd, Position, SharedFd, close::Close, fallocate::Fallocate, fsync::Fsync,
    ftruncate::Ftruncate, read::Read, readv::Readv, statx::Statx, write::Write, writev::Writev,
};
use coreloop_runtime::reactor::Op;
use coreloop_runtime::sys::OwnedFd;
use coreloop_runtime::sys::file::AT_EMPTY_PATH;
use std::ffi::CString;
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;

/// An open file on the current core.
///
/// Positional I/O (`read_at`, `write_at`, ...) takes `&self`, so many tasks of one core may
/// share a file (`Rc<File>`) and have reads in flight at once. Sequential I/O (`read`,
/// `write`, and so `read_exact`/`write_all` from `coreloop_runtime::io`) uses a cursor kept
/// here, not the kernel's file offset, and does positional I/O at it: the same on both
/// reactors. In append mode, writes go to the end of the file (`O_APPEND`; this holds even
/// for `write_at`, as on Linux pwrite) and do not move the cursor.
///
/// Dropping a `File` closes it and drops close's error; [`close`](File::close) reports it.
///
/// # Examples
///
/// ```
/// use coreloop_fs::File;
/// use coreloop_runtime::Runtime;
///
/// let path = std::env::temp_dir().join(format!("coreloop-doc-file-{}", std::process::id()));
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let file = File::create(&path).await?; // write-only, as in std
///     file.write_all_at("hello, file", 0).await.0?;
///     file.close().await?; // reports close's error, which a drop cannot
///
///     let file = File::open(&path).await?; // read-only
///     let (res, buf) = file.read_at(Vec::with_capacity(16), 7).await;
///     assert_eq!(res?, 4); // the bytes from offset 7 to the end
///     assert_eq!(buf, b"file");
///     drop(file);
///     coreloop_fs::remove_file(&path).await
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct File {
    fd: SharedFd,
    cursor: u64,
    append: bool,
}

impl File {
    pub(crate) fn from_owned(fd: OwnedFd, append: bool) -> File {
        File {
            fd: SharedFd::new(fd),
            cursor: 0,
            append,
        }
    }

    /// Opens `path` read-only.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Opens `path` write-only, creating it or cutting it to zero length.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// `OpenOptions::new()`.
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Reads once at `pos`, **appending** to `buf`: the bytes land after its initialized
    /// ones, up to its capacity. `Ok(0)` is end of file; a buffer with no spare capacity is an
    /// immediate `InvalidInput` error (never `Ok(0)`).
    ///
    /// # Example
    /// ```
    /// use coreloop_fs::File;
    /// # coreloop_runtime::Runtime::new().unwrap().block_on(async {
    /// let path = std::env::temp_dir().join(format!("coreloop-doc-read-at-{}", std::process::id()));
    /// coreloop_fs::write(&path, "hello world").await.unwrap();
    /// let file = File::open(&path).await.unwrap();
    ///
    /// let mut buf = Vec::with_capacity(16);
    /// buf.extend_from_slice(b">");
    /// let (n, buf) = file.read_at(buf, 6).await;
    /// assert_eq!(n.unwrap(), 5);
    /// assert_eq!(buf, b">world"); // appended after the '>'
    /// # coreloop_fs::remove_file(&path).await.unwrap();
    /// # });
    /// ```
    pub async fn read_at<B: IoBufMut>(&self, buf: B, pos: u64) -> BufResult<usize, B> {
        Op::new(Read::new(&self.fd, buf, Position::At(pos))).await
    }

    /// Writes `buf`'s initialized bytes once at `pos`; may write fewer.
    pub async fn write_at<B: IoBuf>(&self, buf: B, pos: u64) -> BufResult<usize, B> {
        Op::new(Write::new(&self.fd, buf, Position::At(pos))).await
    }

    /// Fills `buf` to its capacity from `pos` on; end of file first is `UnexpectedEof`.
    pub async fn read_exact_at<B: IoBufMut>(&self, buf: B, pos: u64) -> BufResult<(), B> {
        AsyncReadAtExt::read_exact_at(self, buf, pos).await
    }

    /// Writes all of `buf`'s initialized bytes from `pos` on.
    pub async fn write_all_at<B: IoBuf>(&self, buf: B, pos: u64) -> BufResult<(), B> {
        AsyncWriteAtExt::write_all_at(self, buf, pos).await
    }

    /// Reads once at `pos` into several buffers, in order (preadv).
    pub async fn readv_at<B: IoBufMut>(&self, bufs: Vec<B>, pos: u64) -> BufResult<usize, Vec<B>> {
        Op::new(Readv::new(&self.fd, bufs, Position::At(pos))).await
    }

    /// Writes once at `pos` from several buffers, in order (pwritev); may write fewer.
    pub async fn writev_at<B: IoBuf>(&self, bufs: Vec<B>, pos: u64) -> BufResult<usize, Vec<B>> {
        Op::new(Writev::new(&self.fd, bufs, Position::At(pos))).await
    }

    /// Reads once at the cursor, **appending** to `buf` (after its initialized bytes, up to
    /// its capacity), and moves the cursor past what was read. `Ok(0)` is end of file; a
    /// buffer with no spare capacity is an immediate `InvalidInput` error (never `Ok(0)`).
    ///
    /// # Example
    /// ```
    /// use coreloop_fs::File;
    /// # coreloop_runtime::Runtime::new().unwrap().block_on(async {
    /// let path = std::env::temp_dir().join(format!("coreloop-doc-read-{}", std::process::id()));
    /// coreloop_fs::write(&path, "hello").await.unwrap();
    /// let mut file = File::open(&path).await.unwrap();
    ///
    /// let buf = Vec::with_capacity(3);
    /// let (n, buf) = file.read(buf).await;
    /// assert_eq!(n.unwrap(), 3);
    /// assert_eq!(buf, b"hel");
    /// let mut buf = buf;
    /// buf.reserve(8); // a read appends: give it room after "hel"
    /// let (n, buf) = file.read(buf).await;
    /// assert_eq!(n.unwrap(), 2);
    /// assert_eq!(buf, b"hello");
    /// # coreloop_fs::remove_file(&path).await.unwrap();
    /// # });
    /// ```
    pub async fn read<B: IoBufMut>(&mut self, buf: B) -> BufResult<usize, B> {
        let (res, buf) = self.read_at(buf, self.cursor).await;
        if let Ok(n) = res {
            self.cursor += n as u64;
        }
        (res, buf)
    }

    /// Writes once at the cursor and moves it past what was written; in append mode, writes
    /// at the end of the file and leaves the cursor alone.
    pub async fn write<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        if self.append {
            return Op::new(Write::new(&self.fd, buf, Position::Cursor)).await;
        }
        let (res, buf) = self.write_at(buf, self.cursor).await;
        if let Ok(n) = res {
            self.cursor += n as u64;
        }
        (res, buf)
    }

    /// Where the next [`read`](File::read) or [`write`](File::write) happens.
    pub fn position(&self) -> u64 {
        self.cursor
    }

    /// Moves the cursor to `pos` (from the start of the file).
    pub fn set_position(&mut self, pos: u64) {
        self.cursor = pos;
    }

    /// Makes data and metadata durable (fsync).
    pub async fn sync_all(&self) -> io::Result<()> {
        Op::new(Fsync::all(&self.fd)).await
    }

    /// Makes the data durable, and the metadata needed to read it (fdatasync).
    pub async fn sync_data(&self) -> io::Result<()> {
        Op::new(Fsync::data(&self.fd)).await
    }

    /// Cuts or extends (with zeros) the file to `len` bytes (ftruncate).
    pub async fn set_len(&self, len: u64) -> io::Result<()> {
        Op::new(Ftruncate::new(&self.fd, len)).await
    }

    /// Reserves disk space for `offset..offset + len`, growing the file if that range ends
    /// past it (fallocate, mode 0). `Unsupported` on file systems that cannot.
    pub async fn allocate(&self, offset: u64, len: u64) -> io::Result<()> {
        Op::new(Fallocate::new(&self.fd, 0, offset, len)).await
    }

    /// What statx says about this file.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let dir = DirFd::Fd(self.fd.clone());
        let op = Statx::new(dir, CString::default(), AT_EMPTY_PATH, STATX_WANTED);
        Op::new(op).await.map(Metadata::new)
    }

    /// Closes the file and reports close's error (a deferred write error, `EDQUOT`, ...).
    /// The descriptor is gone either way. It waits first for any operation the kernel still
    /// runs on the file (one whose future was dropped), so nothing can reach a file that
    /// reuses the number.
    pub async fn close(self) -> io::Result<()> {
        Op::new(Close::new(self.fd.into_owned().await)).await
    }

    fn raw(&self) -> RawFd {
        self.fd.raw()
    }
}

impl AsRawFd for File {
    fn as_raw_fd(&self) -> RawFd {
        self.raw()
    }
}

impl AsyncReadAt for File {
    fn read_at<B: IoBufMut>(&self, buf: B, pos: u64) -> impl Future<Output = BufResult<usize, B>> {
        File::read_at(self, buf, pos)
    }
}

impl AsyncWriteAt for File {
    fn write_at<B: IoBuf>(&self, buf: B, pos: u64) -> impl Future<Output = BufResult<usize, B>> {
        File::write_at(self, buf, pos)
    }
}

impl AsyncReadRent for File {
    fn read<B: IoBufMut>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        File::read(self, buf)
    }
}

impl AsyncWriteRent for File {
    fn write<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        File::write(self, buf)
    }
}
