//! Directory listing and trees: read_dir, remove_dir_all; links and names: hard_link,
//! symlink, read_link, canonicalize; set_permissions. Each checked against std's view of
//! the file system, on both reactors.

mod common;

use common::TempDir;
use coreloop_runtime::reactor_test;
use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

reactor_test! {
    async fn read_dir_lists_every_entry_with_its_type_and_no_dots() {
        let dir = TempDir::new("readdir");
        // Enough entries to take several getdents64 calls (16 KiB of records each).
        let mut expected = BTreeSet::new();
        for i in 0..700 {
            let name = format!("file-with-a-longish-name-{i:04}");
            std::fs::write(dir.join(&name), b"x").unwrap();
            expected.insert(name);
        }
        std::fs::create_dir(dir.join("sub")).unwrap();
        std::os::unix::fs::symlink("nowhere", dir.join("dangling")).unwrap();
        expected.insert("sub".into());
        expected.insert("dangling".into());

        let mut rd = coreloop_fs::read_dir(dir.path()).await.unwrap();
        let mut got = BTreeSet::new();
        while let Some(e) = rd.next_entry().await.unwrap() {
            let name = e.file_name().into_string().unwrap();
            assert_eq!(e.path(), dir.join(&name));
            assert_eq!(e.ino(), std::fs::symlink_metadata(e.path()).unwrap().ino());
            let t = e.file_type().await.unwrap();
            match name.as_str() {
                "sub" => assert!(t.is_dir()),
                "dangling" => assert!(t.is_symlink()),
                _ => assert!(t.is_file()),
            }
            assert!(got.insert(name), "an entry came twice");
        }
        assert_eq!(got, expected);
        assert!(rd.next_entry().await.unwrap().is_none(), "ended stays ended");

        let e = coreloop_fs::read_dir(dir.join("file-with-a-longish-name-0000")).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotADirectory);
        let e = coreloop_fs::read_dir(dir.join("missing")).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
    }
}

reactor_test! {
    async fn remove_dir_all_removes_a_tree_but_not_what_links_point_to() {
        let dir = TempDir::new("rmtree");
        let outside = dir.join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("keep"), b"keep me").unwrap();
        let tree = dir.join("tree");
        std::fs::create_dir_all(tree.join("a/b/c")).unwrap();
        std::fs::create_dir_all(tree.join("empty")).unwrap();
        for (i, p) in ["f", "a/f", "a/b/f", "a/b/c/f"].iter().enumerate() {
            std::fs::write(tree.join(p), vec![i as u8; 100]).unwrap();
        }
        std::os::unix::fs::symlink(&outside, tree.join("a/link-to-outside")).unwrap();

        coreloop_fs::remove_dir_all(&tree).await.unwrap();
        assert!(!tree.exists());
        assert_eq!(std::fs::read(outside.join("keep")).unwrap(), b"keep me");

        let e = coreloop_fs::remove_dir_all(&tree).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        let e = coreloop_fs::remove_dir_all(outside.join("keep")).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotADirectory);
    }
}

reactor_test! {
    async fn hard_link_and_symlink_make_names_std_agrees_with() {
        let dir = TempDir::new("links");
        let original = dir.join("original");
        std::fs::write(&original, b"contents").unwrap();

        let hard = dir.join("hard");
        coreloop_fs::hard_link(&original, &hard).await.unwrap();
        assert_eq!(std::fs::metadata(&hard).unwrap().ino(), std::fs::metadata(&original).unwrap().ino());
        assert_eq!(std::fs::metadata(&original).unwrap().nlink(), 2);
        let e = coreloop_fs::hard_link(&original, &hard).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists);

        let soft = dir.join("soft");
        coreloop_fs::symlink("original", &soft).await.unwrap();
        assert_eq!(std::fs::read_link(&soft).unwrap(), std::path::Path::new("original"));
        assert_eq!(coreloop_fs::read_link(&soft).await.unwrap(), std::path::Path::new("original"));
        assert_eq!(std::fs::read(&soft).unwrap(), b"contents");
        let e = coreloop_fs::symlink("x", &soft).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists);
        let e = coreloop_fs::read_link(&original).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "not a link: EINVAL");

        // A link longer than read_link's first try (256 bytes) is read whole.
        let long_target = "d/".repeat(600) + "end";
        let long = dir.join("long");
        coreloop_fs::symlink(&long_target, &long).await.unwrap();
        assert_eq!(coreloop_fs::read_link(&long).await.unwrap(), std::path::Path::new(&long_target));
    }
}

reactor_test! {
    async fn canonicalize_resolves_links_dots_and_relative_paths_as_std_does() {
        let dir = TempDir::new("canon");
        std::fs::create_dir_all(dir.join("real/inner")).unwrap();
        std::fs::write(dir.join("real/inner/file"), b"").unwrap();
        std::os::unix::fs::symlink("real", dir.join("via")).unwrap();
        let winding = dir.join("via/inner/../inner/./file");
        let ours = coreloop_fs::canonicalize(&winding).await.unwrap();
        assert_eq!(ours, std::fs::canonicalize(&winding).unwrap());
        assert!(ours.ends_with("real/inner/file"));
        assert_eq!(
            coreloop_fs::canonicalize(".").await.unwrap(),
            std::env::current_dir().unwrap().canonicalize().unwrap()
        );
        let e = coreloop_fs::canonicalize(dir.join("via/missing")).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
    }
}

reactor_test! {
    async fn set_permissions_sets_the_mode_bits() {
        let dir = TempDir::new("chmod");
        let f = dir.join("f");
        std::fs::write(&f, b"").unwrap();
        for mode in [0o600, 0o640, 0o755, 0o4711] {
            coreloop_fs::set_permissions(&f, coreloop_fs::Permissions::from_mode(mode)).await.unwrap();
            assert_eq!(std::fs::metadata(&f).unwrap().permissions().mode() & 0o7777, mode);
            let ours = coreloop_fs::metadata(&f).await.unwrap().permissions();
            assert_eq!(ours.mode(), mode);
        }
        let mut p = coreloop_fs::Permissions::from_mode(0o664);
        p.set_readonly(true);
        assert_eq!(p.mode(), 0o444);
        assert!(p.readonly());
        let e = coreloop_fs::set_permissions(dir.join("missing"), p).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
    }
}

reactor_test! {
    async fn read_dir_is_a_stream_too() {
        use std::future::poll_fn;
        use std::pin::Pin;
        let dir = TempDir::new("readdir-stream");
        for i in 0..50 {
            std::fs::write(dir.join(&format!("f{i}")), b"").unwrap();
        }
        let mut rd = coreloop_fs::read_dir(dir.path()).await.unwrap();
        let mut n = 0;
        while let Some(entry) =
            poll_fn(|cx| futures_core::Stream::poll_next(Pin::new(&mut rd), cx)).await
        {
            assert!(entry.unwrap().file_name().to_string_lossy().starts_with('f'));
            n += 1;
        }
        assert_eq!(n, 50);
    }
}
