//! Project automation, run as `cargo xtask <command>`:
//!
//! - `ci`: everything CI checks — formatting, clippy (`-D warnings`), every test (SQLite and
//!   PostgreSQL), cargo-deny (licenses, bans, sources), rustdoc without warnings, then `e2e`.
//!   Installs the pinned tools it needs (cargo-deny, npm packages, a Python venv) first.
//! - `e2e`: the real stack (anvil, Fly fake, gateways) paid by the real clients.
//! - `tools`: only the tool installation step.
//! - `demo`: starts the local stack (anvil Tempo, Fly fake, gateway) and prints mppx commands.
//!
//! Deliberately dependency-free (std only) so it compiles in seconds.

mod bench;
mod bench_scale;
mod ci;
mod crash;
mod e2e;
mod fuzz;
mod megaeth;
mod procs;
mod svm;
mod tools;
mod util;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(),
        Some("tools") => tools::install_all().map(|_| ()),
        Some("demo") => e2e::demo(),
        Some("e2e") => e2e::run(),
        Some("fuzz") => fuzz::run_cmd(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <ci|e2e|tools|demo|bench [--smoke] [--only issuance,paid,verify,expiry]|fuzz [--seconds N] [--target NAME]>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
