//! Ops straight through `Op`, on a socketpair and a pipe, on both reactors: every stream op
//! moves the right bytes, and a large transfer between two tasks arrives intact.

use coreloop_runtime::buf::IoBuf;
use coreloop_runtime::io::{
    AsyncReadRent, AsyncReadRentExt, AsyncWriteRent, AsyncWriteRentExt, BufResult,
};
use coreloop_runtime::op::{
    Position, SharedFd, read::Read, readv::Readv, write::Write, writev::Writev,
};
use coreloop_runtime::reactor::Op;
use coreloop_runtime::sys::io::pipe;
use coreloop_runtime::sys::socket::{AF_UNIX, SOCK_STREAM, socketpair};
use coreloop_runtime::testing::pattern;
use coreloop_runtime::{reactor_test, spawn};
use std::os::fd::RawFd;

/// The smallest stream: a raw fd driven by `Read` and `Write` ops.
struct Stream(SharedFd);

impl AsyncReadRent for Stream {
    async fn read<B: coreloop_runtime::buf::IoBufMut>(&mut self, buf: B) -> BufResult<usize, B> {
        Op::new(Read::new(&self.0, buf, Position::Stream)).await
    }
}

impl AsyncWriteRent for Stream {
    async fn write<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        Op::new(Write::new(&self.0, buf, Position::Stream)).await
    }
}

/// Writes all of `data` with plain syscalls, as a fault plan may shorten or interrupt any one.
fn put(fd: RawFd, mut data: &[u8]) {
    while !data.is_empty() {
        match coreloop_runtime::sys::io::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(coreloop_runtime::sys::Errno::EAGAIN) => std::thread::yield_now(),
            Err(e) => panic!("write: {e}"),
        }
    }
}

reactor_test! {
    async fn socketpair_echo_through_op() {
        let (a, b) = socketpair(AF_UNIX, SOCK_STREAM, 0).unwrap();
        let (fa, fb) = (SharedFd::new(a), SharedFd::new(b));
        // An echo task on one end.
        let echo = spawn(async move {
            let mut s = Stream(fb);
            let mut total = 0;
            loop {
                let (res, buf) = s.read(Vec::with_capacity(8192)).await;
                let n = res.unwrap();
                if n == 0 {
                    return total;
                }
                total += n;
                let (res, _) = s.write_all(buf).await;
                res.unwrap();
            }
        });
        // A writer task and this task reading back, concurrently: 1 MiB.
        let data = pattern(1 << 20, 0);
        let expected = data.clone();
        let wa = fa.clone();
        let writer = spawn(async move {
            let (res, _) = Stream(wa).write_all(data).await;
            res.unwrap();
        });
        let (res, got) = Stream(fa.clone()).read_exact(Vec::with_capacity(1 << 20)).await;
        res.unwrap();
        writer.await.unwrap();
        assert!(got == expected, "the echoed bytes differ");
        coreloop_runtime::sys::socket::shutdown(fa.raw(), coreloop_runtime::sys::socket::SHUT_WR).unwrap();
        assert_eq!(echo.await.unwrap(), 1 << 20);
    }
}

reactor_test! {
    async fn readv_and_writev_move_the_right_bytes() {
        let _exact = coreloop_runtime::testing::exact();
        let (r, w) = pipe(true).unwrap();
        let bufs = vec![b"abc".to_vec(), b"".to_vec(), b"defgh".to_vec()];
        let (r, w) = (SharedFd::new(r), SharedFd::new(w));
        let (res, bufs) = Op::new(Writev::new(&w, bufs, Position::Stream)).await;
        assert_eq!(res.unwrap(), 8);
        assert_eq!(bufs.len(), 3, "the buffers come back");
        let dst = vec![Vec::with_capacity(2), Vec::with_capacity(4), Vec::with_capacity(16)];
        let (res, dst) = Op::new(Readv::new(&r, dst, Position::Stream)).await;
        assert_eq!(res.unwrap(), 8);
        assert_eq!(dst[0], b"ab");
        assert_eq!(dst[1], b"cdef");
        assert_eq!(dst[2], b"gh");
    }
}

reactor_test! {
    async fn a_read_appends_and_a_slice_reads_into_its_range() {
        let _exact = coreloop_runtime::testing::exact();
        let (r, w) = pipe(true).unwrap();
        put(w.raw(), b"xyz");
        let mut buf = Vec::with_capacity(8);
        buf.extend_from_slice(b"12");
        let r = SharedFd::new(r);
        let (res, buf) = Op::new(Read::new(&r, buf, Position::Stream)).await;
        assert_eq!(res.unwrap(), 3);
        assert_eq!(buf, b"12xyz", "a read appends after the initialized bytes");
        put(w.raw(), b"Q");
        let (res, slice) = Op::new(Read::new(&r, buf.slice(5..6), Position::Stream)).await;
        assert_eq!(res.unwrap(), 1);
        assert_eq!(slice.into_inner(), b"12xyzQ");
    }
}

reactor_test! {
    async fn read_exact_reports_a_short_stream() {
        let (r, w) = pipe(true).unwrap();
        put(w.raw(), b"half");
        drop(w);
        let (res, buf) = Stream(SharedFd::new(r)).read_exact(Vec::with_capacity(8)).await;
        let err = res.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
        assert_eq!(buf, b"half", "what was read is kept");
    }
}
