//! Opening: errors by kind, close-on-exec always, bad paths and options.

mod common;

use common::TempDir;
use coreloop_fs::{File, OpenOptions};
use coreloop_runtime::reactor_test;
use coreloop_runtime::sys::io::{fcntl, fcntl_cmd};
use std::io::ErrorKind;
use std::os::fd::AsRawFd;

fn assert_cloexec(f: &File) {
    let flags = fcntl(f.as_raw_fd(), fcntl_cmd::F_GETFD, 0).unwrap();
    assert_eq!(flags & fcntl_cmd::FD_CLOEXEC, fcntl_cmd::FD_CLOEXEC);
}

reactor_test! {
    async fn create_new_on_an_existing_file_is_already_exists() {
        let dir = TempDir::new("create-new");
        let path = dir.join("f");
        let f = OpenOptions::new().write(true).create_new(true).open(&path).await.unwrap();
        f.close().await.unwrap();
        let err = OpenOptions::new().write(true).create_new(true).open(&path).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    }
}

reactor_test! {
    async fn opening_a_missing_file_is_not_found() {
        let dir = TempDir::new("missing");
        let err = File::open(dir.join("nope")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(err.raw_os_error(), Some(2));
    }
}

reactor_test! {
    async fn every_fd_opened_is_close_on_exec() {
        let dir = TempDir::new("cloexec");
        let path = dir.join("f");
        assert_cloexec(&File::create(&path).await.unwrap());
        assert_cloexec(&File::open(&path).await.unwrap());
        assert_cloexec(&OpenOptions::new().append(true).open(&path).await.unwrap());
        assert_cloexec(
            &OpenOptions::new().read(true).write(true).custom_flags(0).open(&path).await.unwrap(),
        );
        // Custom flags cannot switch it off (there is no flag that does), nor change access.
        let f = OpenOptions::new()
            .read(true)
            .custom_flags(coreloop_runtime::sys::file::O_RDWR)
            .open(&path)
            .await
            .unwrap();
        assert_cloexec(&f);
        let (res, _) = f.write_at(b"x".as_slice(), 0).await;
        assert_eq!(res.unwrap_err().raw_os_error(), Some(9), "read-only stays read-only");
    }
}

reactor_test! {
    async fn interior_nul_is_invalid_input_everywhere() {
        let bad = "a\0b";
        let kinds = [
            File::open(bad).await.map(drop).unwrap_err().kind(),
            File::create(bad).await.map(drop).unwrap_err().kind(),
            coreloop_fs::metadata(bad).await.map(drop).unwrap_err().kind(),
            coreloop_fs::symlink_metadata(bad).await.map(drop).unwrap_err().kind(),
            coreloop_fs::remove_file(bad).await.unwrap_err().kind(),
            coreloop_fs::remove_dir(bad).await.unwrap_err().kind(),
            coreloop_fs::rename(bad, "x").await.unwrap_err().kind(),
            coreloop_fs::rename("x", bad).await.unwrap_err().kind(),
            coreloop_fs::create_dir(bad).await.unwrap_err().kind(),
            coreloop_fs::create_dir_all(bad).await.unwrap_err().kind(),
            coreloop_fs::read(bad).await.map(drop).unwrap_err().kind(),
            coreloop_fs::write(bad, b"x".as_slice()).await.unwrap_err().kind(),
            coreloop_fs::copy(bad, "x").await.map(drop).unwrap_err().kind(),
        ];
        for (i, k) in kinds.into_iter().enumerate() {
            assert_eq!(k, ErrorKind::InvalidInput, "call {i}");
        }
    }
}

reactor_test! {
    async fn meaningless_options_are_invalid_input() {
        let dir = TempDir::new("options");
        let path = dir.join("f");
        for o in [
            OpenOptions::new().clone(),
            OpenOptions::new().read(true).create(true).clone(),
            OpenOptions::new().read(true).truncate(true).clone(),
            OpenOptions::new().append(true).truncate(true).clone(),
        ] {
            assert_eq!(o.open(&path).await.unwrap_err().kind(), ErrorKind::InvalidInput, "{o:?}");
        }
        assert!(!path.exists());
    }
}
