//! Byte I/O against the real kernel: pipes, vectored and positional reads and writes,
//! descriptor flags, eventfd, close.

use coreloop_runtime::sys::fd::close_raw;
use coreloop_runtime::sys::file::{self, AT_FDCWD, O_CREAT, O_EXCL, O_RDWR};
use coreloop_runtime::sys::io::{self, O_CLOEXEC, O_NONBLOCK, fcntl_cmd::*, whence::*};
use coreloop_runtime::sys::{Errno, OwnedFd, eventfd};
use std::io::{IoSlice, IoSliceMut};
use std::path::PathBuf;

/// A file in a fresh temporary directory, removed with the directory on drop.
struct TempFile {
    dir: PathBuf,
    fd: OwnedFd,
}

impl TempFile {
    fn new(tag: &str) -> TempFile {
        let dir = std::env::temp_dir().join(format!(
            "coreloop-sys-io-{tag}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        std::fs::create_dir(&dir).unwrap();
        let path = file::cstr_path(&dir.join("f")).unwrap();
        let fd = file::openat(AT_FDCWD, &path, O_RDWR | O_CREAT | O_EXCL, 0o600).unwrap();
        TempFile { dir, fd }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn has_cloexec(fd: i32) -> bool {
    io::fcntl(fd, F_GETFD, 0).unwrap() & FD_CLOEXEC != 0
}

#[test]
fn pipe_round_trip() {
    let (r, w) = io::pipe(false).unwrap();
    assert!(has_cloexec(r.raw()) && has_cloexec(w.raw()));
    assert_eq!(io::write(w.raw(), b"hello, pipe").unwrap(), 11);
    let mut buf = [0u8; 32];
    let n = io::read(r.raw(), &mut buf).unwrap();
    assert_eq!(&buf[..n], b"hello, pipe");
    drop(w);
    assert_eq!(
        io::read(r.raw(), &mut buf).unwrap(),
        0,
        "EOF after the writer closes"
    );
}

#[test]
fn readv_writev_move_the_right_bytes() {
    let (r, w) = io::pipe(false).unwrap();
    let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    let (a, rest) = data.split_at(1);
    let (b, rest) = rest.split_at(300);
    let (c, d) = rest.split_at(17);
    let bufs = [
        IoSlice::new(a),
        IoSlice::new(b),
        IoSlice::new(c),
        IoSlice::new(d),
    ];
    assert_eq!(io::writev(w.raw(), &bufs).unwrap(), 1000);

    let (mut x, mut y, mut z) = ([0u8; 7], [0u8; 500], [0u8; 493]);
    let mut out = [
        IoSliceMut::new(&mut x),
        IoSliceMut::new(&mut y),
        IoSliceMut::new(&mut z),
    ];
    assert_eq!(io::readv(r.raw(), &mut out).unwrap(), 1000);
    let got: Vec<u8> = [&x[..], &y[..], &z[..]].concat();
    assert_eq!(got, data);
}

#[test]
fn pread_pwrite_leave_the_offset_alone() {
    let t = TempFile::new("pread");
    let fd = t.fd.raw();
    assert_eq!(io::write(fd, b"0123456789").unwrap(), 10);
    assert_eq!(io::lseek(fd, 3, SEEK_SET).unwrap(), 3);

    assert_eq!(io::pwrite(fd, b"AB", 6).unwrap(), 2);
    assert_eq!(io::lseek(fd, 0, SEEK_CUR).unwrap(), 3);
    let mut buf = [0u8; 4];
    assert_eq!(io::pread(fd, &mut buf, 5).unwrap(), 4);
    assert_eq!(&buf, b"5AB8");
    assert_eq!(io::lseek(fd, 0, SEEK_CUR).unwrap(), 3);

    // Past the end: a short read, then 0.
    assert_eq!(io::pread(fd, &mut buf, 8).unwrap(), 2);
    assert_eq!(io::pread(fd, &mut buf, 100).unwrap(), 0);
}

#[test]
fn preadv_pwritev() {
    let t = TempFile::new("preadv");
    let fd = t.fd.raw();
    let bufs = [IoSlice::new(b"abc"), IoSlice::new(b"defgh")];
    assert_eq!(io::pwritev(fd, &bufs, 100).unwrap(), 8);
    assert_eq!(io::lseek(fd, 0, SEEK_CUR).unwrap(), 0);
    assert_eq!(io::lseek(fd, 0, SEEK_END).unwrap(), 108);

    let (mut a, mut b) = ([0u8; 5], [0u8; 5]);
    let mut out = [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)];
    assert_eq!(io::preadv(fd, &mut out, 99).unwrap(), 9);
    assert_eq!(&a, b"\0abcd");
    assert_eq!(&b[..4], b"efgh");
    assert_eq!(io::lseek(fd, 0, SEEK_CUR).unwrap(), 108);
}

#[test]
fn dup3_is_cloexec_and_shares_the_file() {
    let (r, w) = io::pipe(false).unwrap();
    // Duplicate onto a descriptor we own, so dup3 replaces nothing of anyone else's.
    let (spare_r, _spare_w) = io::pipe(false).unwrap();
    let target = spare_r.into_raw();
    // SAFETY: `target` came from into_raw above: we own it and hand it to dup3.
    let dup = unsafe { io::dup3(w.raw(), target) }.unwrap();
    assert_eq!(dup.raw(), target);
    assert!(has_cloexec(dup.raw()));
    io::write(dup.raw(), b"x").unwrap();
    let mut b = [0u8; 1];
    assert_eq!(io::read(r.raw(), &mut b).unwrap(), 1);
    // SAFETY: old == new fails with EINVAL before anything is closed.
    let same = unsafe { io::dup3(w.raw(), w.raw()) };
    assert_eq!(same.unwrap_err(), Errno::EINVAL);
    // Commands that take pointers are refused before any syscall.
    const F_GETLK: u32 = 5;
    assert_eq!(io::fcntl(r.raw(), F_GETLK, 0).unwrap_err(), Errno::EINVAL);
}

#[test]
fn fcntl_reports_nonblocking() {
    let (r, w) = io::pipe(true).unwrap();
    for fd in [r.raw(), w.raw()] {
        assert_ne!(io::fcntl(fd, F_GETFL, 0).unwrap() as u32 & O_NONBLOCK, 0);
        assert!(has_cloexec(fd));
    }
    let mut b = [0u8; 1];
    assert_eq!(io::read(r.raw(), &mut b), Err(Errno::EAGAIN));

    let (r, _w) = io::pipe(false).unwrap();
    let fl = io::fcntl(r.raw(), F_GETFL, 0).unwrap() as u32;
    assert_eq!(fl & O_NONBLOCK, 0);
    io::fcntl(r.raw(), F_SETFL, (fl | O_NONBLOCK) as usize).unwrap();
    assert_ne!(
        io::fcntl(r.raw(), F_GETFL, 0).unwrap() as u32 & O_NONBLOCK,
        0
    );
    assert_eq!(O_CLOEXEC, libc::O_CLOEXEC as u32);
}

#[test]
fn eventfd_counts() {
    let efd = eventfd::eventfd(0, eventfd::EFD_NONBLOCK).unwrap();
    assert!(has_cloexec(efd.raw()));
    assert_eq!(eventfd::eventfd_read(efd.raw()), Err(Errno::EAGAIN));
    eventfd::eventfd_write(efd.raw(), 3).unwrap();
    eventfd::eventfd_write(efd.raw(), 4).unwrap();
    assert_eq!(eventfd::eventfd_read(efd.raw()).unwrap(), 7);
    assert_eq!(eventfd::eventfd_read(efd.raw()), Err(Errno::EAGAIN));

    let sem = eventfd::eventfd(2, eventfd::EFD_NONBLOCK | eventfd::EFD_SEMAPHORE).unwrap();
    assert_eq!(eventfd::eventfd_read(sem.raw()).unwrap(), 1);
    assert_eq!(eventfd::eventfd_read(sem.raw()).unwrap(), 1);
    assert_eq!(eventfd::eventfd_read(sem.raw()), Err(Errno::EAGAIN));
}

#[test]
fn close_reports_errors_once() {
    let (r, w) = io::pipe(false).unwrap();
    // close() consumes the OwnedFd, so it cannot be closed twice; its result is reported.
    assert_eq!(r.close(), Ok(()));
    drop(w);
    // A descriptor number that cannot be open (above any RLIMIT_NOFILE) and a negative one.
    // SAFETY: neither number is an open descriptor anyone owns.
    assert_eq!(unsafe { close_raw(i32::MAX) }, Err(Errno::EBADF));
    // SAFETY: as above.
    assert_eq!(unsafe { close_raw(-1) }, Err(Errno::EBADF));
}

#[test]
fn constants_match_libc() {
    assert_eq!(F_GETFD, libc::F_GETFD as u32);
    assert_eq!(F_SETFD, libc::F_SETFD as u32);
    assert_eq!(F_GETFL, libc::F_GETFL as u32);
    assert_eq!(F_SETFL, libc::F_SETFL as u32);
    assert_eq!(F_DUPFD_CLOEXEC, libc::F_DUPFD_CLOEXEC as u32);
    assert_eq!(FD_CLOEXEC, libc::FD_CLOEXEC as usize);
    assert_eq!(O_NONBLOCK, libc::O_NONBLOCK as u32);
    assert_eq!(SEEK_CUR, libc::SEEK_CUR as u32);
    assert_eq!(SEEK_END, libc::SEEK_END as u32);
    assert_eq!(size_of::<io::IoVec>(), size_of::<libc::iovec>());
}
