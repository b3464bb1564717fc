//! `Bytes` and `BytesMut` as owned buffers (feature `bytes`), on both reactors: written from,
//! read into (appending after what the buffer holds), and handed back.

use bytes::{Bytes, BytesMut};
use coreloop::io::{AsyncReadRentExt, AsyncWriteRentExt};
use coreloop::net::UnixStream;

#[coreloop::test]
async fn bytes_out_bytes_mut_in() {
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let (res, sent) = a.write_all(Bytes::from_static(b"hello, ")).await;
    res.unwrap();
    assert_eq!(&sent[..], b"hello, ");
    let (res, _) = a.write_all(Bytes::from(b"bytes".to_vec())).await;
    res.unwrap();
    // A BytesMut that already holds a prefix: the read appends after it.
    let mut buf = BytesMut::with_capacity(3 + 12);
    buf.extend_from_slice(b">> ");
    let (res, buf) = b.read_exact(buf).await;
    res.unwrap();
    assert_eq!(&buf[..], b">> hello, bytes");
    // And written back from a BytesMut.
    let (res, _) = b.write_all(buf).await;
    res.unwrap();
    let (res, back) = a.read_exact(BytesMut::with_capacity(15)).await;
    res.unwrap();
    assert_eq!(&back[..], b">> hello, bytes");
}
