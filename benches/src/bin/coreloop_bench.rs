//! `coreloop-bench`: run any TCP server (coreloop on io_uring and epoll, tokio, anything)
//! under the same echo or HTTP load and compare throughput, server CPU per op, latency,
//! syscalls and memory. `coreloop-bench --help` lists the flags; the README's "Benchmark
//! your own server" explains the columns. The pieces live in `coreloop_benches::bench`.

use clap::Parser;
use coreloop_benches::bench::{cli::Cli, html, report::table, run};

fn main() {
    let cli = Cli::parse();
    let plan = match cli.plan() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("coreloop-bench: error: {e}");
            std::process::exit(2);
        }
    };
    if let Some(addr) = cli.load_only {
        match run::load_only(addr, &plan.groups[0].cases[0]) {
            Ok(line) => println!("{line}"),
            Err(e) => {
                eprintln!("coreloop-bench: {addr}: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    let report = run::run_session(&plan, std::env::args().collect());
    print!("{}", table(&report, plan.rounds));
    if let Some(path) = &cli.json
        && let Err(e) = std::fs::write(path, report.to_json())
    {
        eprintln!("coreloop-bench: writing {}: {e}", path.display());
        std::process::exit(1);
    }
    if let Some(path) = &cli.html {
        if let Err(e) = std::fs::write(path, html::render(&report, plan.rounds)) {
            eprintln!("coreloop-bench: writing {}: {e}", path.display());
            std::process::exit(1);
        }
        println!("\nHTML report: {}", path.display());
    }
}
