//! Issue 10, minor: `fs::read` of a huge sparse file returns an error (the buffer cannot be
//! had), not an abort on allocation. Runs in a child process: on main the allocation failure
//! aborts the whole test binary.

use coreloop_runtime::ReactorKind;
use std::time::Duration;

async fn read_huge_sparse() {
    let dir = std::env::temp_dir().join(format!("coreloop-sound-read-huge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sparse");
    let f = std::fs::File::create(&path).unwrap();
    // The largest sparse size the filesystem allows, from 2^60 down.
    let mut size = 0;
    for shift in (40..=60).rev() {
        if f.set_len(1u64 << shift).is_ok() {
            size = 1u64 << shift;
            break;
        }
    }
    drop(f);
    assert!(
        size > 0,
        "no sparse file size of 2^40 or more is allowed here"
    );
    let r = coreloop_runtime::time::timeout(Duration::from_secs(5), coreloop_fs::read(&path)).await;
    let _ = std::fs::remove_dir_all(&dir);
    match r {
        Ok(Err(e)) => eprintln!("read of a {size}-byte sparse file failed cleanly: {e}"),
        Ok(Ok(v)) => panic!("read of a {size}-byte sparse file gave {} bytes", v.len()),
        Err(_) => panic!("read of a {size}-byte sparse file ran for 5 s"),
    }
}

#[test]
fn read_of_a_huge_sparse_file_is_an_error_uring() {
    if coreloop_runtime::testing::in_child(
        "read_of_a_huge_sparse_file_is_an_error_uring",
        "CORELOOP_SOUND_READ_HUGE",
        Duration::from_secs(30),
    ) {
        if !coreloop_runtime::testing::should_run(
            coreloop_runtime::ReactorKind::Uring,
            module_path!(),
        ) {
            return;
        }
        coreloop_runtime::testing::run(ReactorKind::Uring, read_huge_sparse());
    }
}

#[test]
fn read_of_a_huge_sparse_file_is_an_error_epoll() {
    if coreloop_runtime::testing::in_child(
        "read_of_a_huge_sparse_file_is_an_error_epoll",
        "CORELOOP_SOUND_READ_HUGE",
        Duration::from_secs(30),
    ) {
        coreloop_runtime::testing::run(ReactorKind::Epoll, read_huge_sparse());
    }
}
