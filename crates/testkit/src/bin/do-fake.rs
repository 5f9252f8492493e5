//! `do-fake`: serves the fake DigitalOcean API until SIGTERM or SIGINT.
//!
//! ```text
//! do-fake [--listen 127.0.0.1:0] [--token TOKEN] [--transition-ms N] [--quiet]
//! ```
//! The token defaults to `$DO_FAKE_TOKEN`. The first stdout line is
//! `listening on http://HOST:PORT`; requests are logged to stderr unless `--quiet`.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use compute_testkit::do_fake::{FakeConfig, FakeState, serve_with};

const USAGE: &str = "usage: do-fake [--listen ADDR] [--token TOKEN] [--transition-ms N] [--quiet]";

struct Args {
    listen: String,
    token: String,
    transition_ms: u64,
    quiet: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        listen: "127.0.0.1:0".into(),
        token: std::env::var("DO_FAKE_TOKEN").unwrap_or_default(),
        transition_ms: 0,
        quiet: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| it.next()).ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => args.listen = value()?,
            "--token" => args.token = value()?,
            "--transition-ms" => args.transition_ms = value()?.parse().map_err(|e| format!("--transition-ms: {e}"))?,
            "--quiet" => args.quiet = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if args.token.is_empty() {
        return Err(format!("a token is required (--token or DO_FAKE_TOKEN)\n{USAGE}"));
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
            eprintln!("do-fake: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("do-fake: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    if writeln!(out, "listening on http://{addr}").and_then(|()| out.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    drop(out);
    let config = FakeConfig::new(args.token)
        .with_transition_delay(Duration::from_millis(args.transition_ms))
        .with_request_log(!args.quiet);
    match serve_with(listener, FakeState::new(config), shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("do-fake: {e}");
            ExitCode::FAILURE
        }
    }
}
