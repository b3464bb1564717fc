//! The echo server's connection: every byte read is written back. A peer that half-closes
//! gets everything it sent, then our FIN; a reset or any error ends this connection only;
//! once shutdown is signalled, the connection closes when it is next idle.

use crate::shutdown::{Either, Shutdown, select};
use coreloop::io::AsyncWriteRentExt;
use coreloop::net::TcpStream;
use std::sync::Arc;

/// Echoes everything `stream` sends until the peer closes, an error, or shutdown (when idle).
/// Takes the stream and the signal by value, so a connection's task is this one future (no
/// wrapper keeping a second copy of the stream).
///
/// Reads go through the core's buffer pool (`read_pooled`): an idle connection holds no read
/// buffer, and each buffer is written back as it came, then returns to the pool. A read given up
/// for shutdown loses nothing (pooled reads are cancel-safe), though nothing reads after it.
pub async fn echo(mut stream: TcpStream, shutdown: Arc<Shutdown>) {
    let _ = stream.set_nodelay(true);
    let mut stop = std::pin::pin!(shutdown.wait());
    loop {
        let res = match select(stream.read_pooled(), stop.as_mut()).await {
            Either::Left(r) => r,
            Either::Right(()) => return,
        };
        let buf = match res {
            Ok(buf) if buf.is_empty() => {
                // The peer half-closed: all it sent is back, so close our half too.
                let _ = stream.shutdown(std::net::Shutdown::Write).await;
                return;
            }
            Ok(buf) => buf,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        if stream.write_all(buf).await.0.is_err() {
            return;
        }
    }
}
