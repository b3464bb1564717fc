//! Metadata from statx agrees with std's.

mod common;

use common::TempDir;
use coreloop_fs::{File, Metadata};
use coreloop_runtime::reactor_test;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

fn agree(ours: &Metadata, path: &Path) {
    let std = std::fs::metadata(path).unwrap();
    assert_eq!(ours.len(), std.len());
    assert_eq!(ours.is_dir(), std.is_dir());
    assert_eq!(ours.is_file(), std.is_file());
    assert_eq!(ours.mode(), std.mode());
    assert_eq!(ours.permissions().mode(), std.mode() & 0o7777);
    assert_eq!(ours.ino(), std.ino());
    assert_eq!(ours.dev(), std.dev());
    assert_eq!(ours.nlink(), std.nlink());
    assert_eq!(ours.uid(), std.uid());
    assert_eq!(ours.gid(), std.gid());
    assert_eq!(ours.blksize(), std.blksize());
    assert_eq!(ours.modified().unwrap(), std.modified().unwrap());
    assert_eq!(ours.accessed().unwrap(), std.accessed().unwrap());
    if let Ok(c) = std.created() {
        assert_eq!(ours.created().unwrap(), c);
    }
}

reactor_test! {
    async fn metadata_agrees_with_std() {
        let dir = TempDir::new("metadata");
        let path = dir.join("f");
        std::fs::write(&path, vec![7u8; 12345]).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o640))
            .unwrap();
        let m = coreloop_fs::metadata(&path).await.unwrap();
        agree(&m, &path);
        assert!(m.is_file() && !m.is_dir() && !m.is_symlink());
        assert_eq!(m.len(), 12345);
        assert_eq!(m.permissions().mode(), 0o640);
        assert!(!m.permissions().readonly());

        let f = File::open(&path).await.unwrap();
        agree(&f.metadata().await.unwrap(), &path);

        let m = coreloop_fs::metadata(dir.path()).await.unwrap();
        agree(&m, dir.path());
        assert!(m.is_dir() && !m.is_file());
    }
}

reactor_test! {
    async fn symlink_metadata_does_not_follow() {
        let dir = TempDir::new("symlink");
        let target = dir.join("target");
        let link = dir.join("link");
        std::fs::write(&target, b"abc").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let m = coreloop_fs::symlink_metadata(&link).await.unwrap();
        assert!(m.is_symlink() && !m.is_file());
        assert_eq!(m.ino(), std::fs::symlink_metadata(&link).unwrap().ino());
        let m = coreloop_fs::metadata(&link).await.unwrap();
        assert!(m.is_file());
        assert_eq!(m.len(), 3);
        let err = coreloop_fs::metadata(dir.join("missing")).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }
}
