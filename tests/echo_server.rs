//! The echo example: its connection handler in-process on both reactors (round trip,
//! half-close, reset beside a healthy connection), and the built binary under a tiny
//! descriptor limit (EMFILE) and SIGTERM.

use coreloop_examples_support::testing::example_binary;
use coreloop_examples_support::{echo_conn, server};

use coreloop::net::TcpListener;
use coreloop_examples_support::shutdown::Shutdown;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown as Half, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn round_trip(c: &mut TcpStream, msg: &[u8]) {
    c.write_all(msg).unwrap();
    let mut back = vec![0u8; msg.len()];
    c.read_exact(&mut back).unwrap();
    assert!(back == msg, "echo differs");
}

#[coreloop::test]
async fn echo_half_close_and_reset() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let sd = Arc::new(Shutdown::new());
    let loop_sd = sd.clone();
    let server = coreloop::spawn(async move {
        let conn_sd = loop_sd.clone();
        server::accept_loop(listener, &loop_sd, Duration::from_secs(2), move |s| {
            echo_conn::echo(s, conn_sd.clone())
        })
        .await
    });
    let client = coreloop::spawn_blocking(move || {
        let mut healthy = TcpStream::connect(addr).unwrap();
        healthy
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        round_trip(&mut healthy, b"first");

        // Half-close: 300 KB out, write side shut, all of it back, then EOF.
        let mut half = TcpStream::connect(addr).unwrap();
        half.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let mut reader = half.try_clone().unwrap();
        let want = payload.len();
        let t = std::thread::spawn(move || {
            let mut got = Vec::new();
            reader.read_to_end(&mut got).unwrap();
            got
        });
        half.write_all(&payload).unwrap();
        half.shutdown(Half::Write).unwrap();
        let got = t.join().unwrap();
        assert_eq!(got.len(), want);
        assert!(got == payload);

        // Reset: linger 0 then close sends RST; the server drops that connection only.
        let reset = TcpStream::connect(addr).unwrap();
        round_trip(&mut reset.try_clone().unwrap(), b"before reset");
        let sock = socket_linger_zero(reset);
        drop(sock);
        std::thread::sleep(Duration::from_millis(50));
        round_trip(&mut healthy, b"still here");
    });
    client.await.expect("client");
    sd.trigger();
    assert_eq!(server.await.expect("server"), 3);
}

/// Sets SO_LINGER {on, 0} so that dropping the socket resets the connection.
fn socket_linger_zero(s: TcpStream) -> TcpStream {
    use std::os::fd::AsRawFd;
    let l = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: l is a valid linger for the call; the fd is open (owned by s).
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&l as *const libc::linger).cast(),
            size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
    s
}

#[test]
fn keeps_serving_through_emfile() {
    let bin = example_binary("echo");
    for reactor in coreloop::testing::reactors(module_path!())
        .into_iter()
        .map(|k| k.name())
    {
        let mut cmd = Command::new(&bin);
        cmd.args(["--addr", "127.0.0.1:0", "--reactor", reactor])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        // SAFETY: only setrlimit, which is async-signal-safe, runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                let lim = libc::rlimit {
                    rlim_cur: 40,
                    rlim_max: 40,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().expect("start the echo example");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr: SocketAddr = line
            .split_whitespace()
            .find_map(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));

        // More connections than the server has descriptors: the kernel queues them, the
        // server accepts until EMFILE and then backs off.
        let mut conns: Vec<TcpStream> = (0..60)
            .map(|_| {
                let c = TcpStream::connect(addr).unwrap();
                c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                c
            })
            .collect();
        round_trip(&mut conns[0], b"accepted early");
        // Free descriptors: the queued connections get their turn.
        let late = conns.split_off(30);
        drop(conns);
        let start = Instant::now();
        for mut c in late {
            round_trip(&mut c, b"accepted after EMFILE");
        }
        assert!(start.elapsed() < Duration::from_secs(8));

        // SAFETY: kill takes no pointers; the pid is our own child's.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
        let status = child.wait().unwrap();
        assert!(status.success(), "{reactor}: {status}");
    }
}
