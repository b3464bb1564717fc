//! `try_exists` on both reactors: a file and a directory exist, a missing path and a path
//! through a regular file do not, a dangling symlink does not; a path with a NUL byte is invalid input.

mod common;

use common::TempDir;
use coreloop_fs::try_exists;
use coreloop_runtime::reactor_test;

reactor_test! {
    async fn try_exists_tells_yes_from_no() {
        let dir = TempDir::new("exists");
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        assert!(try_exists(&file).await.unwrap());
        assert!(try_exists(dir.path()).await.unwrap());
        assert!(!try_exists(dir.path().join("missing")).await.unwrap());
        assert!(!try_exists(file.join("below-a-file")).await.unwrap());
        let link = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &link).unwrap();
        assert!(!try_exists(&link).await.unwrap());
        let nul = try_exists("a\0b").await.unwrap_err();
        assert_eq!(nul.kind(), std::io::ErrorKind::InvalidInput);
    }
}
