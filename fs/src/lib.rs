//! coreloop-fs: files and directories on coreloop, the same on io_uring and on epoll.
//!
//! Every operation is an op from `coreloop_runtime::op`: on io_uring it is a ring entry; on
//! epoll (regular files have no readiness) it runs on the blocking pool. I/O passes buffers by
//! ownership, as io_uring needs: `let (res, buf) = file.read_at(buf, 0).await;`.
//!
//! Decisions, where std and tokio leave room:
//! - Every descriptor is opened close-on-exec; custom flags cannot turn that off.
//! - Paths go to the `*at` syscalls relative to the current directory (`AT_FDCWD`). A path with
//!   a NUL byte inside is `ErrorKind::InvalidInput`, never a panic.
//! - [`File`] keeps its own cursor for [`read`](File::read)/[`write`](File::write) and does
//!   positional I/O at it, so both reactors behave alike; in append mode writes go to the end
//!   of the file (`O_APPEND`) and do not move that cursor.
//! - The loops that finish short positional transfers ([`AsyncReadAtExt::read_exact_at`],
//!   [`AsyncWriteAtExt::write_all_at`]) are written once, in [`positional`]; the stream loops
//!   (`read_exact`, `write_all`) come from `coreloop_runtime::io`.
#![deny(missing_docs)]

mod dir;
mod exists;
mod file;
mod functions;
mod links;
mod metadata;
mod open_options;
mod path;
pub mod positional;
mod read_dir;

pub use dir::{create_dir, create_dir_all, remove_dir};
pub use exists::try_exists;
pub use file::File;
pub use functions::{copy, metadata, read, remove_file, rename, symlink_metadata, write};
pub use links::{canonicalize, hard_link, read_link, set_permissions, symlink};
pub use metadata::{FileType, Metadata, Permissions};
pub use open_options::OpenOptions;
pub use positional::{AsyncReadAt, AsyncReadAtExt, AsyncWriteAt, AsyncWriteAtExt};
pub use read_dir::{DirEntry, ReadDir, read_dir, remove_dir_all};
