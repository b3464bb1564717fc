//! Memory per connection is a goal (issue 12: at most 1 KiB per idle connection): the parts a
//! connection's task is made of stay within a budget, so a change that makes them grow shows
//! here, not only in a benchmark.

use coreloop::io::AsyncWriteRentExt;
use coreloop::net::{TcpListener, TcpStream};
use coreloop_examples_support::{echo_conn, shutdown::Shutdown};
use std::mem::size_of_val;
use std::sync::Arc;

#[coreloop::test]
async fn a_connection_and_its_echo_task_stay_small() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
    let stream = size_of_val(&c);
    let read = size_of_val(&c.read_pooled());
    let write_all = size_of_val(&c.write_all(vec![1u8]));
    let (s, _) = l.accept().await.unwrap();
    let echo = size_of_val(&echo_conn::echo(s, Arc::new(Shutdown::new())));
    eprintln!(
        "TcpStream {stream} B, read_pooled {read} B, write_all {write_all} B, echo task {echo} B"
    );
    assert!(stream <= 96, "TcpStream is {stream} bytes");
    assert!(read <= 16, "a pooled read's future is {read} bytes");
    assert!(echo <= 640, "the echo connection's future is {echo} bytes");
}
