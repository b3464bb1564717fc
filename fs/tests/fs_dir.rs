//! Path functions: rename, remove, create_dir(_all), read, write, copy.

mod common;

use common::{TempDir, pattern};
use coreloop_runtime::reactor_test;
use std::io::ErrorKind;

reactor_test! {
    async fn write_read_rename_remove_round_trip() {
        let dir = TempDir::new("paths");
        let a = dir.join("a");
        let b = dir.join("b");
        let data = pattern(300_000, 3);
        coreloop_fs::write(&a, data.clone()).await.unwrap();
        assert_eq!(coreloop_fs::read(&a).await.unwrap(), data);
        // write replaces, shorter.
        coreloop_fs::write(&a, b"short".as_slice()).await.unwrap();
        assert_eq!(coreloop_fs::read(&a).await.unwrap(), b"short");
        coreloop_fs::write(&b, Vec::new()).await.unwrap();
        assert_eq!(coreloop_fs::read(&b).await.unwrap(), b"");
        coreloop_fs::rename(&a, &b).await.unwrap();
        assert!(!a.exists());
        assert_eq!(std::fs::read(&b).unwrap(), b"short");
        assert_eq!(coreloop_fs::rename(&a, &b).await.unwrap_err().kind(), ErrorKind::NotFound);
        coreloop_fs::remove_file(&b).await.unwrap();
        assert!(!b.exists());
        assert_eq!(coreloop_fs::remove_file(&b).await.unwrap_err().kind(), ErrorKind::NotFound);
        // A file whose statx size is 0 but that has contents.
        let status = coreloop_fs::read("/proc/self/status").await.unwrap();
        assert!(status.starts_with(b"Name:"));
    }
}

reactor_test! {
    async fn create_dir_all_and_remove_dir() {
        let dir = TempDir::new("dirs");
        let deep = dir.join("x/y/z");
        coreloop_fs::create_dir_all(&deep).await.unwrap();
        assert!(deep.is_dir());
        // Again: everything exists, fine.
        coreloop_fs::create_dir_all(&deep).await.unwrap();
        coreloop_fs::create_dir_all(dir.join("x/y/z/")).await.unwrap();
        assert_eq!(
            coreloop_fs::create_dir(&deep).await.unwrap_err().kind(),
            ErrorKind::AlreadyExists
        );
        // A file in the way is an error.
        std::fs::write(dir.join("file"), b"").unwrap();
        assert!(coreloop_fs::create_dir_all(dir.join("file/sub")).await.is_err());
        assert_eq!(
            coreloop_fs::create_dir_all(dir.join("file")).await.unwrap_err().kind(),
            ErrorKind::AlreadyExists
        );
        // remove_dir: only empty directories.
        assert_eq!(
            coreloop_fs::remove_dir(dir.join("x")).await.unwrap_err().kind(),
            ErrorKind::DirectoryNotEmpty
        );
        coreloop_fs::remove_dir(&deep).await.unwrap();
        coreloop_fs::remove_dir(dir.join("x/y")).await.unwrap();
        coreloop_fs::remove_dir(dir.join("x")).await.unwrap();
        assert!(!dir.join("x").exists());
        coreloop_fs::create_dir(dir.join("single")).await.unwrap();
        assert!(dir.join("single").is_dir());
    }
}

reactor_test! {
    async fn copy_copies_bytes_and_permissions() {
        let dir = TempDir::new("copy");
        let from = dir.join("from");
        let to = dir.join("to");
        let data = pattern(1_000_003, 9);
        std::fs::write(&from, &data).unwrap();
        std::fs::set_permissions(&from, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        assert_eq!(coreloop_fs::copy(&from, &to).await.unwrap(), data.len() as u64);
        assert!(std::fs::read(&to).unwrap() == data);
        let m = coreloop_fs::metadata(&to).await.unwrap();
        assert_eq!(m.permissions().mode(), 0o600);
        // Over a longer file: cut to the new length.
        std::fs::write(&to, vec![1u8; 2_000_000]).unwrap();
        std::fs::write(&from, b"tiny").unwrap();
        assert_eq!(coreloop_fs::copy(&from, &to).await.unwrap(), 4);
        assert_eq!(std::fs::read(&to).unwrap(), b"tiny");
        let err = coreloop_fs::copy(dir.join("missing"), &to).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    }
}
