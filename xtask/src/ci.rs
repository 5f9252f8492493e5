//! `cargo xtask ci` and `cargo xtask demo`.

use std::process::Command;

use crate::tools;
use crate::util::{cargo, run as sh, succeeds};

/// The gateway's provider and rail features, each checked alone (`""` is none).
const GATEWAY_FEATURES: [&str; 6] = ["", "fly", "digitalocean", "tempo", "evm", "solana"];

/// Runs every check CI runs, in order, stopping at the first failure.
pub(crate) fn run() -> Result<(), String> {
    ensure_postgres()?;
    let tools = tools::install_all()?;
    sh(cargo().args(["fmt", "--all", "--", "--check"]))?;
    sh(cargo().args(["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"]))?;
    // Each provider and rail feature of the gateway on its own, and none, so no feature
    // leans on another (the workspace run above has them all together).
    for features in GATEWAY_FEATURES {
        sh(cargo()
            .args(["clippy", "-p", "compute-gateway", "--lib", "--bins", "--locked", "--no-default-features"])
            .args(["--features", features, "--", "-D", "warnings"]))?;
    }
    sh(cargo().args(["test", "--workspace", "--locked"]).env("OPENAPI_SPEC_VALIDATOR", &tools.openapi_validator))?;
    // Every optional dependency must be on disk for cargo-deny's offline metadata.
    sh(cargo().args(["fetch", "--locked"]))?;
    sh(cargo().args(["deny", "--offline", "check", "licenses", "bans", "sources"]))?;
    sh(cargo().args(["doc", "--workspace", "--no-deps", "--locked"]).env("RUSTDOCFLAGS", "-D warnings"))?;
    crate::e2e::run()?;
    // The benchmark with tiny counts, so its code cannot rot (the full run is `cargo xtask bench`).
    crate::bench::run(&["--smoke".to_owned()])?;
    eprintln!("xtask ci: all checks passed");
    Ok(())
}

/// The PostgreSQL tests need a server on 127.0.0.1:5432; start the local cluster if it is down.
pub(crate) fn ensure_postgres() -> Result<(), String> {
    let ready = || succeeds(Command::new("pg_isready").args(["-h", "127.0.0.1", "-p", "5432"]));
    if ready() {
        return Ok(());
    }
    eprintln!("PostgreSQL is not answering on 127.0.0.1:5432; starting the local cluster");
    let versions =
        std::fs::read_dir("/etc/postgresql").map_err(|e| format!("no PostgreSQL installation found: {e}"))?;
    for v in versions.flatten() {
        let version = v.file_name().to_string_lossy().into_owned();
        let _ = sh(Command::new("pg_ctlcluster").args(["--skip-systemctl-redirect", &version, "main", "start"]));
    }
    for _ in 0..30 {
        if ready() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    Err("PostgreSQL did not come up on 127.0.0.1:5432".into())
}
