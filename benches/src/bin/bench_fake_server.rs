//! Misbehaving servers for `coreloop-bench`'s tests: `--mode garbage` answers every read
//! with bytes that are neither an echo nor HTTP, `--mode silent` reads and never answers,
//! `--mode die` accepts and exits 300 ms later (a server that dies mid-run).
//!
//! `bench_fake_server --mode garbage --port 8080`

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let mode = flag("--mode").unwrap_or_else(|| "garbage".into());
    let port = flag("--port").unwrap_or_else(|| "8080".into());
    let listener = TcpListener::bind(format!("127.0.0.1:{port}")).expect("bind");
    if mode == "die" {
        std::thread::spawn(|| {
            std::thread::sleep(Duration::from_millis(300));
            std::process::exit(3);
        });
    }
    for stream in listener.incoming().flatten() {
        let mode = mode.clone();
        std::thread::spawn(move || serve(stream, &mode));
    }
}

fn serve(mut s: TcpStream, mode: &str) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        if mode == "garbage" && s.write_all(b"#garbage!\r\n\r\n").is_err() {
            break;
        }
    }
}
