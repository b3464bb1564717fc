//! Helpers shared by the net tests: patterned data, an echo server, an echo check, and the
//! re-exec pattern for checks that need a process of their own.
#![allow(dead_code)]

use coreloop_net::{TcpStream, UnixStream};
use coreloop_runtime::buf::{IoBuf, IoBufMut};
use coreloop_runtime::io::{
    AsyncReadRent, AsyncReadRentExt, AsyncWriteRent, AsyncWriteRentExt, BufResult,
};
use coreloop_runtime::spawn;
use std::io;
use std::net::Shutdown;
use std::rc::Rc;

pub use coreloop_runtime::testing::pattern;

/// A stream usable from two tasks at once (its ops take `&self`).
pub trait Conn: 'static {
    fn rd<B: IoBufMut>(&self, buf: B) -> impl Future<Output = BufResult<usize, B>>;
    fn wr<B: IoBuf>(&self, buf: B) -> impl Future<Output = BufResult<usize, B>>;
    fn shut(&self, how: Shutdown) -> impl Future<Output = io::Result<()>>;
}

impl Conn for TcpStream {
    fn rd<B: IoBufMut>(&self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        self.read(buf)
    }
    fn wr<B: IoBuf>(&self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        self.write(buf)
    }
    fn shut(&self, how: Shutdown) -> impl Future<Output = io::Result<()>> {
        self.shutdown(how)
    }
}

impl Conn for UnixStream {
    fn rd<B: IoBufMut>(&self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        self.read(buf)
    }
    fn wr<B: IoBuf>(&self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        self.write(buf)
    }
    fn shut(&self, how: Shutdown) -> impl Future<Output = io::Result<()>> {
        self.shutdown(how)
    }
}

/// A shared handle whose reads and writes go through the runtime's shared loops.
pub struct Shared<T>(pub Rc<T>);

impl<T: Conn> AsyncReadRent for Shared<T> {
    fn read<B: IoBufMut>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        self.0.rd(buf)
    }
}

impl<T: Conn> AsyncWriteRent for Shared<T> {
    fn write<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        self.0.wr(buf)
    }
}

/// Echoes everything until end of stream, then shuts down its writing side.
pub async fn serve_echo<T: Conn>(conn: T) -> io::Result<u64> {
    let mut s = Shared(Rc::new(conn));
    let mut total = 0u64;
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        buf.clear();
        let (res, b) = s.read(buf).await;
        let n = res?;
        if n == 0 {
            s.0.shut(Shutdown::Write).await?;
            return Ok(total);
        }
        total += n as u64;
        let (res, b) = s.write_all(b).await;
        res?;
        buf = b;
    }
}

/// Sends `n` patterned bytes from one task while another reads the echo; checks the echo is
/// byte-identical and is followed by end of stream.
pub async fn check_echo<T: Conn>(conn: T, n: usize) {
    let conn = Rc::new(conn);
    let mut w = Shared(conn.clone());
    let writer = spawn(async move {
        let (res, _) = w.write_all(pattern(n, 0)).await;
        res.unwrap();
        w.0.shut(Shutdown::Write).await.unwrap();
    });
    let mut r = Shared(conn);
    let (res, got) = r.read_exact(Vec::with_capacity(n)).await;
    res.unwrap();
    assert!(got == pattern(n, 0), "echo of {n} bytes differs");
    let (res, _) = r.read(Vec::with_capacity(16)).await;
    assert_eq!(res.unwrap(), 0, "end of stream after the echo");
    writer.await.unwrap();
}

/// Runs test `name` of this binary again in a child process with `var` set (see
/// `coreloop_runtime::testing::in_child`); returns true in the child.
pub fn in_child(name: &str, var: &str) -> bool {
    coreloop_runtime::testing::in_child(name, var, std::time::Duration::from_secs(120))
}
