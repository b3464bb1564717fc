//! Owned-buffer `BufReader`/`BufWriter` over real streams, the `Rent` traits through
//! `&TcpStream`/`&UnixStream`, and boxed/static arrays as buffers: every case on both
//! reactors, over loopback.

use coreloop::io::{
    AsyncReadRent, AsyncReadRentExt, AsyncWriteRent, AsyncWriteRentExt, BufReader, BufWriter,
};
use coreloop::net::{TcpListener, TcpStream, UnixStream};
use std::io;

/// A connected loopback TCP pair.
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
    let (s, _) = l.accept().await.unwrap();
    (c, s)
}

#[coreloop::test]
async fn read_line_and_read_until_split_at_the_delimiter_across_reads() {
    let (a, b) = UnixStream::pair().unwrap();
    // A tiny buffer, so lines span several refills; the writer sends in odd pieces.
    let writer = coreloop::spawn(async move {
        for piece in ["fir", "st\nsec", "ond\r\nthird;fourth", "\nlast-no-newline"] {
            let (res, _) = (&a).write_all(piece).await;
            res.unwrap();
            coreloop::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    });
    let mut r = BufReader::with_capacity(4, b);
    let mut line = String::from("kept:");
    assert_eq!(r.read_line(&mut line).await.unwrap(), 6);
    assert_eq!(line, "kept:first\n", "read_line appends, newline included");
    assert_eq!(r.next_line().await.unwrap().as_deref(), Some("second"));
    let mut until = Vec::new();
    assert_eq!(r.read_until(b';', &mut until).await.unwrap(), 6);
    assert_eq!(until, b"third;");
    assert_eq!(r.next_line().await.unwrap().as_deref(), Some("fourth"));
    writer.await.unwrap();
    // The writer is gone: the last line has no newline, then end of stream.
    assert_eq!(
        r.next_line().await.unwrap().as_deref(),
        Some("last-no-newline")
    );
    assert_eq!(r.next_line().await.unwrap(), None);
    let mut line = String::new();
    assert_eq!(r.read_line(&mut line).await.unwrap(), 0);
}

#[coreloop::test]
async fn read_line_rejects_invalid_utf8_and_leaves_the_line_alone() {
    let (a, b) = UnixStream::pair().unwrap();
    (&a).write_all(b"\xff\xfe\nok\n".to_vec()).await.0.unwrap();
    drop(a);
    let mut r = BufReader::new(b);
    let mut line = String::from("before");
    let e = r.read_line(&mut line).await.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    assert_eq!(line, "before");
    assert_eq!(r.next_line().await.unwrap().as_deref(), Some("ok"));
}

#[coreloop::test]
async fn lines_is_a_stream_of_every_line_then_ends() {
    use std::future::poll_fn;
    use std::pin::Pin;
    let (a, b) = tcp_pair().await;
    let expected: Vec<String> = (0..500).map(|i| format!("line number {i}")).collect();
    let text: String = expected.iter().map(|l| format!("{l}\n")).collect();
    let writer = coreloop::spawn(async move {
        let mut a = a;
        a.write_all(text).await.0.unwrap();
    });
    let mut lines = BufReader::with_capacity(64, b).lines();
    let mut got = Vec::new();
    // Through the Stream trait itself, as a `StreamExt::next` would.
    while let Some(line) =
        poll_fn(|cx| futures_util::Stream::poll_next(Pin::new(&mut lines), cx)).await
    {
        got.push(line.unwrap());
    }
    writer.await.unwrap();
    assert_eq!(got, expected);
    assert!(
        lines.next_line().await.unwrap().is_none(),
        "ended stays ended"
    );
}

#[coreloop::test]
async fn buf_writer_holds_small_writes_until_flush_and_passes_big_ones_through() {
    let (a, b) = tcp_pair().await;
    let mut w = BufWriter::with_capacity(16, a);
    for piece in ["ab", "cd", "ef"] {
        assert_eq!(w.write(piece).await.0.unwrap(), 2);
    }
    assert_eq!(w.buffer(), b"abcdef");
    // Nothing reached the peer yet: a read with a short timeout sees nothing.
    let (b, early) = {
        let read = coreloop::time::timeout(
            std::time::Duration::from_millis(50),
            b.read(Vec::with_capacity(64)),
        )
        .await;
        (b, read)
    };
    assert!(
        early.is_err(),
        "a buffered write reached the peer before flush"
    );
    w.flush().await.unwrap();
    assert!(w.buffer().is_empty());
    // A write that does not fit flushes first; one as big as the buffer goes straight out.
    w.write("0123456789").await.0.unwrap();
    let big = vec![b'x'; 40];
    let (res, _) = w.write_all(big).await;
    res.unwrap();
    assert!(w.buffer().is_empty(), "a big write is not buffered");
    w.write("tail").await.0.unwrap();
    w.flush().await.unwrap();
    drop(w);
    let mut expected = b"abcdef0123456789".to_vec();
    expected.extend_from_slice(&[b'x'; 40]);
    expected.extend_from_slice(b"tail");
    let mut got = Vec::new();
    loop {
        got.reserve(64);
        let (res, buf) = b.read(got).await;
        got = buf;
        if res.unwrap() == 0 {
            break;
        }
    }
    assert_eq!(got, expected);
}

#[coreloop::test]
async fn buf_writer_flush_reports_the_write_error_and_keeps_the_bytes() {
    let (a, b) = UnixStream::pair().unwrap();
    drop(b);
    let mut w = BufWriter::new(a);
    w.write("lost peer").await.0.unwrap();
    let e = w.flush().await.unwrap_err();
    assert!(
        matches!(
            e.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        ),
        "{e}"
    );
    assert_eq!(w.buffer(), b"lost peer", "unwritten bytes stay buffered");
}

#[coreloop::test]
async fn write_all_and_read_exact_work_through_a_shared_tcp_stream() {
    let (a, b) = tcp_pair().await;
    let a = std::rc::Rc::new(a);
    // One task writes through `&TcpStream` while another reads through it.
    let a2 = a.clone();
    let echo = coreloop::spawn(async move {
        let mut r = &*a2;
        let (res, buf) = r.read_exact(Vec::with_capacity(5)).await;
        res.unwrap();
        buf
    });
    let mut w = &*a;
    let (res, _) = w.write_all("hello from a").await;
    res.unwrap();
    let mut br = &b;
    let (res, buf) = br.read_exact(Vec::with_capacity(12)).await;
    res.unwrap();
    assert_eq!(buf, b"hello from a");
    let (res, _) = (&b).write_all("world").await;
    res.unwrap();
    assert_eq!(echo.await.unwrap(), b"world");
}

#[coreloop::test]
async fn a_buf_reader_and_a_buf_writer_share_one_unix_stream() {
    let (a, b) = UnixStream::pair().unwrap();
    let peer = coreloop::spawn(async move {
        // Echo each line back, upper-cased, through a reader and a writer over `&b`.
        let mut r = BufReader::new(&b);
        let mut w = BufWriter::new(&b);
        while let Some(line) = r.next_line().await.unwrap() {
            w.write(format!("{}\n", line.to_uppercase()))
                .await
                .0
                .unwrap();
            w.flush().await.unwrap();
        }
    });
    let mut r = BufReader::new(&a);
    for word in ["one", "two", "three"] {
        (&a).write_all(format!("{word}\n")).await.0.unwrap();
        assert_eq!(r.next_line().await.unwrap(), Some(word.to_uppercase()));
    }
    a.shutdown(std::net::Shutdown::Write).await.unwrap();
    peer.await.unwrap();
}

#[coreloop::test]
async fn buf_reader_read_hands_out_buffered_bytes_and_refuses_a_full_buffer() {
    let (a, b) = UnixStream::pair().unwrap();
    (&a).write_all("abcdefgh").await.0.unwrap();
    let mut r = BufReader::with_capacity(8, b);
    let mut head = Vec::with_capacity(3);
    head = r.read_exact(head).await.1;
    assert_eq!(head, b"abc");
    // One refill of 8 took what was sent (less only under injected short reads).
    let buffered = r.buffer().to_vec();
    assert!(b"defgh".starts_with(&buffered), "{buffered:?}");
    let (res, full) = r.read(head).await;
    assert_eq!(res.unwrap_err().kind(), io::ErrorKind::InvalidInput);
    assert_eq!(full, b"abc");
    let (res, rest) = r.read(Vec::with_capacity(100)).await;
    let n = res.unwrap();
    if !buffered.is_empty() {
        assert_eq!(
            rest, buffered,
            "a read hands out exactly what is buffered, first"
        );
    }
    assert!(n >= 1 && b"defgh".starts_with(&rest), "{rest:?}");
}

#[coreloop::test]
async fn boxed_and_static_arrays_are_buffers() {
    static GREETING: [u8; 5] = *b"hello";
    let (a, b) = UnixStream::pair().unwrap();
    let (res, _) = (&a).write_all(&GREETING).await;
    res.unwrap();
    let boxed: Box<[u8; 3]> = Box::new(*b"abc");
    let (res, boxed) = (&a).write_all(boxed).await;
    res.unwrap();
    assert_eq!(&*boxed, b"abc");
    let (res, got) = (&b).read_exact(Vec::with_capacity(8)).await;
    res.unwrap();
    assert_eq!(got, b"helloabc");
    // A boxed array counts as full (every byte initialized), like a Box<[u8]>: a read into
    // it is refused at once, never Ok(0).
    let (res, full) = b.read(Box::new([0u8; 4])).await;
    assert_eq!(res.unwrap_err().kind(), io::ErrorKind::InvalidInput);
    assert_eq!(*full, [0; 4]);
}
