//! Issue 10, minor: a `Box<[u8]>` read buffer (its whole length counts as initialized, so a
//! read appends into zero spare bytes) must not read `Ok(0)`, which looks like end of stream
//! while data is waiting. Either it is refused (`InvalidInput`) or it reads the data.

use coreloop_net::UnixStream;
use coreloop_runtime::{reactor_test, time};
use std::time::Duration;

reactor_test! {
    async fn box_slice_read_is_not_end_of_stream() {
        let (a, b) = UnixStream::pair().unwrap();
        let (res, _) = b.write(b"data waiting".to_vec()).await;
        res.unwrap();
        let buf: Box<[u8]> = vec![0u8; 8].into_boxed_slice();
        let (res, buf) = time::timeout(Duration::from_secs(2), a.read(buf))
            .await
            .expect("the read finishes");
        match res {
            Ok(0) => panic!(
                "a read into a Box<[u8]> returned Ok(0) (end of stream) with data waiting"
            ),
            Ok(n) => assert_eq!(&buf[..n], &b"data waiting"[..n]),
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{e}"),
        }
    }
}
