//! `svm-shim`: serves the LiteSVM Solana JSON-RPC shim until SIGTERM or SIGINT.
//!
//! ```text
//! svm-shim [--listen 127.0.0.1:0] [--quiet]
//! ```
//! The first stdout line is `listening on http://HOST:PORT`; JSON-RPC methods are logged to
//! stderr unless `--quiet`. See `compute_testkit::svm_shim` for the methods and test hooks.

use std::io::Write;
use std::process::ExitCode;

use compute_testkit::svm_shim::{ChainConfig, ShimState, serve_with};

const USAGE: &str = "usage: svm-shim [--listen ADDR] [--quiet]";

struct Args {
    listen: String,
    quiet: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { listen: "127.0.0.1:0".into(), quiet: false };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        match flag.as_str() {
            "--listen" => args.listen = inline.or_else(|| it.next()).ok_or("--listen needs a value")?,
            "--quiet" => args.quiet = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(args)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => drop(tokio::signal::ctrl_c().await),
        }
    }
    #[cfg(not(unix))]
    drop(tokio::signal::ctrl_c().await);
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("svm-shim: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("svm-shim: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The chain (LiteSVM with the SPL programs) is built before the address is announced, so
    // a caller that read the line can use it at once.
    let state = ShimState::new(ChainConfig::default()).with_request_log(!args.quiet);
    let mut out = std::io::stdout().lock();
    if writeln!(out, "listening on http://{addr}").and_then(|()| out.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    drop(out);
    match serve_with(listener, state, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("svm-shim: {e}");
            ExitCode::FAILURE
        }
    }
}
