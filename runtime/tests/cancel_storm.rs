//! A cancellation storm: 10,000 ops dropped at seeded random points — before they start,
//! while the kernel holds them, after they completed but before their result was taken —
//! across read, write, recv, send, accept, connect and timeouts. Afterwards no descriptor is
//! left open and every buffer was dropped exactly once. `scripts/asan.sh` runs this file under
//! AddressSanitizer, which would see any buffer the kernel wrote after it was freed.

use coreloop_runtime::buf::{IoBuf, IoBufMut};
use coreloop_runtime::op::{
    OpCode, Position, SharedFd, accept::Accept, connect::Connect, read::Read, recv::Recv,
    send::Send, write::Write,
};
use coreloop_runtime::reactor::Op;
use coreloop_runtime::sys::socket::{self, AF_INET, AF_UNIX, SOCK_STREAM, SockAddr};
use coreloop_runtime::testing::open_fds;
use coreloop_runtime::{time, yield_now};
use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Mutex;
use std::task::Poll;
use std::time::Duration;

/// The two reactors' runs of this file count the process's descriptors: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Buffers made and buffers dropped; a double drop would show as more drops than makes.
#[derive(Default)]
struct Ledger {
    made: Cell<u64>,
    dropped: Cell<u64>,
}

/// A Vec that tells the ledger when it is made and dropped.
struct Counted {
    vec: Vec<u8>,
    ledger: Rc<Ledger>,
    dropped: bool,
}

impl Counted {
    fn new(ledger: &Rc<Ledger>, cap: usize, fill: usize) -> Counted {
        ledger.made.set(ledger.made.get() + 1);
        let mut vec = Vec::with_capacity(cap);
        vec.resize(fill, 0xa5);
        Counted {
            vec,
            ledger: ledger.clone(),
            dropped: false,
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        assert!(!self.dropped, "a buffer was dropped twice");
        self.dropped = true;
        self.ledger.dropped.set(self.ledger.dropped.get() + 1);
    }
}

// SAFETY: delegates to the Vec, whose heap pointer does not move with the Counted.
unsafe impl IoBuf for Counted {
    fn stable_ptr(&self) -> *const u8 {
        self.vec.stable_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.vec.bytes_init()
    }
    fn bytes_total(&self) -> usize {
        self.vec.bytes_total()
    }
}

// SAFETY: as above; the Vec's spare capacity is writable.
unsafe impl IoBufMut for Counted {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.vec.stable_mut_ptr()
    }
    unsafe fn set_init(&mut self, pos: usize) {
        // SAFETY: the caller's promise, passed on.
        unsafe { self.vec.set_init(pos) }
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Polls `fut` up to `polls` times, letting the core turn (and the kernel complete things)
/// between polls, then drops it wherever it is.
async fn poll_then_drop<F: Future>(fut: F, polls: u64) {
    let mut fut = Box::pin(fut);
    for _ in 0..polls {
        let done = poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx).is_ready())).await;
        if done {
            return;
        }
        yield_now().await;
    }
    drop::<Pin<Box<F>>>(fut);
}

/// Runs an op to its end; what it produced (a buffer, a descriptor) is dropped here.
async fn op<T: OpCode>(t: T) {
    drop(Op::new(t).await);
}

/// Both reactors, one at a time (the test counts the process's descriptors).
fn serially(kind: coreloop_runtime::ReactorKind) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    coreloop_runtime::testing::run(kind, storm());
}

#[test]
fn ten_thousand_random_drops_leak_nothing_uring() {
    if !coreloop_runtime::testing::should_run(coreloop_runtime::ReactorKind::Uring, module_path!())
    {
        return;
    }
    serially(coreloop_runtime::ReactorKind::Uring);
}

#[test]
fn ten_thousand_random_drops_leak_nothing_epoll() {
    serially(coreloop_runtime::ReactorKind::Epoll);
}

async fn storm() {
    {
        let seed = coreloop_runtime::sys::seed_hint();
        eprintln!("cancel storm seed {seed} (replay with CORELOOP_FAULT_SEED={seed})");
        let mut rng = Rng(seed | 1);
        let baseline = open_fds();
        let ledger = Rc::new(Ledger::default());
        {
            let (a, b) = socket::socketpair(AF_UNIX, SOCK_STREAM, 0).unwrap();
            let (a, b) = (SharedFd::new(a), SharedFd::new(b));
            let listener = SharedFd::new(socket::socket(AF_INET, SOCK_STREAM, 0).unwrap());
            socket::bind(
                listener.raw(),
                &SockAddr::from("127.0.0.1:0".parse::<std::net::SocketAddr>().unwrap()),
            )
            .unwrap();
            socket::listen(listener.raw(), 4096).unwrap();
            let addr = socket::getsockname(listener.raw()).unwrap();
            let mut kinds = [0u32; 7];
            for _ in 0..10_000 {
                let kind = (rng.next() % 7) as usize;
                kinds[kind] += 1;
                let polls = rng.next() % 4;
                let size = 1 + (rng.next() % 65_536) as usize;
                let (fd_a, fd_b) = (&a, &b);
                match kind {
                    0 => {
                        poll_then_drop(
                            op(Read::new(
                                fd_a,
                                Counted::new(&ledger, size, 0),
                                Position::Stream,
                            )),
                            polls,
                        )
                        .await
                    }
                    1 => {
                        poll_then_drop(
                            op(Write::new(
                                fd_a,
                                Counted::new(&ledger, size, size),
                                Position::Stream,
                            )),
                            polls,
                        )
                        .await
                    }
                    2 => {
                        poll_then_drop(
                            op(Recv::new(fd_b, Counted::new(&ledger, size, 0), 0)),
                            polls,
                        )
                        .await
                    }
                    3 => {
                        poll_then_drop(
                            op(Send::new(fd_b, Counted::new(&ledger, size, size), 0)),
                            polls,
                        )
                        .await
                    }
                    4 => poll_then_drop(op(Accept::new(&listener)), polls).await,
                    5 => {
                        let s = SharedFd::new(socket::socket(AF_INET, SOCK_STREAM, 0).unwrap());
                        poll_then_drop(op(Connect::new(&s, addr)), polls).await;
                        drop(s);
                    }
                    _ => {
                        let read = op(Read::new(
                            fd_a,
                            Counted::new(&ledger, size, 0),
                            Position::Stream,
                        ));
                        let ms = rng.next() % 3;
                        poll_then_drop(time::timeout(Duration::from_millis(ms), read), polls + 1)
                            .await;
                    }
                }
            }
            eprintln!("ops by kind (read, write, recv, send, accept, connect, timeout): {kinds:?}");
            let stats = coreloop_runtime::reactor_stats().unwrap();
            eprintln!("{stats:?}");
            if coreloop_runtime::current_reactor() == Some(coreloop_runtime::ReactorKind::Uring) {
                assert!(
                    stats.abandoned > 1_000,
                    "most drops should catch ops in flight: {stats:?}"
                );
            }
            // Let every cancelled op's last completion arrive.
            time::sleep(Duration::from_millis(200)).await;
        }
        // The sockets are closed; accepted fds of cancelled accepts were closed on completion.
        time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            ledger.dropped.get(),
            ledger.made.get(),
            "every buffer dropped exactly once"
        );
        assert_eq!(open_fds(), baseline, "no descriptor leaked");
    }
}

#[test]
fn dropping_the_runtime_with_ops_in_flight_leaks_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for kind in coreloop_runtime::testing::reactors(module_path!()) {
        let baseline = open_fds();
        let ledger = Rc::new(Ledger::default());
        {
            let rt = coreloop_runtime::Runtime::builder()
                .reactor(kind)
                .env_override(false)
                .build()
                .unwrap();
            let l = ledger.clone();
            let keep = rt.block_on(async move {
                let (a, b) = socket::socketpair(AF_UNIX, SOCK_STREAM, 0).unwrap();
                let a = SharedFd::new(a);
                let listener = SharedFd::new(socket::socket(AF_INET, SOCK_STREAM, 0).unwrap());
                socket::bind(
                    listener.raw(),
                    &SockAddr::from("127.0.0.1:0".parse::<std::net::SocketAddr>().unwrap()),
                )
                .unwrap();
                socket::listen(listener.raw(), 16).unwrap();
                let (fa, fl) = (&a, &listener);
                // Tasks whose ops will never complete by themselves: reads with no writer and
                // accepts with no client.
                for _ in 0..100 {
                    let buf = Counted::new(&l, 4096, 0);
                    coreloop_runtime::spawn(op(Read::new(fa, buf, Position::Stream)));
                    coreloop_runtime::spawn(op(Accept::new(fl)));
                }
                for _ in 0..3 {
                    yield_now().await;
                }
                (a, b, listener)
            });
            assert_eq!(ledger.dropped.get(), 0, "the reads are still in flight");
            // The runtime goes first (cancelling and waiting for the kernel), then the sockets.
            drop(rt);
            assert_eq!(
                ledger.dropped.get(),
                ledger.made.get(),
                "{kind}: every buffer dropped once the kernel let go"
            );
            drop(keep);
        }
        assert_eq!(open_fds(), baseline, "{kind}: no descriptor leaked");
    }
}
