//! floor_uring echoes every byte: with a 4-buffer pool (ENOBUFS, then recovery), with
//! half-closes (everything comes back, then EOF), past peers that reset mid-stream, and
//! under the built-in load's mostly idle mode.

use coreloop_benches::bench::load;
use coreloop_benches::bench::spec::{Case, LoadKind};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};

/// The floor, started on a free port with a pool of `bufs` buffers of 512 bytes.
struct Floor {
    child: Child,
    addr: SocketAddr,
}

impl Floor {
    fn start(bufs: &str) -> Floor {
        let mut child = Command::new(env!("CARGO_BIN_EXE_floor_uring"))
            .args(["--addr", "127.0.0.1:0", "--bufs", bufs, "--buf-size", "512"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("floor_uring starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("its first line");
        let addr = line
            .split_whitespace()
            .nth(2)
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Floor { child, addr }
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `len` bytes (a pattern of `seed`) while reading, half-closes, and checks that
/// exactly those bytes came back before EOF.
fn round_trip(addr: SocketAddr, len: usize, seed: u8) {
    let data: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect();
    let mut s = TcpStream::connect(addr).expect("connect");
    let mut r = s.try_clone().expect("clone");
    let reader = std::thread::spawn(move || {
        let mut back = Vec::new();
        r.read_to_end(&mut back).expect("read to EOF");
        back
    });
    s.write_all(&data).expect("write");
    s.shutdown(Shutdown::Write).expect("half-close");
    assert!(
        reader.join().unwrap() == data,
        "connection {seed}: the echo differs"
    );
}

#[test]
fn every_byte_comes_back_through_a_four_buffer_pool() {
    let floor = Floor::start("4");
    let addr = floor.addr;
    let threads: Vec<_> = (0..16u8)
        .map(|i| std::thread::spawn(move || round_trip(addr, 50_000 + i as usize * 7_919, i)))
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn a_peer_that_resets_mid_stream_ends_only_its_own_connection() {
    let floor = Floor::start("64");
    for _ in 0..10 {
        let mut s = TcpStream::connect(floor.addr).expect("connect");
        s.write_all(&[7; 200_000]).expect("write");
        // Linger 0: close sends RST instead of FIN.
        let off = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: `off` is a valid linger for the length given; the fd is open.
        let r = unsafe {
            libc::setsockopt(
                std::os::fd::AsRawFd::as_raw_fd(&s),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&off as *const libc::linger).cast(),
                size_of::<libc::linger>() as u32,
            )
        };
        assert_eq!(r, 0, "SO_LINGER");
    }
    round_trip(floor.addr, 10_000, 99);
}

#[test]
fn mostly_idle_connections_are_answered_once_then_the_active_ones_run() {
    let floor = Floor::start("64");
    let case = Case {
        load: LoadKind::Echo,
        conns: 300,
        size: 128,
        depth: 1,
        rate: None,
        secs: 0.5,
        active: Some(5),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let r = load::run(floor.addr, &case, None, tx);
    assert!(r.failure.is_none(), "{:?}", r.failure);
    assert!(r.ops > 0, "no answers in the window");
    assert_eq!(rx.recv().ok(), Some(load::Event::Started));
}
