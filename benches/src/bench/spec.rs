//! What `coreloop-bench` runs: servers (`NAME=COMMAND`, expanded into one variant per
//! reactor for a coreloop program), and cases (a load at one point of the sweep).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The reactors a coreloop program is run on when its command has no `{reactor}`.
pub const REACTORS: [&str; 2] = ["uring", "epoll"];

/// One `--server NAME=COMMAND` as the user wrote it.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerSpec {
    pub name: String,
    pub command: String,
}

impl ServerSpec {
    /// Parses `NAME=COMMAND`: a name of letters, digits, `-`, `_` or `.`, and a command that
    /// names `{port}` (the tool picks the port and waits for it to accept).
    pub fn parse(s: &str) -> Result<ServerSpec, String> {
        let (name, command) = s.split_once('=').ok_or_else(|| {
            format!("{s:?}: expected NAME=COMMAND, e.g. 'echo=./echo --port {{port}}'")
        })?;
        let name = name.trim();
        let command = command.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(format!(
                "{s:?}: the server name {name:?} must be letters, digits, '-', '_' or '.'"
            ));
        }
        if command.is_empty() {
            return Err(format!("{s:?}: the command is empty"));
        }
        if !command.contains("{port}") {
            return Err(format!(
                "{s:?}: the command must contain {{port}} (the port the tool picks and waits on)"
            ));
        }
        let rest = command
            .replace("{port}", "")
            .replace("{cores}", "")
            .replace("{reactor}", "");
        if let Some(i) = rest.find('{')
            && let Some(j) = rest[i..].find('}')
        {
            return Err(format!(
                "{s:?}: unknown placeholder {}; the placeholders are {{port}}, {{cores}} and {{reactor}}",
                &rest[i..i + j + 1]
            ));
        }
        Ok(ServerSpec {
            name: name.to_string(),
            command: command.to_string(),
        })
    }

    /// The variants this server runs as: one per reactor for a coreloop program (through
    /// `{reactor}` if the command has it, else `CORELOOP_REACTOR`), one otherwise.
    pub fn variants(&self, reactors: &[String]) -> Vec<Variant> {
        let coreloop = self.command.contains("{reactor}") || is_coreloop_program(&self.command);
        if !coreloop || reactors.is_empty() {
            return vec![Variant {
                name: self.name.clone(),
                server: self.name.clone(),
                command: self.command.clone(),
                env: vec![],
                coreloop,
                reactor: None,
            }];
        }
        reactors
            .iter()
            .map(|r| {
                let (command, env) = if self.command.contains("{reactor}") {
                    (self.command.replace("{reactor}", r), vec![])
                } else {
                    (
                        self.command.clone(),
                        vec![("CORELOOP_REACTOR".to_string(), r.clone())],
                    )
                };
                Variant {
                    name: format!("{}-{r}", self.name),
                    server: self.name.clone(),
                    command,
                    env,
                    coreloop: true,
                    reactor: Some(r.clone()),
                }
            })
            .collect()
    }
}

/// A server as it is run: the command (with `{reactor}` filled in), its environment, and
/// whether it is a coreloop program (then SIGUSR1 asks it for its counters).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    pub name: String,
    /// The `NAME` of the `--server` it came from.
    pub server: String,
    pub command: String,
    pub env: Vec<(String, String)>,
    pub coreloop: bool,
    /// The reactor asked for, if any.
    pub reactor: Option<String>,
}

impl Variant {
    /// The command line for one run.
    pub fn command_for(&self, port: u16, cores: usize) -> String {
        self.command
            .replace("{port}", &port.to_string())
            .replace("{cores}", &cores.to_string())
    }
}

/// Whether the program a command starts is linked with coreloop: its executable holds the
/// name of the variable coreloop's runtime reads (`CORELOOP_REACTOR`). Reading the file is
/// the one test that needs no cooperation from the server.
pub fn is_coreloop_program(command: &str) -> bool {
    let Some(program) = command.split_whitespace().next() else {
        return false;
    };
    let Some(path) = resolve_program(program) else {
        return false;
    };
    match std::fs::read(path) {
        Ok(bytes) => bytes
            .windows(b"CORELOOP_REACTOR".len())
            .any(|w| w == b"CORELOOP_REACTOR"),
        Err(_) => false,
    }
}

fn resolve_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| Path::new(p).is_file())
    })
}

/// Which protocol the load speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LoadKind {
    /// Messages of `--sizes` bytes, each to come back byte for byte.
    Echo,
    /// `GET / HTTP/1.1`, each answered with a `200` and a `Content-Length` body.
    Http,
}

/// One point of the sweep: a load, its shape, and its mode (max throughput or fixed rate).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub load: LoadKind,
    pub conns: usize,
    /// Message size (echo); ignored for HTTP.
    pub size: usize,
    /// Requests in flight per connection in max-throughput mode.
    pub depth: usize,
    /// Offered operations per second (open loop); `None` is max throughput (closed loop).
    pub rate: Option<u64>,
    pub secs: f64,
    /// Mostly idle connections: every connection is answered once before the window, then
    /// only this many of them carry the load and the rest stay open and silent.
    #[serde(default)]
    pub active: Option<usize>,
}

impl Case {
    /// A short, unique name: `echo 128B c100 max`, `http c100 d16 max`, `echo 128B c100 @50000/s`,
    /// `echo 128B c10000 a50 max` (50 active, the rest idle).
    pub fn key(&self) -> String {
        let mut k = match self.load {
            LoadKind::Echo => format!("echo {}B c{}", self.size, self.conns),
            LoadKind::Http => format!("http c{}", self.conns),
        };
        if let Some(a) = self.active {
            k.push_str(&format!(" a{a}"));
        }
        if self.depth > 1 {
            k.push_str(&format!(" d{}", self.depth));
        }
        match self.rate {
            Some(r) => k.push_str(&format!(" @{r}/s")),
            None => k.push_str(" max"),
        }
        k
    }
}

/// Servers that share a set of cases (the preset runs echo servers under echo loads and
/// HTTP servers under HTTP loads, in one report).
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub variants: Vec<Variant>,
    pub cases: Vec<Case>,
    /// The variant the ratios are taken against.
    pub baseline: String,
}
