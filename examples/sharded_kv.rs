//! A sharded key-value store, the thread-per-core way: each core owns one shard (a plain
//! `HashMap`, no lock), every core accepts connections (`SO_REUSEPORT`), and a request for a
//! key that lives on another core is sent to that core over a channel, with a oneshot channel
//! for the answer. The channels are tokio's (`tokio::sync::mpsc`, `oneshot`): coreloop writes
//! no channels of its own, because its wakers route a wake from any thread to the owning core.
//! See `coreloop::cross_core` for which channels to use and what a round trip costs.
//!
//! ```text
//! cargo run --release --example sharded_kv -- --addr 127.0.0.1:7000 --cores 2
//! printf 'SET a 1\nGET a\nGET b\n' | nc -q1 127.0.0.1 7000     # OK, 1, NIL
//! ```
//!
//! Protocol, one command per line: `SET <key> <value>` answers `OK`, `GET <key>` answers the
//! value or `NIL`, `DEL <key>` answers `1` or `0`; anything else answers `ERR <why>`.

use coreloop::{ReactorKind, Runtime};
use coreloop_compat::Compat;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::io;
use std::sync::{Mutex, OnceLock};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

/// One command for the shard that owns its key, and where to send the answer.
struct Request {
    cmd: Command,
    reply: oneshot::Sender<String>,
}

enum Command {
    Get(String),
    Set(String, String),
    Del(String),
}

/// Every shard's request queue, by core index; set once before the cores start.
static SHARDS: OnceLock<Vec<mpsc::UnboundedSender<Request>>> = OnceLock::new();
/// The same hasher on every core, so every core routes a key to the same shard.
static HASHER: OnceLock<RandomState> = OnceLock::new();

fn shard_of(key: &str) -> usize {
    let n = SHARDS.get().expect("shards are set up").len();
    (HASHER.get_or_init(RandomState::new).hash_one(key) % n as u64) as usize
}

/// The shard's owner: runs on its core, alone with its map.
async fn shard(mut requests: mpsc::UnboundedReceiver<Request>) {
    let mut map = HashMap::new();
    while let Some(Request { cmd, reply }) = requests.recv().await {
        let answer = match cmd {
            Command::Get(k) => map.get(&k).cloned().unwrap_or_else(|| "NIL".into()),
            Command::Set(k, v) => {
                map.insert(k, v);
                "OK".into()
            }
            Command::Del(k) => if map.remove(&k).is_some() { "1" } else { "0" }.into(),
        };
        let _ = reply.send(answer);
    }
}

fn parse(line: &str) -> Result<Command, String> {
    let mut words = line.split_whitespace();
    match (words.next(), words.next(), words.next(), words.next()) {
        (Some("GET"), Some(k), None, None) => Ok(Command::Get(k.into())),
        (Some("DEL"), Some(k), None, None) => Ok(Command::Del(k.into())),
        (Some("SET"), Some(k), Some(v), None) => Ok(Command::Set(k.into(), v.into())),
        _ => Err(format!(
            "ERR expected GET k, SET k v or DEL k, got {line:?}"
        )),
    }
}

/// Serves one connection: each command goes to its key's shard, wherever that is.
async fn serve(stream: coreloop::net::TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut conn = BufReader::new(Compat::new(stream));
    let mut line = String::new();
    while conn.read_line(&mut line).await? > 0 {
        let answer = match parse(&line) {
            Ok(cmd) => {
                let key = match &cmd {
                    Command::Get(k) | Command::Set(k, _) | Command::Del(k) => k,
                };
                let (reply, answer) = oneshot::channel();
                let shards = SHARDS.get().expect("shards are set up");
                shards[shard_of(key)]
                    .send(Request { cmd, reply })
                    .map_err(|_| io::Error::other("a shard has stopped"))?;
                answer
                    .await
                    .map_err(|_| io::Error::other("a shard dropped a request"))?
            }
            Err(e) => e,
        };
        line.clear();
        let conn = conn.get_mut();
        conn.write_all(format!("{answer}\n").as_bytes()).await?;
        conn.flush().await?;
    }
    Ok(())
}

fn main() -> io::Result<()> {
    let mut addr = String::from("127.0.0.1:7000");
    let mut cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut reactor = ReactorKind::Auto;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "--addr" => addr = value,
            "--cores" => cores = value.parse().map_err(io::Error::other)?,
            "--reactor" => reactor = ReactorKind::parse(&value)?,
            other => return Err(io::Error::other(format!("unknown flag {other}"))),
        }
    }
    // The queues exist before the cores: each core takes its receiver, everyone shares the
    // senders.
    let (senders, receivers): (Vec<_>, Vec<_>) =
        (0..cores).map(|_| mpsc::unbounded_channel()).unzip();
    let _ = SHARDS.set(senders);
    let receivers: Vec<Mutex<Option<_>>> =
        receivers.into_iter().map(|r| Mutex::new(Some(r))).collect();
    let rt = Runtime::builder().cores(cores).reactor(reactor).build()?;
    eprintln!("sharded_kv: {addr}, {cores} shards, {:?}", rt.reactor());
    rt.run(|core| {
        let mine = receivers[core.index].lock().unwrap().take();
        let addr = addr.clone();
        async move {
            coreloop::spawn(shard(mine.expect("each core takes its own shard once")));
            let listener = coreloop::net::TcpListener::builder(addr.as_str())
                .reuse_port(true)
                .listen()?;
            loop {
                let (stream, peer) = listener.accept().await?;
                coreloop::spawn(async move {
                    if let Err(e) = serve(stream).await {
                        eprintln!("sharded_kv: {peer}: {e}");
                    }
                });
            }
            #[allow(unreachable_code)]
            Ok::<(), io::Error>(())
        }
    })?
    .into_iter()
    .collect()
}
