//! Step 1: the smallest useful coreloop server, the README's echo server.
//!
//! A runtime of two cores; every core runs the same async function with its own
//! `SO_REUSEPORT` listener on the same port, so the kernel spreads connections over the
//! cores and each connection stays on the core that accepted it. Tasks are spawned on the
//! current core and need not be `Send`. `rt.run` returns when every core's function has
//! returned, with one result per core: here a core stops only on an error, which is printed.
//!
//! ```text
//! cargo run --example echo_minimal        # then: cargo run --example echo_client
//! ```

use coreloop::io::AsyncWriteRentExt;
use coreloop::net::TcpListener;
use coreloop::{CoreInfo, Runtime};
use std::io;

fn main() -> io::Result<()> {
    // Reactor `auto` (io_uring, else epoll); CORELOOP_REACTOR=uring|epoll overrides it.
    let rt = Runtime::builder().cores(2).build()?;
    println!("echo on 127.0.0.1:8080, reactor {}", rt.reactor());
    let results = rt.run(serve)?;
    let mut failed = false;
    for (core, res) in results.into_iter().enumerate() {
        if let Err(e) = res {
            eprintln!("core {core}: {e}");
            failed = true;
        }
    }
    if failed {
        std::process::exit(1);
    }
    Ok(())
}

/// One core's server: accept, and echo each connection in a task of its own.
async fn serve(core: CoreInfo) -> io::Result<()> {
    let listener = TcpListener::builder("127.0.0.1:8080")
        .reuse_port(true)
        .listen()?;
    loop {
        let (mut stream, peer) = listener.accept().await?;
        println!("core {}: connection from {peer}", core.index);
        coreloop::spawn(async move {
            // Buffers are owned and passed to the kernel, then handed back with the result
            // (io_uring reads into them after the call returns).
            let mut buf = Vec::with_capacity(4096);
            loop {
                let (res, b) = stream.read(buf).await;
                match res {
                    Ok(n) if n > 0 => {}
                    _ => break,
                }
                let (res, mut b) = stream.write_all(b).await;
                if res.is_err() {
                    break;
                }
                b.clear();
                buf = b;
            }
        });
    }
}
