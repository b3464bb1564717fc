//! `--preset reactor-ab`: the project's example servers on io_uring and epoll against their
//! tokio twins (current_thread and multi_thread), echo, HTTP and hyper, with the default sweep of
//! the old `reactor_ab` binary plus one fixed-rate case (the fair CPU comparison) and one case
//! of 10,000 mostly idle connections (RSS per connection). The echo cases also run the floor
//! (`floor_uring`: io_uring by hand, no runtime), so every run says how far each server is
//! from it.

use super::cli::Cli;
use super::spec::{Case, Group, LoadKind, ServerSpec};
use std::path::PathBuf;

/// The offered rate of the preset's fixed-rate case: below what every server sustains on
/// one CPU here, so CPU per op compares at equal work.
const PRESET_RATE: u64 = 20_000;
/// The mostly idle case: this many connections, each answered once, ...
const IDLE_CONNS: usize = 10_000;
/// ... then this many of them carry the load while the rest stay open and silent.
const IDLE_ACTIVE: usize = 50;

pub fn reactor_ab(cli: &Cli) -> Result<Vec<Group>, String> {
    let bins = match &cli.bin_dir {
        Some(d) => d.clone(),
        None => std::env::current_exe()
            .map_err(|e| format!("finding this program's directory: {e}"))?
            .parent()
            .map(PathBuf::from)
            .ok_or("this program has no directory")?,
    };
    let host = &cli.host;
    let bin = |rel: &str| -> Result<String, String> {
        let p = bins.join(rel);
        if p.is_file() {
            Ok(p.display().to_string())
        } else {
            Err(format!(
                "--preset reactor-ab needs {} (build it: cargo build --release --examples -p coreloop && cargo build --release -p coreloop-benches), or point --bin-dir at it",
                p.display()
            ))
        }
    };
    let spec = |name: &str, cmd: String| ServerSpec::parse(&format!("{name}={cmd}"));
    let group = |coreloop: &str, tokio: &str, prefix: &str, floor: bool, cases: Vec<Case>| {
        let mut servers = vec![
            spec(
                prefix,
                format!(
                    "{} --addr {host}:{{port}} --cores {{cores}}",
                    bin(coreloop)?
                ),
            )?,
            spec(
                &format!("tokio-{prefix}-ct"),
                format!("{} --addr {host}:{{port}} --flavor current", bin(tokio)?),
            )?,
            spec(
                &format!("tokio-{prefix}-mt"),
                format!("{} --addr {host}:{{port}} --flavor multi", bin(tokio)?),
            )?,
        ];
        if floor {
            servers.push(spec(
                "floor-uring",
                format!("{} --addr {host}:{{port}}", bin("floor_uring")?),
            )?);
        }
        let variants: Vec<_> = servers
            .iter()
            .flat_map(|s| s.variants(&cli.reactors))
            .collect();
        Ok::<_, String>(Group {
            baseline: format!("tokio-{prefix}-ct"),
            variants,
            cases,
        })
    };
    let case = |load, conns, size, depth, rate| Case {
        load,
        conns,
        size,
        depth,
        rate,
        secs: cli.secs,
        active: None,
    };
    let idle = Case {
        active: Some(IDLE_ACTIVE),
        ..case(LoadKind::Echo, IDLE_CONNS, 128, 1, None)
    };
    Ok(vec![
        group(
            "examples/echo",
            "tokio_echo",
            "echo",
            true,
            vec![
                case(LoadKind::Echo, 100, 128, 1, None),
                case(LoadKind::Echo, 100, 4096, 1, None),
                case(LoadKind::Echo, 1000, 128, 1, None),
                case(LoadKind::Echo, 100, 128, 1, Some(PRESET_RATE)),
                idle,
            ],
        )?,
        group(
            "examples/http",
            "tokio_http",
            "http",
            false,
            vec![
                case(LoadKind::Http, 100, 0, 1, None),
                case(LoadKind::Http, 100, 0, 16, None),
            ],
        )?,
        // hyper on coreloop (examples/hyper.rs, through the compat adapter) against hyper on
        // tokio (tokio_hyper): the cost of the adapter, as CPU per request. The fixed-rate
        // case compares at equal work.
        group(
            "examples/hyper",
            "tokio_hyper",
            "hyper",
            false,
            vec![
                case(LoadKind::Http, 100, 0, 1, None),
                case(LoadKind::Http, 100, 0, 1, Some(PRESET_RATE)),
            ],
        )?,
    ])
}
