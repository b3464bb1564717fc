//! `read_dir`: the entries of a directory, read with getdents64 on the blocking pool (io_uring
//! has no opcode for it), and `remove_dir_all` on top of it.

use crate::functions::{remove_file, symlink_metadata};
use crate::metadata::FileType;
use crate::path::c_path;
use coreloop_runtime::op::{DirFd, SharedFd, getdents::Getdents, open::OpenAt};
use coreloop_runtime::reactor::Op;
use coreloop_runtime::sys::dir::{DT_UNKNOWN, entries};
use coreloop_runtime::sys::file::{O_DIRECTORY, O_RDONLY};
use futures_core::Stream;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::future::Future;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// How many bytes of records one getdents64 call may fill (dozens of entries).
const RECORDS_CHUNK: usize = 16 * 1024;

/// The entries of the directory `path`, in the order the file system keeps them, without
/// `.` and `..`: call [`ReadDir::next_entry`] until it gives `None` (as tokio's `ReadDir`),
/// or use the [`ReadDir`] as a `futures_core::Stream`.
///
/// ```
/// # coreloop_runtime::Runtime::new().unwrap().block_on(async {
/// let mut dir = coreloop_fs::read_dir("/").await.unwrap();
/// let mut names = Vec::new();
/// while let Some(entry) = dir.next_entry().await.unwrap() {
///     names.push(entry.file_name());
/// }
/// assert!(names.iter().any(|n| n == "proc" || n == "usr"));
/// # });
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref();
    let fd = Op::new(OpenAt::new(
        DirFd::Cwd,
        c_path(path)?,
        O_RDONLY | O_DIRECTORY,
        0,
    ))
    .await?;
    Ok(ReadDir {
        fd: SharedFd::new(fd),
        dir: Rc::new(path.to_path_buf()),
        ready: VecDeque::new(),
        records: Vec::with_capacity(RECORDS_CHUNK),
        read: None,
        ended: false,
    })
}

/// An open directory being read; from [`read_dir`]. `!Send`: it belongs to its core.
pub struct ReadDir {
    fd: SharedFd,
    dir: Rc<PathBuf>,
    /// Entries parsed and not yet handed out.
    ready: VecDeque<DirEntry>,
    /// The buffer getdents64 fills (lent to each op and handed back).
    records: Vec<u8>,
    /// The getdents64 in flight, if any (it holds `records`).
    read: Option<Op<Getdents>>,
    ended: bool,
}

impl ReadDir {
    /// The next entry, or `None` once every entry was given: the stream's next item, as an
    /// `async fn`.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx))
            .await
            .transpose()
    }

    /// Turns the records getdents64 filled into entries, skipping `.` and `..`.
    fn parse_records(&mut self) {
        for e in entries(&self.records) {
            let name = e.name.to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            self.ready.push_back(DirEntry {
                dir: self.dir.clone(),
                name: std::ffi::OsStr::from_bytes(name).to_os_string(),
                ino: e.ino,
                kind: e.kind,
            });
        }
    }
}

/// The entries as a `futures_core::Stream` of `io::Result<DirEntry>`. A read error is an item
/// (the next poll tries again); the stream ends after the last entry.
impl Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(entry) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(entry)));
            }
            if this.ended {
                return Poll::Ready(None);
            }
            let read = this.read.get_or_insert_with(|| {
                let mut records = std::mem::take(&mut this.records);
                records.clear();
                // A read dropped in flight took the buffer: start a new one.
                records.reserve_exact(RECORDS_CHUNK);
                Op::new(Getdents::new(&this.fd, records))
            });
            let (res, records) = match Pin::new(read).poll(cx) {
                Poll::Ready(done) => done,
                Poll::Pending => return Poll::Pending,
            };
            this.read = None;
            this.records = records;
            match res {
                Ok(0) => this.ended = true,
                Ok(_) => this.parse_records(),
                Err(e) => return Poll::Ready(Some(Err(e))),
            }
        }
    }
}

impl std::fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadDir")
            .field("dir", &self.dir)
            .field("ready", &self.ready.len())
            .field("reading", &self.read.is_some())
            .field("ended", &self.ended)
            .finish()
    }
}

/// One entry of a directory, from [`ReadDir::next_entry`].
#[derive(Clone, Debug)]
pub struct DirEntry {
    dir: Rc<PathBuf>,
    name: OsString,
    ino: u64,
    /// getdents64's `d_type` (a `DT_*` value).
    kind: u8,
}

impl DirEntry {
    /// The directory's path joined with this entry's name.
    pub fn path(&self) -> PathBuf {
        self.dir.join(&self.name)
    }

    /// The entry's name.
    pub fn file_name(&self) -> OsString {
        self.name.clone()
    }

    /// The entry's inode number.
    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// What the entry is, not following a symbolic link. Free when the file system says in
    /// the directory itself (most do); otherwise a statx of the entry.
    pub async fn file_type(&self) -> io::Result<FileType> {
        match self.kind {
            DT_UNKNOWN => Ok(symlink_metadata(self.path()).await?.file_type()),
            // DT_* is the S_IF* type shifted right by 12 bits.
            kind => Ok(FileType::from_mode(u32::from(kind) << 12)),
        }
    }
}

/// Removes `path` and everything under it, not following symbolic links (a link is removed,
/// not what it points to). `path` itself must be a directory. Entries that vanish meanwhile
/// (removed by someone else) are not an error.
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref();
    let meta = symlink_metadata(path).await?;
    if !meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotADirectory,
            format!("remove_dir_all: {path:?} is not a directory"),
        ));
    }
    remove_tree(path.to_path_buf()).await
}

/// Removes the directory `dir` with its contents (a boxed future: it recurses).
fn remove_tree(dir: PathBuf) -> Pin<Box<dyn Future<Output = io::Result<()>>>> {
    Box::pin(async move {
        let mut entries = match read_dir(&dir).await {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            r => r?,
        };
        while let Some(entry) = entries.next_entry().await? {
            let gone = |r: io::Result<()>| match r {
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                r => r,
            };
            let is_dir = match entry.file_type().await {
                Ok(t) => t.is_dir(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if is_dir {
                gone(remove_tree(entry.path()).await)?;
            } else {
                gone(remove_file(entry.path()).await)?;
            }
        }
        drop(entries);
        match crate::dir::remove_dir(&dir).await {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    })
}
