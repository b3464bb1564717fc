//! The built-in load: echo or HTTP/1.1 over N connections, from one thread (a tokio
//! current_thread runtime) pinned to the load CPU.
//!
//! *Max throughput* (closed loop): each connection writes `depth` requests, reads their
//! answers, and goes again; latency is from the write to each answer.
//! *Fixed rate* (open loop): a pacer thread releases `rate / 4000` requests every
//! 250 µs, round robin over the connections, whatever the server is doing; each
//! connection's writer sends what it was given and its reader matches answers in order.
//! Latency is measured from the release (intended send) time, so a stalled server shows as
//! latency instead of as fewer requests (no coordinated omission). The pacer works in
//! 250 µs steps because a sleeping thread holds that on a busy machine without spinning a
//! CPU; the schedule is defined in those steps, so a step's requests leave together.
//!
//! Every answer is checked: an echo must come back byte for byte, an HTTP answer must be
//! `200` with a `Content-Length` body (chunked answers are refused by name).

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc as tmpsc;

use super::spec::{Case, LoadKind};

/// How long answers still in flight are waited for after the window.
const GRACE: Duration = Duration::from_secs(1);
/// Connects in flight at once while the load opens its connections.
const CONNECTS_IN_FLIGHT: usize = 256;
/// How long every connection's first answer may take in a mostly idle case.
const WARM_UP_LIMIT: Duration = Duration::from_secs(10);
/// The pacer's step: short enough that a step's burst is a few requests at the rates a
/// core serves, long enough that a sleeping thread keeps it (its timer slack is set to 1 µs).
const TICK: Duration = Duration::from_micros(250);
const QUANTILES: [f64; 10] = [
    0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 1.0,
];

/// Told to the caller as the load goes, so it can sample the server around the window.
#[derive(Debug, PartialEq)]
pub enum Event {
    /// Every connection is open; the window starts.
    Started,
    /// The window is over (answers in flight are still collected).
    Ended,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailKind {
    /// Could not connect (after retries).
    Connect,
    /// The server closed a connection or reset it.
    Closed,
    /// The server answered something other than the protocol's answer.
    WrongAnswer,
}

/// What the load saw.
#[derive(Clone, Debug)]
pub struct LoadResult {
    /// Checked answers.
    pub ops: u64,
    /// Requests written.
    pub sent: u64,
    /// Requests written by the end of the window (the achieved send rate's numerator).
    pub sent_in_window: u64,
    /// Requests the schedule released in the window (fixed rate).
    pub offered: u64,
    /// The window's length.
    pub secs: f64,
    /// Latency in ns.
    pub hist: Histogram<u64>,
    /// The first failure, and how many connections failed.
    pub failure: Option<(FailKind, String)>,
    pub failed_conns: u64,
}

impl LoadResult {
    /// (quantile, µs) points of the latency distribution.
    pub fn curve(&self) -> Vec<(f64, f64)> {
        if self.hist.is_empty() {
            return vec![];
        }
        QUANTILES
            .iter()
            .map(|&q| (q, self.hist.value_at_quantile(q) as f64 / 1000.0))
            .collect()
    }
}

struct Shared {
    ops: Cell<u64>,
    sent: Cell<u64>,
    sent_in_window: Cell<u64>,
    window_end: Cell<Option<Instant>>,
    hist: RefCell<Histogram<u64>>,
    failure: RefCell<Option<(FailKind, String)>>,
    failed_conns: Cell<u64>,
}

impl Shared {
    fn fail(&self, kind: FailKind, msg: String) {
        self.failed_conns.set(self.failed_conns.get() + 1);
        let mut f = self.failure.borrow_mut();
        if f.is_none() {
            *f = Some((kind, msg));
        }
    }

    fn answered(&self, since: Instant) {
        let ns = since.elapsed().as_nanos().min(u64::MAX as u128) as u64;
        self.hist.borrow_mut().saturating_record(ns.max(1));
        self.ops.set(self.ops.get() + 1);
    }

    fn wrote(&self, n: u64) {
        self.sent.set(self.sent.get() + n);
        let in_window = match self.window_end.get() {
            Some(end) => Instant::now() <= end + TICK,
            None => true,
        };
        if in_window {
            self.sent_in_window.set(self.sent_in_window.get() + n);
        }
    }
}

type Fail = (FailKind, String);

/// Runs `case` against `addr` on a new thread pinned to `cpu`, telling `events` when the
/// window starts and ends. Returns after the window plus at most `GRACE` (or after the
/// connect phase fails).
pub fn run(
    addr: SocketAddr,
    case: &Case,
    cpu: Option<usize>,
    events: mpsc::Sender<Event>,
) -> LoadResult {
    let case = case.clone();
    std::thread::spawn(move || {
        if let Some(cpu) = cpu {
            let _ = super::procfs::pin_current_thread(&[cpu]);
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime for the load");
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, drive(addr, case, cpu, events))
    })
    .join()
    .expect("the load thread panicked")
}

async fn drive(
    addr: SocketAddr,
    case: Case,
    cpu: Option<usize>,
    events: mpsc::Sender<Event>,
) -> LoadResult {
    let shared = Rc::new(Shared {
        ops: Cell::new(0),
        sent: Cell::new(0),
        sent_in_window: Cell::new(0),
        window_end: Cell::new(None),
        hist: RefCell::new(Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("bounds")),
        failure: RefCell::new(None),
        failed_conns: Cell::new(0),
    });
    let result = |shared: &Shared, secs: f64, offered: u64| LoadResult {
        ops: shared.ops.get(),
        sent: shared.sent.get(),
        sent_in_window: shared.sent_in_window.get(),
        offered,
        secs,
        hist: shared.hist.borrow().clone(),
        failure: shared.failure.borrow().clone(),
        failed_conns: shared.failed_conns.get(),
    };

    // Connect everyone first, so that the window holds requests only; a few hundred at a
    // time, so that 10,000 connections do not overflow the server's accept queue.
    let mut connecting = tokio::task::JoinSet::new();
    let mut streams: Vec<Option<TcpStream>> = (0..case.conns).map(|_| None).collect();
    for i in 0..case.conns {
        if connecting.len() >= CONNECTS_IN_FLIGHT {
            store(&mut streams, connecting.join_next().await, &shared, addr);
        }
        connecting.spawn_local(async move { (i, connect(addr).await) });
    }
    while let Some(r) = connecting.join_next().await {
        store(&mut streams, Some(r), &shared, addr);
    }
    if shared.failure.borrow().is_some() {
        return result(&shared, 0.0, 0);
    }
    let mut streams: Vec<TcpStream> = streams.into_iter().flatten().collect();
    // Mostly idle: every connection is answered once, then only the active ones go on; the
    // idle ones stay open (and silent) until the load ends.
    let _idle = match case.active {
        None => vec![],
        Some(active) => {
            let warm = tokio::time::timeout(WARM_UP_LIMIT, warm_up(streams, &case)).await;
            streams = match warm {
                Ok(Ok(s)) => s,
                Ok(Err((k, m))) => {
                    shared.fail(k, m);
                    return result(&shared, 0.0, 0);
                }
                Err(_) => {
                    let m = format!(
                        "not every connection answered its first request within {WARM_UP_LIMIT:?}"
                    );
                    shared.fail(FailKind::Closed, m);
                    return result(&shared, 0.0, 0);
                }
            };
            streams.split_off(active.min(streams.len()))
        }
    };

    let secs = Duration::from_secs_f64(case.secs);
    let _ = events.send(Event::Started);
    let start = Instant::now();
    let deadline = start + secs;
    shared.window_end.set(Some(deadline));
    let mut tasks = tokio::task::JoinSet::new();
    let mut offered = 0;
    let mut pacer = None;
    match case.rate {
        None => {
            for (i, s) in streams.into_iter().enumerate() {
                let shared = shared.clone();
                let case = case.clone();
                tasks.spawn_local(async move {
                    if let Err((k, m)) = closed_loop(s, i, &case, deadline, &shared).await {
                        shared.fail(k, m);
                    }
                });
            }
        }
        Some(rate) => {
            let mut senders = Vec::with_capacity(streams.len());
            for (i, s) in streams.into_iter().enumerate() {
                let (tx, rx) = tmpsc::unbounded_channel();
                senders.push(tx);
                let shared = shared.clone();
                let case = case.clone();
                tasks.spawn_local(async move {
                    if let Err((k, m)) = open_loop(s, i, &case, rx, &shared).await {
                        shared.fail(k, m);
                    }
                });
            }
            offered = (case.secs * rate as f64).floor() as u64;
            pacer = Some(std::thread::spawn(move || {
                if let Some(cpu) = cpu {
                    let _ = super::procfs::pin_current_thread(&[cpu]);
                }
                // SAFETY: prctl with integer arguments only; it changes this thread's slack.
                unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1u64, 0u64, 0u64, 0u64) };
                pace(start, secs, rate, senders)
            }));
        }
    }

    tokio::time::sleep_until(deadline.into()).await;
    let _ = events.send(Event::Ended);
    // Answers in flight: wait until every written request is answered (or its connection
    // failed), for at most GRACE.
    let until = tokio::time::Instant::from(deadline + GRACE);
    loop {
        let done = tasks.is_empty()
            || (case.rate.is_some()
                && pacer.as_ref().is_some_and(|p| p.is_finished())
                && shared.ops.get() >= shared.sent.get());
        if done || tokio::time::Instant::now() >= until {
            break;
        }
        tokio::select! {
            _ = tasks.join_next() => {}
            _ = tokio::time::sleep(TICK) => {}
        }
    }
    if let Some(p) = pacer {
        let _ = p.join();
    }
    tasks.abort_all();
    result(&shared, case.secs, offered)
}

/// Keeps a finished connect: the stream in its slot, or the failure.
fn store(
    streams: &mut [Option<TcpStream>],
    joined: Option<Result<(usize, io::Result<TcpStream>), tokio::task::JoinError>>,
    shared: &Shared,
    addr: SocketAddr,
) {
    match joined.map(|r| r.expect("connect task")) {
        Some((i, Ok(s))) => streams[i] = Some(s),
        Some((_, Err(e))) => shared.fail(FailKind::Connect, format!("connecting to {addr}: {e}")),
        None => {}
    }
}

/// One request on every connection, each answer checked, all at once (a server's read
/// buffers or buffer pool see every connection busy once); the streams come back in order.
async fn warm_up(streams: Vec<TcpStream>, case: &Case) -> Result<Vec<TcpStream>, Fail> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, mut s) in streams.into_iter().enumerate() {
        let case = case.clone();
        tasks.spawn_local(async move {
            let one = request(&case, i);
            s.write_all(&one).await.map_err(closed)?;
            Answers::new(&case, &one).next(&mut s).await?;
            Ok::<_, Fail>((i, s))
        });
    }
    let mut out: Vec<Option<TcpStream>> = (0..tasks.len()).map(|_| None).collect();
    while let Some(r) = tasks.join_next().await {
        let (i, s) = r.expect("warm-up task")?;
        out[i] = Some(s);
    }
    Ok(out.into_iter().flatten().collect())
}

/// Releases `rate` requests per second in 1 ms steps, round robin over the connections;
/// each request carries the time it was released (its intended send time).
fn pace(start: Instant, secs: Duration, rate: u64, senders: Vec<tmpsc::UnboundedSender<Instant>>) {
    let mut released = 0u64;
    let mut next = 0usize;
    let steps = (secs.as_nanos() / TICK.as_nanos()) as u64;
    for k in 1..=steps {
        let at = start + TICK * k as u32;
        let now = Instant::now();
        if at > now {
            std::thread::sleep(at - now);
        }
        let due = (k as f64 * TICK.as_secs_f64() * rate as f64).floor() as u64;
        while released < due {
            let _ = senders[next].send(at);
            next = (next + 1) % senders.len();
            released += 1;
        }
    }
    // Dropping the senders tells the writers the schedule is over.
}

/// Connects, retrying briefly: a server with a full accept queue refuses for a moment.
async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let mut tries = 0;
    loop {
        let attempt = tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(addr)).await;
        match attempt {
            Ok(Ok(s)) => {
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Ok(Err(e)) if tries >= 50 => return Err(e),
            Err(_) if tries >= 3 => {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out"));
            }
            _ => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// The bytes of one request on connection `conn`.
fn request(case: &Case, conn: usize) -> Vec<u8> {
    match case.load {
        LoadKind::Echo => (0..case.size).map(|j| (conn + j) as u8).collect(),
        LoadKind::Http => b"GET / HTTP/1.1\r\nHost: coreloop-bench\r\n\r\n".to_vec(),
    }
}

async fn closed_loop(
    mut s: TcpStream,
    conn: usize,
    case: &Case,
    deadline: Instant,
    shared: &Shared,
) -> Result<(), Fail> {
    let one = request(case, conn);
    let batch = one.repeat(case.depth);
    let mut answers = Answers::new(case, &one);
    while Instant::now() < deadline {
        let t0 = Instant::now();
        s.write_all(&batch).await.map_err(closed)?;
        shared.wrote(case.depth as u64);
        for _ in 0..case.depth {
            answers.next(&mut s).await?;
            shared.answered(t0);
        }
    }
    Ok(())
}

async fn open_loop(
    s: TcpStream,
    conn: usize,
    case: &Case,
    mut rx: tmpsc::UnboundedReceiver<Instant>,
    shared: &Rc<Shared>,
) -> Result<(), Fail> {
    let one = request(case, conn);
    let (mut r, mut w) = s.into_split();
    let queue: Rc<RefCell<VecDeque<Instant>>> = Rc::default();
    let reader = {
        let queue = queue.clone();
        let shared = shared.clone();
        let mut answers = Answers::new(case, &one);
        tokio::task::spawn_local(async move {
            loop {
                answers.next(&mut r).await?;
                let Some(at) = queue.borrow_mut().pop_front() else {
                    return Err((
                        FailKind::WrongAnswer,
                        "an answer came for no request".to_string(),
                    ));
                };
                shared.answered(at);
            }
        })
    };
    let mut buf = Vec::new();
    let written = async {
        while let Some(at) = rx.recv().await {
            // Everything already released goes out in one write.
            let mut n = 1;
            queue.borrow_mut().push_back(at);
            while let Ok(at) = rx.try_recv() {
                queue.borrow_mut().push_back(at);
                n += 1;
            }
            buf.clear();
            for _ in 0..n {
                buf.extend_from_slice(&one);
            }
            w.write_all(&buf).await.map_err(closed)?;
            shared.wrote(n);
        }
        Ok::<(), Fail>(())
    };
    // The reader's failure ends the writer too; the writer ending leaves the reader to
    // collect the last answers until the caller stops waiting.
    let reader_done = async {
        match reader.await {
            Ok(r) => r,
            Err(_) => Ok(()),
        }
    };
    tokio::pin!(reader_done);
    tokio::select! {
        r = written => {
            r?;
            reader_done.await
        }
        r = &mut reader_done => r,
    }
}

fn closed(e: io::Error) -> Fail {
    (
        FailKind::Closed,
        format!("the server closed the connection: {e}"),
    )
}

/// Reads and checks answers one at a time.
struct Answers {
    kind: LoadKind,
    expect: Vec<u8>,
    buf: Vec<u8>,
}

impl Answers {
    fn new(case: &Case, request: &[u8]) -> Answers {
        Answers {
            kind: case.load,
            expect: request.to_vec(),
            buf: Vec::with_capacity(8192),
        }
    }

    async fn fill<R: AsyncRead + Unpin>(&mut self, r: &mut R) -> Result<(), Fail> {
        let mut chunk = [0u8; 16 * 1024];
        let n = r.read(&mut chunk).await.map_err(closed)?;
        if n == 0 {
            return Err((
                FailKind::Closed,
                "the server closed the connection mid-answer or before answering".into(),
            ));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    async fn next<R: AsyncRead + Unpin>(&mut self, r: &mut R) -> Result<(), Fail> {
        match self.kind {
            LoadKind::Echo => loop {
                let have = self.buf.len().min(self.expect.len());
                // Checked as bytes arrive: a wrong byte fails at once.
                if self.buf[..have] != self.expect[..have] {
                    return Err(wrong("the echo came back different", &self.buf));
                }
                if have == self.expect.len() {
                    self.buf.drain(..have);
                    return Ok(());
                }
                self.fill(r).await?;
            },
            LoadKind::Http => loop {
                if let Some(len) = http_answer_len(&self.buf)? {
                    if self.buf.len() >= len {
                        self.buf.drain(..len);
                        return Ok(());
                    }
                }
                self.fill(r).await?;
            },
        }
    }
}

/// The length of the complete HTTP answer at the front of `buf`, `None` if more is needed.
fn http_answer_len(buf: &[u8]) -> Result<Option<usize>, Fail> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(buf) {
        Ok(httparse::Status::Partial) if buf.len() > 64 * 1024 => {
            Err(wrong("no end of HTTP headers in 64 KiB", buf))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(wrong(&format!("not an HTTP answer ({e})"), buf)),
        Ok(httparse::Status::Complete(head)) => {
            let code = resp.code.unwrap_or(0);
            if code != 200 {
                return Err(wrong(&format!("HTTP {code} instead of 200"), buf));
            }
            let header = |name: &str| {
                resp.headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name))
                    .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
            };
            match header("content-length").map(|v| v.parse::<usize>()) {
                Some(Ok(n)) => Ok(Some(head + n)),
                Some(Err(_)) => Err(wrong("a Content-Length that is not a number", buf)),
                None if header("transfer-encoding").is_some() => Err((
                    FailKind::WrongAnswer,
                    "chunked answers are not supported by the built-in HTTP load".into(),
                )),
                None => Err(wrong("an HTTP answer without Content-Length", buf)),
            }
        }
    }
}

fn wrong(what: &str, got: &[u8]) -> Fail {
    let head: String = got
        .iter()
        .take(32)
        .flat_map(|b| std::ascii::escape_default(*b))
        .map(char::from)
        .collect();
    (FailKind::WrongAnswer, format!("{what}: got \"{head}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_answers_are_measured_and_garbage_is_named() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP";
        assert_eq!(http_answer_len(ok).unwrap(), Some(43));
        assert_eq!(
            http_answer_len(b"HTTP/1.1 200 OK\r\nContent-Le").unwrap(),
            None
        );
        let (k, m) = http_answer_len(b"garbage\n\n").unwrap_err();
        assert_eq!(k, FailKind::WrongAnswer);
        assert!(m.contains("not an HTTP answer"), "{m}");
        let (_, m) =
            http_answer_len(b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n").unwrap_err();
        assert!(m.contains("HTTP 500"), "{m}");
    }
}
