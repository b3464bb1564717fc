//! The echo server's connection: every byte read is written back. A peer that half-closes
//! gets everything it sent, then our FIN; a reset or any error ends this connection only;
//! once shutdown is signalled, the connection closes when it is next idle.

use crate::shutdown::{Either, Shutdown, select};
use coreloop::io::AsyncWriteRentExt;
use coreloop::net::TcpStream;

/// How much one read may take.
const BUF: usize = 64 * 1024;

/// Echoes everything `stream` sends until the peer closes, an error, or shutdown (when idle).
pub async fn echo(mut stream: TcpStream, shutdown: &Shutdown) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(BUF);
    let mut stop = std::pin::pin!(shutdown.wait());
    loop {
        buf.clear();
        let (res, back) = match select(stream.read(buf), stop.as_mut()).await {
            Either::Left(r) => r,
            Either::Right(()) => return,
        };
        buf = back;
        match res {
            Ok(0) => {
                // The peer half-closed: all it sent is back, so close our half too.
                let _ = stream.shutdown(std::net::Shutdown::Write).await;
                return;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        }
        let (res, back) = stream.write_all(buf).await;
        buf = back;
        if res.is_err() {
            return;
        }
    }
}
