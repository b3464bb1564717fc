use coreloop_runtime::buf::IoBuf;
use coreloop_runtime::op::{Op, Position, read::Read, write::Write};
use coreloop_runtime::sys::io::pipe;
use coreloop_runtime::{reactor_test, spawn, time};
use std::time::{Duration, Instant};

reactor_test! {
    async fn pipe_echo_through_op() {
        let (r, w) = pipe(true).unwrap();
        let reader = spawn(async move {
            let buf = Vec::with_capacity(64);
            let c = Op::new(Read::new(r.raw(), buf, Position::Stream)).await;
            let (res, buf) = c.data.finish(c.result);
            assert_eq!(res.unwrap(), 5);
            drop(r);
            buf
        });
        time::sleep(Duration::from_millis(5)).await;
        let c = Op::new(Write::new(w.raw(), b"hello".as_slice(), Position::Stream)).await;
        let (res, b) = c.data.finish(c.result);
        assert_eq!(res.unwrap(), 5);
        assert_eq!(b.bytes_init(), 5);
        assert_eq!(reader.await.unwrap(), b"hello");
    }
}

reactor_test! {
    async fn sleep_is_never_early() {
        let t = Instant::now();
        time::sleep(Duration::from_millis(20)).await;
        assert!(t.elapsed() >= Duration::from_millis(20));
    }
}
