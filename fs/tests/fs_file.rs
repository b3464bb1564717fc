//! File I/O: positional round trips, concurrency, the cursor, append mode, sizing, sync, close.

mod common;

use common::{TempDir, pattern};
use coreloop_fs::{File, OpenOptions};
use coreloop_runtime::io::{AsyncReadRentExt, AsyncWriteRentExt};
use coreloop_runtime::{reactor_test, spawn};
use std::rc::Rc;

reactor_test! {
    async fn write_all_at_read_exact_at_round_trip() {
        let dir = TempDir::new("round-trip");
        for (i, size) in [1usize, 4096, 64 << 20].into_iter().enumerate() {
            let path = dir.join(&format!("f{size}"));
            let data = pattern(size, i as u8);
            let f = File::create(&path).await.unwrap();
            let (res, data) = f.write_all_at(data, 0).await;
            res.unwrap();
            f.close().await.unwrap();

            let f = File::open(&path).await.unwrap();
            let (res, back) = f.read_exact_at(Vec::with_capacity(size), 0).await;
            res.unwrap();
            assert!(back == data, "{size} bytes did not come back intact");
            // Reading past the end is UnexpectedEof, with what there was kept.
            let (res, part) = f.read_exact_at(Vec::with_capacity(2), size as u64 - 1).await;
            assert_eq!(res.unwrap_err().kind(), std::io::ErrorKind::UnexpectedEof);
            assert_eq!(part, &data[size - 1..]);
            f.close().await.unwrap();
            assert!(std::fs::read(&path).unwrap() == data);
        }
    }
}

reactor_test! {
    async fn thousand_concurrent_read_at_on_one_file() {
        const TASKS: usize = 1000;
        const LEN: usize = 512;
        let dir = TempDir::new("concurrent");
        let path = dir.join("f");
        let data = pattern(TASKS * LEN, 7);
        std::fs::write(&path, &data).unwrap();
        let data = Rc::new(data);
        let file = Rc::new(File::open(&path).await.unwrap());
        let handles: Vec<_> = (0..TASKS)
            .map(|i| {
                let (file, data) = (file.clone(), data.clone());
                // Spread the reads over the file, out of order.
                let at = (i * 379) % TASKS * LEN;
                spawn(async move {
                    let (res, buf) = file.read_at(Vec::with_capacity(LEN), at as u64).await;
                    assert_eq!(res.unwrap(), LEN);
                    assert_eq!(buf, &data[at..at + LEN], "read at {at}");
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    }
}

reactor_test! {
    async fn readv_at_and_writev_at() {
        let dir = TempDir::new("vectored");
        let path = dir.join("f");
        let f = OpenOptions::new().read(true).write(true).create(true).open(&path).await.unwrap();
        let bufs = vec![b"hello ".to_vec(), b"vectored ".to_vec(), b"world".to_vec()];
        let (res, _) = f.writev_at(bufs, 3).await;
        assert_eq!(res.unwrap(), 20);
        let bufs = vec![Vec::with_capacity(5), Vec::with_capacity(100)];
        let (res, bufs) = f.readv_at(bufs, 3).await;
        assert_eq!(res.unwrap(), 20);
        assert_eq!(bufs[0], b"hello");
        assert_eq!(bufs[1], b" vectored world");
        assert_eq!(std::fs::read(&path).unwrap(), b"\0\0\0hello vectored world");
    }
}

reactor_test! {
    async fn sequential_read_and_write_move_the_cursor() {
        let dir = TempDir::new("cursor");
        let path = dir.join("f");
        let mut f = OpenOptions::new().read(true).write(true).create(true).open(&path).await.unwrap();
        let (res, _) = f.write(b"hello".as_slice()).await;
        assert_eq!(res.unwrap(), 5);
        let (res, _) = f.write_all(b", world".as_slice()).await;
        res.unwrap();
        assert_eq!(f.position(), 12);
        // At the end: nothing to read.
        let (res, _) = f.read(Vec::with_capacity(4)).await;
        assert_eq!(res.unwrap(), 0);
        f.set_position(0);
        let (res, a) = f.read(Vec::with_capacity(4)).await;
        assert_eq!(res.unwrap(), 4);
        assert_eq!(a, b"hell");
        let (res, b) = f.read_exact(Vec::with_capacity(8)).await;
        res.unwrap();
        assert_eq!(b, b"o, world");
        assert_eq!(f.position(), 12);
        let (res, _) = f.read_exact(Vec::with_capacity(1)).await;
        assert_eq!(res.unwrap_err().kind(), std::io::ErrorKind::UnexpectedEof);
        // The kernel's own offset was never used.
        let off = coreloop_runtime::sys::io::lseek(
            std::os::fd::AsRawFd::as_raw_fd(&f),
            0,
            coreloop_runtime::sys::io::whence::SEEK_CUR,
        )
        .unwrap();
        assert_eq!(off, 0);
    }
}

reactor_test! {
    async fn append_mode_writes_at_the_end() {
        let dir = TempDir::new("append");
        let path = dir.join("f");
        std::fs::write(&path, b"abc").unwrap();
        let mut f = OpenOptions::new().append(true).open(&path).await.unwrap();
        let (res, _) = f.write_all(b"def".as_slice()).await;
        res.unwrap();
        let (res, _) = f.write(b"gh".as_slice()).await;
        assert_eq!(res.unwrap(), 2);
        // Even a positional write lands at the end (O_APPEND, as with pwrite on Linux).
        let (res, _) = f.write_at(b"i".as_slice(), 0).await;
        assert_eq!(res.unwrap(), 1);
        f.close().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"abcdefghi");
        // Append with create makes the file.
        let new = dir.join("new");
        let mut f = OpenOptions::new().append(true).create(true).open(&new).await.unwrap();
        f.write_all(b"x".as_slice()).await.0.unwrap();
        assert_eq!(std::fs::read(&new).unwrap(), b"x");
    }
}

reactor_test! {
    async fn set_len_allocate_and_sync() {
        let dir = TempDir::new("sizing");
        let path = dir.join("f");
        let f = OpenOptions::new().read(true).write(true).create(true).open(&path).await.unwrap();
        f.write_all_at(b"0123456789".as_slice(), 0).await.0.unwrap();
        f.set_len(4).await.unwrap();
        assert_eq!(f.metadata().await.unwrap().len(), 4);
        f.set_len(100).await.unwrap();
        assert_eq!(f.metadata().await.unwrap().len(), 100);
        let (res, back) = f.read_exact_at(Vec::with_capacity(100), 0).await;
        res.unwrap();
        assert_eq!(&back[..4], b"0123");
        assert!(back[4..].iter().all(|&b| b == 0));
        match f.allocate(0, 1 << 20).await {
            Ok(()) => assert_eq!(f.metadata().await.unwrap().len(), 1 << 20),
            // tmpfs and friends may not preallocate.
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::Unsupported, "{e}"),
        }
        f.sync_all().await.unwrap();
        f.sync_data().await.unwrap();
        f.close().await.unwrap();
    }
}

reactor_test! {
    async fn close_returns_ok_and_releases_the_fd() {
        let dir = TempDir::new("close");
        let f = File::create(dir.join("f")).await.unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&f);
        f.close().await.unwrap();
        let err = coreloop_runtime::sys::io::fcntl(fd, coreloop_runtime::sys::io::fcntl_cmd::F_GETFD, 0);
        // The number may have been reused by a concurrent test, but not by an fd we still own.
        if let Err(e) = err {
            assert_eq!(e, coreloop_runtime::sys::Errno::EBADF);
        }
    }
}
