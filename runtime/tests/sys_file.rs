//! Files and directories against the real kernel, in a fresh temporary directory.

use coreloop_runtime::sys::Errno;
use coreloop_runtime::sys::file::*;
use coreloop_runtime::sys::io::{self, fcntl_cmd::*};
use coreloop_runtime::testing::TempDir;
use std::ffi::{CStr, CString};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// A path in `d` as a C string.
fn c(d: &TempDir, name: &str) -> CString {
    cstr_path(&d.join(name)).unwrap()
}

#[test]
fn openat_creates_close_on_exec() {
    let d = TempDir::new("open");
    let fd = openat(AT_FDCWD, &c(&d, "f"), O_RDWR | O_CREAT | O_EXCL, 0o640).unwrap();
    assert_ne!(io::fcntl(fd.raw(), F_GETFD, 0).unwrap() & FD_CLOEXEC, 0);
    io::write(fd.raw(), b"data").unwrap();
    assert_eq!(std::fs::read(d.join("f")).unwrap(), b"data");
    assert_eq!(
        std::fs::metadata(d.join("f")).unwrap().mode() & 0o777,
        0o640 & !umask()
    );

    // O_EXCL on an existing file, O_DIRECTORY on a file, a missing file.
    let e = openat(AT_FDCWD, &c(&d, "f"), O_RDWR | O_CREAT | O_EXCL, 0o600).unwrap_err();
    assert_eq!(e, Errno::EEXIST);
    assert_eq!(
        openat(AT_FDCWD, &c(&d, "f"), O_RDONLY | O_DIRECTORY, 0).unwrap_err(),
        Errno::ENOTDIR
    );
    assert_eq!(
        openat(AT_FDCWD, &c(&d, "nope"), O_RDONLY, 0).unwrap_err(),
        Errno::ENOENT
    );

    // Relative to a directory descriptor.
    let dir = openat(
        AT_FDCWD,
        &cstr_path(d.path()).unwrap(),
        O_RDONLY | O_DIRECTORY,
        0,
    )
    .unwrap();
    let f = openat(dir.raw(), c"f", O_RDONLY, 0).unwrap();
    let mut b = [0u8; 4];
    assert_eq!(io::read(f.raw(), &mut b).unwrap(), 4);
    assert_eq!(&b, b"data");
}

/// The process umask, read without changing it (umask(2) would race with other tests).
fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
    u32::from_str_radix(line["Umask:".len()..].trim(), 8).unwrap()
}

#[test]
fn statx_agrees_with_std_metadata() {
    let d = TempDir::new("statx");
    std::fs::write(d.join("f"), vec![7u8; 12345]).unwrap();
    std::fs::hard_link(d.join("f"), d.join("g")).unwrap();
    let m = std::fs::metadata(d.join("f")).unwrap();
    let s = statx(
        AT_FDCWD,
        &c(&d, "f"),
        AT_STATX_SYNC_AS_STAT,
        STATX_BASIC_STATS,
    )
    .unwrap();
    assert_eq!(s.stx_mask & STATX_BASIC_STATS, STATX_BASIC_STATS);
    assert_eq!(s.stx_size, m.size());
    assert_eq!(u32::from(s.stx_mode), m.mode());
    assert_eq!(s.stx_ino, m.ino());
    assert_eq!(s.stx_mtime.tv_sec, m.mtime());
    assert_eq!(i64::from(s.stx_mtime.tv_nsec), m.mtime_nsec());
    assert_eq!(u64::from(s.stx_nlink), m.nlink());
    assert_eq!(s.stx_nlink, 2);
    assert_eq!(s.stx_uid, m.uid());
    assert_eq!(s.stx_gid, m.gid());
    assert_eq!(s.stx_blocks, m.blocks());

    // AT_EMPTY_PATH describes the descriptor itself.
    let fd = openat(AT_FDCWD, &c(&d, "f"), O_RDONLY, 0).unwrap();
    let by_fd = statx(fd.raw(), c"", AT_EMPTY_PATH, STATX_BASIC_STATS).unwrap();
    assert_eq!((by_fd.stx_ino, by_fd.stx_size), (s.stx_ino, s.stx_size));

    // A symlink, followed or not.
    std::os::unix::fs::symlink("f", d.join("link")).unwrap();
    let followed = statx(AT_FDCWD, &c(&d, "link"), 0, STATX_BASIC_STATS).unwrap();
    assert_eq!(followed.stx_ino, s.stx_ino);
    let link = statx(
        AT_FDCWD,
        &c(&d, "link"),
        AT_SYMLINK_NOFOLLOW,
        STATX_BASIC_STATS,
    )
    .unwrap();
    assert_eq!(u32::from(link.stx_mode) & libc::S_IFMT, libc::S_IFLNK);

    assert_eq!(
        statx(AT_FDCWD, &c(&d, "missing"), 0, STATX_BASIC_STATS).unwrap_err(),
        Errno::ENOENT
    );
}

#[test]
fn sync_truncate_allocate() {
    let d = TempDir::new("sync");
    let fd = openat(AT_FDCWD, &c(&d, "f"), O_RDWR | O_CREAT, 0o600).unwrap();
    io::write(fd.raw(), &[1u8; 4096]).unwrap();
    fsync(fd.raw()).unwrap();
    fdatasync(fd.raw()).unwrap();

    ftruncate(fd.raw(), 100).unwrap();
    assert_eq!(std::fs::metadata(d.join("f")).unwrap().len(), 100);
    ftruncate(fd.raw(), 10_000).unwrap();
    assert_eq!(std::fs::metadata(d.join("f")).unwrap().len(), 10_000);
    let mut b = [9u8; 8];
    assert_eq!(io::pread(fd.raw(), &mut b, 5_000).unwrap(), 8);
    assert_eq!(b, [0; 8], "the extension reads as zeros");

    // Some file systems (tmpfs on old kernels, overlay variants) lack fallocate.
    match fallocate(fd.raw(), 0, 0, 65_536) {
        Ok(()) => {
            assert_eq!(std::fs::metadata(d.join("f")).unwrap().len(), 65_536);
            fallocate(fd.raw(), FALLOC_FL_KEEP_SIZE, 65_536, 4096).unwrap();
            assert_eq!(std::fs::metadata(d.join("f")).unwrap().len(), 65_536);
        }
        Err(Errno::EOPNOTSUPP) => eprintln!("skipped fallocate: not supported here"),
        Err(e) => panic!("fallocate: {e}"),
    }

    let (r, _w) = io::pipe(false).unwrap();
    assert_eq!(ftruncate(r.raw(), 0), Err(Errno::EINVAL));
}

#[test]
fn mkdir_rename_unlink() {
    let d = TempDir::new("dirs");
    mkdirat(AT_FDCWD, &c(&d, "sub"), 0o755).unwrap();
    assert!(d.join("sub").is_dir());
    assert_eq!(mkdirat(AT_FDCWD, &c(&d, "sub"), 0o755), Err(Errno::EEXIST));

    std::fs::write(d.join("a"), b"A").unwrap();
    std::fs::write(d.join("b"), b"B").unwrap();
    assert_eq!(
        renameat2(
            AT_FDCWD,
            &c(&d, "a"),
            AT_FDCWD,
            &c(&d, "b"),
            RENAME_NOREPLACE
        ),
        Err(Errno::EEXIST)
    );
    assert_eq!(
        std::fs::read(d.join("b")).unwrap(),
        b"B",
        "NOREPLACE left b alone"
    );

    match renameat2(
        AT_FDCWD,
        &c(&d, "a"),
        AT_FDCWD,
        &c(&d, "b"),
        RENAME_EXCHANGE,
    ) {
        Ok(()) => {
            assert_eq!(std::fs::read(d.join("a")).unwrap(), b"B");
            assert_eq!(std::fs::read(d.join("b")).unwrap(), b"A");
        }
        Err(Errno::EINVAL) => eprintln!("skipped RENAME_EXCHANGE: not supported here"),
        Err(e) => panic!("renameat2 exchange: {e}"),
    }
    renameat2(
        AT_FDCWD,
        &c(&d, "a"),
        AT_FDCWD,
        &c(&d, "c"),
        RENAME_NOREPLACE,
    )
    .unwrap();
    assert!(!d.join("a").exists() && d.join("c").exists());
    renameat2(AT_FDCWD, &c(&d, "c"), AT_FDCWD, &c(&d, "b"), 0).unwrap();

    unlinkat(AT_FDCWD, &c(&d, "b"), 0).unwrap();
    assert!(!d.join("b").exists());
    assert_eq!(unlinkat(AT_FDCWD, &c(&d, "b"), 0), Err(Errno::ENOENT));
    assert_eq!(unlinkat(AT_FDCWD, &c(&d, "sub"), 0), Err(Errno::EISDIR));
    std::fs::write(d.join("sub/x"), b"").unwrap();
    assert_eq!(
        unlinkat(AT_FDCWD, &c(&d, "sub"), AT_REMOVEDIR),
        Err(Errno::ENOTEMPTY)
    );
    unlinkat(AT_FDCWD, &c(&d, "sub/x"), 0).unwrap();
    unlinkat(AT_FDCWD, &c(&d, "sub"), AT_REMOVEDIR).unwrap();
    assert!(!d.join("sub").exists());
}

#[test]
fn tmpfile_is_anonymous() {
    let d = TempDir::new("tmpfile");
    let dir = cstr_path(d.path()).unwrap();
    match openat(AT_FDCWD, &dir, O_TMPFILE | O_RDWR, 0o600) {
        Ok(fd) => {
            io::write(fd.raw(), b"gone on close").unwrap();
            assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
        }
        Err(Errno::EOPNOTSUPP | Errno::EISDIR) => eprintln!("skipped: no O_TMPFILE here"),
        Err(e) => panic!("O_TMPFILE: {e}"),
    }
}

#[test]
fn interior_nul_is_einval() {
    let e = cstr_path(Path::new("/tmp/a\0b")).unwrap_err();
    assert_eq!(e, Errno::EINVAL);
    assert_eq!(
        std::io::Error::from(e).kind(),
        std::io::ErrorKind::InvalidInput
    );
    let ok = cstr_path(Path::new("/tmp/ab")).unwrap();
    assert_eq!(ok.as_c_str(), c"/tmp/ab" as &CStr);
}

#[test]
fn layouts_and_constants_match_libc() {
    assert_eq!(size_of::<Statx>(), 256);
    assert_eq!(size_of::<Statx>(), size_of::<libc::statx>());
    assert_eq!(
        size_of::<StatxTimestamp>(),
        size_of::<libc::statx_timestamp>()
    );
    assert_eq!(
        std::mem::offset_of!(Statx, stx_mtime),
        std::mem::offset_of!(libc::statx, stx_mtime)
    );
    assert_eq!(
        std::mem::offset_of!(Statx, stx_ino),
        std::mem::offset_of!(libc::statx, stx_ino)
    );
    assert_eq!(
        std::mem::offset_of!(Statx, stx_mnt_id),
        std::mem::offset_of!(libc::statx, stx_mnt_id)
    );
    let c = |a: u32, b: i32| assert_eq!(a as i64, b as i64);
    c(O_RDONLY, libc::O_RDONLY);
    c(O_WRONLY, libc::O_WRONLY);
    c(O_RDWR, libc::O_RDWR);
    c(O_CREAT, libc::O_CREAT);
    c(O_EXCL, libc::O_EXCL);
    c(O_NOCTTY, libc::O_NOCTTY);
    c(O_TRUNC, libc::O_TRUNC);
    c(O_APPEND, libc::O_APPEND);
    c(O_DSYNC, libc::O_DSYNC);
    c(O_DIRECT, libc::O_DIRECT);
    c(O_DIRECTORY, libc::O_DIRECTORY);
    c(O_NOFOLLOW, libc::O_NOFOLLOW);
    c(O_NOATIME, libc::O_NOATIME);
    c(O_SYNC, libc::O_SYNC);
    c(O_PATH, libc::O_PATH);
    c(O_TMPFILE, libc::O_TMPFILE);
    c(O_CLOEXEC, libc::O_CLOEXEC);
    assert_eq!(AT_FDCWD, libc::AT_FDCWD);
    c(AT_SYMLINK_NOFOLLOW, libc::AT_SYMLINK_NOFOLLOW);
    c(AT_REMOVEDIR, libc::AT_REMOVEDIR);
    c(AT_EMPTY_PATH, libc::AT_EMPTY_PATH);
    c(AT_STATX_SYNC_AS_STAT, libc::AT_STATX_SYNC_AS_STAT);
    c(AT_STATX_FORCE_SYNC, libc::AT_STATX_FORCE_SYNC);
    c(AT_STATX_DONT_SYNC, libc::AT_STATX_DONT_SYNC);
    assert_eq!(STATX_BASIC_STATS, libc::STATX_BASIC_STATS);
    assert_eq!(STATX_BTIME, libc::STATX_BTIME);
    assert_eq!(STATX_MTIME, libc::STATX_MTIME);
    c(RENAME_NOREPLACE, libc::RENAME_NOREPLACE as i32);
    c(RENAME_EXCHANGE, libc::RENAME_EXCHANGE as i32);
    c(FALLOC_FL_KEEP_SIZE, libc::FALLOC_FL_KEEP_SIZE);
    c(FALLOC_FL_PUNCH_HOLE, libc::FALLOC_FL_PUNCH_HOLE);
    c(FALLOC_FL_ZERO_RANGE, libc::FALLOC_FL_ZERO_RANGE);
}
