//! Figures 4 and 5 of `cargo xtask bench` (issue 11):
//!
//! - **4**, x402 EIP-3009 verifications per core: `verify-bench` (an example of
//!   `compute-pay-evm`) verifies payloads signed beforehand through the Base rail's own
//!   `Payment::verify` on one thread, its chain reads answered by a loopback JSON-RPC stub;
//!   the peer is signature recovery alone on the same thread.
//! - **5**, expiry at scale: machines due over a minute, seeded in the Fly fake and the store by
//!   `expiry-scale seed` (an example of `compute-gateway`), are stopped by real
//!   `compute-gateway` processes (one on SQLite; two on one PostgreSQL database); `expiry-scale
//!   report` reads the fake's stop log and gives the lag from each `paid_until` to its stop
//!   call.
//!
//! Both examples print one JSON line, parsed here.

// Rates and seconds are measurements, not money: floats are right here.
#![allow(clippy::float_arithmetic, clippy::cast_precision_loss)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::bench::Figure;
use crate::procs::{Proc, free_port, wait_http};
use crate::util::{cargo, run as sh};

/// The Fly fake's token.
const FLY_TOKEN: &str = "bench-fly-token";

/// Sizes of one run.
struct Scale {
    /// Payloads verified (after a warm-up of `concurrency`).
    verifications: u32,
    /// Verifications in flight on the one thread.
    concurrency: u32,
    /// Machines due.
    machines: u32,
    /// Their `paid_until` spread, ms.
    spread_ms: u64,
    /// How long the report waits for stops after the last `paid_until`, ms.
    wait_ms: u64,
}

const FULL: Scale =
    Scale { verifications: 50_000, concurrency: 16, machines: 100_000, spread_ms: 60_000, wait_ms: 900_000 };
const SMOKE: Scale = Scale { verifications: 200, concurrency: 8, machines: 200, spread_ms: 5_000, wait_ms: 40_000 };

/// Figures 4 and 5 with the binaries of `bin` (the target profile folder), scratch files under
/// `work`. The full run builds the examples and the Fly fake optimised; the smoke run takes them
/// as `cargo test --workspace` built them, building only what is missing. `verify` and `expire`
/// say which of the two figures to measure.
pub(crate) fn figures(smoke: bool, bin: &Path, work: &Path, verify: bool, expire: bool) -> Result<Vec<Figure>, String> {
    let scale = if smoke { &SMOKE } else { &FULL };
    if !(verify || expire) {
        return Ok(Vec::new());
    }
    build(smoke, bin)?;
    let mut out = Vec::new();
    if verify {
        out.push(verification(scale, bin)?);
    }
    if !expire {
        return Ok(out);
    }
    let sqlite = work.join("expiry-sqlite").join("gateway.db");
    out.push(expiry(scale, bin, work, "one gateway on SQLite", &format!("sqlite://{}?mode=rwc", sqlite.display()), 1)?);
    crate::ci::ensure_postgres()?;
    let db = format!("cg_bench_expiry_{}", std::process::id());
    psql(&format!("DROP DATABASE IF EXISTS {db}"))?;
    psql(&format!("CREATE DATABASE {db}"))?;
    let url = format!("postgres://postgres@127.0.0.1:5432/{db}");
    let pg = expiry(scale, bin, work, "two gateways on one PostgreSQL", &url, 2);
    psql(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))?;
    out.push(pg?);
    Ok(out)
}

/// The two examples and the Fly fake (the gateway binary is `bench::run`'s): the full run builds
/// them optimised in one cargo call; the smoke run builds only what `cargo test --workspace` did
/// not.
fn build(smoke: bool, bin: &Path) -> Result<(), String> {
    let targets = [
        ("compute-pay-evm", "--example", "verify-bench", "examples/verify-bench"),
        ("compute-gateway", "--example", "expiry-scale", "examples/expiry-scale"),
        ("compute-testkit", "--bin", "fly-fake", "fly-fake"),
        ("compute-gateway", "--bin", "compute-gateway", "compute-gateway"),
    ];
    let mut cmd = cargo();
    cmd.args(["build", "--locked"]);
    if !smoke {
        cmd.arg("--release");
    }
    let mut any = false;
    for (package, kind, name, path) in targets {
        let built_by_run = !smoke && name == "compute-gateway";
        if built_by_run || (smoke && bin.join(path).exists()) {
            continue;
        }
        cmd.args(["-p", package, kind, name]);
        any = true;
    }
    if any { sh(&mut cmd) } else { Ok(()) }
}

/// Figure 4.
fn verification(scale: &Scale, bin: &Path) -> Result<Figure, String> {
    let line = example(Command::new(bin.join("examples/verify-bench")).args([
        "--count",
        &scale.verifications.to_string(),
        "--concurrency",
        &scale.concurrency.to_string(),
    ]))?;
    let (ours, floor) = (field(&line, "per_core")?, field(&line, "recover_per_core")?);
    Ok(Figure {
        name: format!(
            "x402 EIP-3009 verifications per core ({} payloads, one thread, chain reads from a loopback \
             JSON-RPC stub) vs signature recovery alone (verify/s)",
            field(&line, "verifications")?
        ),
        ours: format!("{ours:.0}"),
        peer: format!("{floor:.0}"),
        ratio: format!("{:.0} %", 100.0 * ours / floor),
        goal: "≥ 20k/s",
        met: Some(ours >= 20_000.0),
    })
}

/// Figure 5 on `database` with `gateways` replicas.
fn expiry(
    scale: &Scale,
    bin: &Path,
    work: &Path,
    setup: &str,
    database: &str,
    gateways: u32,
) -> Result<Figure, String> {
    let dir = work.join(if gateways == 1 { "expiry-sqlite" } else { "expiry-postgres" });
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let (_fake, fly) = {
        let mut cmd = Command::new(bin.join("fly-fake"));
        cmd.args(["--listen", "127.0.0.1:0", "--token", FLY_TOKEN, "--quiet"]);
        let (proc, line) = Proc::spawn_reading_line("fly-fake", &mut cmd)?;
        (proc, line.rsplit(' ').next().unwrap_or_default().to_owned())
    };
    // The replicas start (and migrate) one after the other, before the seed: each runs its
    // expiry worker on its own schedule, as in production.
    let mut replicas = Vec::new();
    for i in 0..gateways {
        replicas.push(start_gateway(bin, &dir, i, database, &fly)?);
    }
    let due = dir.join("due.txt");
    let n = scale.machines;
    let seeded = example(Command::new(bin.join("examples/expiry-scale")).args([
        "seed",
        "--database",
        database,
        "--fly",
        &fly,
        "--token",
        FLY_TOKEN,
        "--count",
        &n.to_string(),
        "--tenants",
        &n.div_ceil(100).to_string(),
        "--spread-ms",
        &scale.spread_ms.to_string(),
        "--out",
        &due.display().to_string(),
    ]))?;
    eprintln!("expiry ({setup}): seeded {seeded}");
    let report = example(Command::new(bin.join("examples/expiry-scale")).args([
        "report",
        "--fly",
        &fly,
        "--token",
        FLY_TOKEN,
        "--due",
        &due.display().to_string(),
        "--wait-ms",
        &scale.wait_ms.to_string(),
    ]))?;
    for r in replicas {
        r.terminate();
    }
    eprintln!("expiry ({setup}): {report}");
    if field(&report, "early")? > 0.0 {
        return Err(format!("expiry ({setup}) stopped machines before their paid_until: {report}"));
    }
    let stopped = field(&report, "stopped")?;
    let all = stopped >= f64::from(n);
    let p99 = field(&report, "p99_ms")?;
    let seconds = |key: &str| field(&report, key).map(|ms| format!("{:.2}", ms / 1000.0));
    let mut ours = format!("{} (p50 {}, max {})", seconds("p99_ms")?, seconds("p50_ms")?, seconds("max_ms")?);
    if !all {
        ours.push_str(&format!("; only {stopped} of {n} stopped within {} s", scale.wait_ms / 1000));
    }
    let duplicates = field(&report, "duplicates")?;
    if duplicates > 0.0 {
        ours.push_str(&format!("; {duplicates} repeated stop calls"));
    }
    Ok(Figure {
        name: format!(
            "expiry lag from paid_until to the stop call at the Fly fake, p99, {n} machines due over {} s, {setup} (s)",
            scale.spread_ms / 1000
        ),
        ours,
        peer: "—".into(),
        ratio: "—".into(),
        goal: "≤ 1 s",
        met: Some(all && p99 <= 1000.0),
    })
}

/// A gateway with only the Fly provider (at the fake) on `database`; `RUST_LOG=warn`.
fn start_gateway(bin: &Path, dir: &Path, i: u32, database: &str, fly: &str) -> Result<Proc, String> {
    let port = free_port()?;
    let config = dir.join(format!("gateway-{i}.toml"));
    let toml = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\ndata_dir = \"{data}\"\n\n[database]\nurl = \"{database}\"\n\n\
         [tenancy]\nsecret = \"bench-tenancy-secret-0123456789abcdef\"\n\n\
         [providers.fly]\ntoken = \"{FLY_TOKEN}\"\norg_slug = \"bench\"\nbase_url = \"{fly}\"\n",
        data = dir.join(format!("data-{i}")).display()
    );
    std::fs::write(&config, toml).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(bin.join("compute-gateway"));
    cmd.arg("--config").arg(&config).arg("serve").env("RUST_LOG", "warn");
    let proc = Proc::spawn("gateway", &mut cmd, &dir.join(format!("gateway-{i}.log")))?;
    wait_http(&format!("http://127.0.0.1:{port}/health"), Duration::from_secs(60))?;
    Ok(proc)
}

/// Runs an example to completion; its last stdout line.
fn example(cmd: &mut Command) -> Result<String, String> {
    let name = PathBuf::from(cmd.get_program()).file_name().map(|n| n.to_string_lossy().into_owned());
    let name = name.unwrap_or_default();
    let out = cmd.output().map_err(|e| format!("cannot run {name}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{name} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().last().map(str::to_owned).ok_or_else(|| format!("{name} printed nothing"))
}

/// The number at `"key":` in a flat JSON object line.
fn field(line: &str, key: &str) -> Result<f64, String> {
    let pattern = format!("\"{key}\":");
    let rest = line.split_once(&pattern).map(|(_, r)| r.trim_start()).ok_or_else(|| format!("no {key} in {line}"))?;
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().map_err(|_| format!("{key} is not a number in {line}"))
}

/// Runs `sql` on the local PostgreSQL server's `postgres` database.
fn psql(sql: &str) -> Result<(), String> {
    sh(Command::new("psql").args(["-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", sql]))
}
