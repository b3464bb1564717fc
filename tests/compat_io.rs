//! The compat adapter (`coreloop_compat::Compat`) through the tokio-io and futures-io traits,
//! on both reactors: bytes arrive whole and in order whatever buffers the caller lends, a
//! caller may poll and drop, write errors surface on flush, shutdown after a peer reset is
//! Ok, and under injected faults (EINTR, EAGAIN, short counts) no byte is lost or repeated.

use coreloop::net::{TcpListener, TcpStream, UnixStream};
use coreloop::reactor_test;
use coreloop_compat::Compat;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// `len` bytes that tell their own offset apart (a lost, repeated or reordered run shows).
fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1])
        .collect()
}

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) =
        futures_util::future::join(TcpStream::connect(addr), listener.accept()).await;
    (client.unwrap(), accepted.unwrap().0)
}

/// Polls `fut` once: its output if ready.
async fn poll_once<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    poll_fn(|cx| {
        Poll::Ready(match fut.as_mut().poll(cx) {
            Poll::Ready(v) => Some(v),
            Poll::Pending => None,
        })
    })
    .await
}

/// Sends `data` one way through two adapters: the writer in pieces of changing sizes, the
/// reader into buffers of changing sizes; the reader's copy must equal `data`.
async fn one_way(a: Compat<TcpStream>, b: Compat<TcpStream>, data: Vec<u8>) {
    let mut writer = a;
    let mut reader = b;
    let sent = data.clone();
    let write = async move {
        let sizes = [1, 7, 4096, 65_537, 300_000, 13];
        let (mut off, mut i) = (0, 0);
        while off < sent.len() {
            let end = (off + sizes[i % sizes.len()]).min(sent.len());
            writer.write_all(&sent[off..end]).await.unwrap();
            off = end;
            i += 1;
        }
        writer.shutdown().await.unwrap();
        writer
    };
    let read = async move {
        let sizes = [3, 100_000, 1, 8192, 17];
        let mut got = Vec::new();
        let mut i = 0;
        loop {
            let mut buf = vec![0u8; sizes[i % sizes.len()]];
            i += 1;
            let n = reader.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        got
    };
    let (_writer, got) = futures_util::future::join(write, read).await;
    assert_eq!(got.len(), data.len(), "byte count");
    assert!(got == data, "bytes differ");
}

reactor_test! {
    async fn tokio_io_round_trip_keeps_every_byte() {
        let (a, b) = tcp_pair().await;
        one_way(Compat::new(a), Compat::new(b), pattern(3 << 20)).await;
    }
}

reactor_test! {
    /// The fault plan on every I/O syscall of the core (EINTR, EAGAIN, short counts): the
    /// adapter's retries and short-write resubmission keep every byte, in order.
    async fn tokio_io_under_faults_keeps_every_byte() {
        #[cfg(feature = "fault-injection")]
        let (_plan, before) = {
            use coreloop::sys::fault::{Action, Plan, Rule, injected};
            use coreloop::sys::{Errno, nr};
            let io = [nr::READ, nr::WRITE, nr::SENDTO, nr::RECVFROM, nr::READV, nr::WRITEV];
            let plan = Plan::new(coreloop::sys::fault::seed_from_env())
                .rule(Rule::new(&io, Action::Fail(Errno::EINTR)).probability(0.15))
                .rule(Rule::new(&io, Action::Fail(Errno::EAGAIN)).probability(0.1))
                .rule(Rule::new(&io, Action::Short).probability(0.3))
                .rule(Rule::new(&[nr::IO_URING_ENTER, nr::EPOLL_PWAIT], Action::Fail(Errno::EINTR)).probability(0.25));
            (plan.install(), injected())
        };
        let (a, b) = tcp_pair().await;
        one_way(Compat::new(a), Compat::new(b), pattern(1 << 20)).await;
        #[cfg(feature = "fault-injection")]
        assert!(coreloop::sys::fault::injected() > before, "the plan injected no fault");
    }
}

reactor_test! {
    /// futures-io: `AsyncBufRead` lines over a Unix socket pair, then a split TCP stream's
    /// halves each wrapped on their own.
    async fn futures_io_buf_read_and_split_halves() {
        // Fully qualified: the tokio extension traits are in scope too.
        use futures_util::io::{AsyncBufReadExt, AsyncReadExt as FRead, AsyncWriteExt as FWrite};
        let (a, b) = UnixStream::pair().unwrap();
        let (mut a, mut b) = (Compat::new(a), Compat::new(b));
        FWrite::write_all(&mut a, b"first line\nsecond\nthird, no newline").await.unwrap();
        FWrite::close(&mut a).await.unwrap();
        let mut lines = Vec::new();
        let mut line = String::new();
        while b.read_line(&mut line).await.unwrap() > 0 {
            lines.push(std::mem::take(&mut line));
        }
        assert_eq!(lines, ["first line\n", "second\n", "third, no newline"]);

        let (c, d) = tcp_pair().await;
        let (read_half, write_half) = c.into_split();
        let (mut r, mut w) = (Compat::new(read_half), Compat::new(write_half));
        let mut d = Compat::new(d);
        FWrite::write_all(&mut w, b"to d").await.unwrap();
        FWrite::close(&mut w).await.unwrap();
        let mut got = Vec::new();
        FRead::read_to_end(&mut d, &mut got).await.unwrap();
        assert_eq!(got, b"to d");
        FWrite::write_all(&mut d, b"to c").await.unwrap();
        FWrite::close(&mut d).await.unwrap();
        got.clear();
        FRead::read_to_end(&mut r, &mut got).await.unwrap();
        assert_eq!(got, b"to c");
    }
}

reactor_test! {
    /// A caller that lends a different buffer on each poll, and one that polls a read and
    /// drops it: the read in flight stays in the adapter and its bytes go to the next poll.
    async fn buffer_changed_between_polls_and_poll_then_drop() {
        let (a, b) = tcp_pair().await;
        let mut a = Compat::new(a);
        let mut b = Compat::new(b);
        // A read with a 64-byte buffer: nothing has arrived, so it waits (op in flight).
        let mut big = [0u8; 64];
        let first = poll_fn(|cx| {
            let mut rb = ReadBuf::new(&mut big);
            Poll::Ready(Pin::new(&mut b).poll_read(cx, &mut rb).map_ok(|()| rb.filled().len()))
        })
        .await;
        assert!(first.is_pending(), "nothing was sent yet: {first:?}");
        // tokio's `read` future, polled once and dropped while waiting.
        let mut other = [0u8; 16];
        assert!(poll_once(b.read(&mut other)).await.is_none());

        a.write_all(b"hello, world").await.unwrap();
        a.flush().await.unwrap();
        // Now a 5-byte buffer: the first 5 bytes, then the rest, once each.
        let mut small = [0u8; 5];
        let n = b.read(&mut small).await.unwrap();
        assert_eq!(&small[..n], b"hello");
        let mut rest = [0u8; 32];
        let n = b.read(&mut rest).await.unwrap();
        assert_eq!(&rest[..n], b", world");
        a.shutdown().await.unwrap();
        assert_eq!(b.read(&mut rest).await.unwrap(), 0, "end of stream");
    }
}

reactor_test! {
    /// Writes accepted while the peer is not reading, a caller's write future dropped while
    /// the stage is full: what `poll_write` accepted arrives exactly once, after a flush.
    async fn write_poll_then_drop_keeps_accepted_bytes() {
        let (a, b) = tcp_pair().await;
        let mut a = Compat::new(a);
        let data = pattern(8 << 20);
        let mut accepted = 0;
        // Fill the socket buffers and the stage until a write waits.
        loop {
            match poll_once(a.write(&data[accepted..])).await {
                Some(n) => accepted += n.unwrap(),
                None => break,
            }
            assert!(accepted < data.len(), "8 MiB fit in the socket buffers and the stage");
        }
        let reader = async move {
            let mut b = Compat::new(b);
            let mut got = Vec::new();
            b.read_to_end(&mut got).await.unwrap();
            got
        };
        let writer = async move {
            a.write_all(&data[accepted..]).await.unwrap();
            a.shutdown().await.unwrap();
            data
        };
        let (got, data) = futures_util::future::join(reader, writer).await;
        assert_eq!(got.len(), data.len());
        assert!(got == data, "bytes differ");
    }
}

/// A connected pair whose second end has been reset by the first (linger 0, close), seen by
/// the second end's read as `ECONNRESET`.
async fn reset_pair() -> Compat<TcpStream> {
    let (a, b) = tcp_pair().await;
    a.set_linger(Some(Duration::ZERO)).unwrap();
    drop(a);
    let mut b = Compat::new(b);
    let mut buf = [0u8; 8];
    let err = b
        .read(&mut buf)
        .await
        .expect_err("a reset, not data or end of stream");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
    b
}

reactor_test! {
    /// tokio's rule: shutting down a stream whose peer reset it (`ENOTCONN`) is Ok.
    async fn shutdown_after_peer_reset_is_ok() {
        let mut b = reset_pair().await;
        poll_fn(|cx| Pin::new(&mut b).poll_shutdown(cx)).await.expect("shutdown after a reset");
    }
}

reactor_test! {
    /// A write accepted into the stage and then refused by the kernel surfaces on flush.
    async fn write_error_surfaces_on_flush() {
        let mut b = reset_pair().await;
        let n = poll_fn(|cx| Pin::new(&mut b).poll_write(cx, b"late")).await.expect("staged");
        assert_eq!(n, 4);
        let err = b.flush().await.expect_err("the peer is gone");
        assert!(
            matches!(err.kind(), io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset),
            "{err}"
        );
    }
}

reactor_test! {
    /// A file through the adapter: written with tokio's `write_all`, read back with
    /// `read_to_end`.
    async fn file_round_trip() {
        // A directory per reactor: the two cases run at once, and one removing a shared
        // directory between the other's create_dir_all and File::create made it fail.
        let dir = std::env::temp_dir().join(format!(
            "coreloop-compat-{}-{:?}",
            std::process::id(),
            coreloop::current_reactor()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("file");
        let data = pattern(200_000);
        let mut w = Compat::new(coreloop::fs::File::create(&path).await.unwrap());
        w.write_all(&data).await.unwrap();
        w.shutdown().await.unwrap();
        let mut r = Compat::new(coreloop::fs::File::open(&path).await.unwrap());
        let mut got = Vec::new();
        r.read_to_end(&mut got).await.unwrap();
        std::fs::remove_file(&path).unwrap();
        let _ = std::fs::remove_dir(&dir);
        assert!(got == data, "file bytes differ");
    }
}

/// The facade re-exports the adapter as `coreloop::compat` under its features (checked when
/// this file compiles with them, as `cargo test --all-features` does).
#[cfg(all(feature = "tokio-io", feature = "futures-io"))]
#[allow(dead_code)]
fn facade_reexports_the_adapter(c: coreloop::compat::Compat<TcpStream>) -> Compat<TcpStream> {
    c
}
