//! Figures 1–2 of `cargo xtask bench`: 402 issuance (unpaid `GET /api/machines`, Tempo + Base
//! offers) in requests/s against (a) the mppx 0.11 Node server issuing the same Tempo challenge,
//! (b) a bare axum hello, (c) a bare axum answering the gateway's own 402 verbatim; the gateway's
//! own 404; RSS idle and peak after 1,000 concurrent connections hammering the 402. The load
//! generator is `oha` (pinned, from crates.io), on the same machine.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::{Figure, RECIPIENT, SECRET, number_after, quote};
use crate::procs::{Proc, free_port, wait_http};
use crate::util::{cargo, root, run as sh};

/// `oha` version installed by [`install_oha`].
const OHA_VERSION: &str = "1.16.0";

/// How hard to push.
struct Load {
    seconds: u32,
    connections: u32,
    hammer_connections: u32,
}

const FULL: Load = Load { seconds: 10, connections: 64, hammer_connections: 1000 };
const SMOKE: Load = Load { seconds: 1, connections: 4, hammer_connections: 50 };

/// Measures figures 1–2 with the binaries in `bin`, files in `work`; returns them with the
/// sentence saying how they were measured.
pub(super) fn figures(smoke: bool, bin: &Path, work: &Path) -> Result<(Vec<Figure>, String), String> {
    let load = if smoke { &SMOKE } else { &FULL };
    let oha = install_oha()?;
    let (gateway, g) = start_gateway(bin, work)?;
    std::thread::sleep(Duration::from_secs(1));
    let idle_kb = rss_kb(gateway.id(), "VmRSS")?;
    let captured = capture_402(&format!("{g}/api/machines"), work)?;
    let (_hello, hello) = start_peer(bin, &["hello"])?;
    let (_replay, replay) = start_peer(bin, &["replay", &captured.display().to_string()])?;
    let (_mppx, mppx) = start_mppx()?;

    let ours = rate(&oha, &format!("{g}/api/machines"), load, 402)?;
    let not_found = rate(&oha, &format!("{g}/no/such/route"), load, 404)?;
    let mppx_rate = rate(&oha, &mppx, load, 402)?;
    let hello_rate = rate(&oha, &hello, load, 200)?;
    let replay_rate = rate(&oha, &replay, load, 402)?;
    let hammer = Load { connections: load.hammer_connections, ..*load };
    rate(&oha, &format!("{g}/api/machines"), &hammer, 402)?;
    let peak_kb = rss_kb(gateway.id(), "VmHWM")?;
    gateway.terminate();
    let pct = |a: f64, b: f64| format!("{:.0} %", 100.0 * a / b);
    let figures = vec![
        Figure {
            name: "402 issuance vs mppx 0.11 Node server (req/s)".into(),
            ours: format!("{ours:.0}"),
            peer: format!("{mppx_rate:.0}"),
            ratio: format!("{:.1}×", ours / mppx_rate),
            goal: "faster",
            met: Some(ours > mppx_rate),
        },
        Figure {
            name: "402 issuance vs bare axum hello (req/s)".into(),
            ours: format!("{ours:.0}"),
            peer: format!("{hello_rate:.0}"),
            ratio: pct(ours, hello_rate),
            goal: "—",
            met: None,
        },
        Figure {
            name: "402 issuance vs bare axum answering the same 402 verbatim (req/s)".into(),
            ours: format!("{ours:.0}"),
            peer: format!("{replay_rate:.0}"),
            ratio: pct(ours, replay_rate),
            goal: "≥ 50 %",
            met: Some(ours * 2.0 >= replay_rate),
        },
        Figure::alone("the gateway's own 404 (req/s)", format!("{not_found:.0}"), "—", None),
        Figure::alone(
            "RSS idle (MB)",
            format!("{:.1}", idle_kb as f64 / 1024.0),
            "≤ 40 MB",
            Some(idle_kb <= 40 * 1024),
        ),
        Figure::alone(
            format!("RSS peak after {} concurrent connections on the 402 (MB)", load.hammer_connections),
            format!("{:.1}", peak_kb as f64 / 1024.0),
            "≤ 150 MB",
            Some(peak_kb <= 150 * 1024),
        ),
    ];
    let version =
        Command::new(&oha).arg("--version").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let note = format!(
        "Figures 1–2: the load generator ({}) on the same machine, {} s per figure, {} connections ({} for \
         the memory peak).",
        version.unwrap_or_else(|_| "oha".into()),
        load.seconds,
        load.connections,
        load.hammer_connections,
    );
    Ok((figures, note))
}

/// Installs the pinned `oha` into cargo's bin folder when missing; returns its name.
fn install_oha() -> Result<PathBuf, String> {
    let ok = Command::new("oha")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(OHA_VERSION));
    if !ok {
        sh(cargo().args(["install", "oha", "--version", OHA_VERSION, "--locked"]))?;
    }
    Ok(PathBuf::from("oha"))
}

/// A gateway with the Tempo and Base rails (their RPCs are never called for a 402) and Fly at a
/// closed port, so `GET /api/machines` answers the same 402 as in production.
fn start_gateway(bin: &Path, work: &Path) -> Result<(Proc, String), String> {
    let port = free_port()?;
    let config = work.join("gateway.toml");
    let toml = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\ndata_dir = \"{data}\"\n\n\
         [payments.tempo]\nrpc_url = \"http://127.0.0.1:9\"\nchain_id = 4217\nrecipient = \"{RECIPIENT}\"\n\
         realm = \"bench.local\"\nsecret_key = \"{SECRET}\"\n\n\
         [[payments.evm]]\nchain_id = 84532\nrpc_url = \"http://127.0.0.1:9\"\npay_to = \"{RECIPIENT}\"\n\
         signer_key = \"0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97\"\n\n\
         [providers.fly]\ntoken = \"bench\"\norg_slug = \"bench\"\nbase_url = \"http://127.0.0.1:9\"\n",
        data = work.join("data").display()
    );
    std::fs::write(&config, toml).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(bin.join("compute-gateway"));
    cmd.arg("--config").arg(&config).arg("serve").env("RUST_LOG", "warn");
    let proc = Proc::spawn("gateway", &mut cmd, &work.join("gateway.log"))?;
    let url = format!("http://127.0.0.1:{port}");
    wait_http(&format!("{url}/health"), Duration::from_secs(60))?;
    Ok((proc, url))
}

fn start_peer(bin: &Path, args: &[&str]) -> Result<(Proc, String), String> {
    let (proc, line) = Proc::spawn_reading_line(
        "bench-peer",
        Command::new(bin.join("examples").join("bench-peer")).args(["--listen", "127.0.0.1:0"]).args(args),
    )?;
    let url = line.rsplit(' ').next().unwrap_or_default().to_owned();
    Ok((proc, url))
}

fn start_mppx() -> Result<(Proc, String), String> {
    let (proc, line) = Proc::spawn_reading_line(
        "mppx server",
        Command::new("node")
            .arg("bench-mppx.mjs")
            .current_dir(root().join("e2e"))
            .env("RECIPIENT", RECIPIENT)
            .env("SECRET_KEY", SECRET),
    )?;
    let url = line.rsplit(' ').next().unwrap_or_default().to_owned();
    Ok((proc, url))
}

/// Saves the 402 at `url` (status, headers, body) as `bench-peer replay` reads it.
fn capture_402(url: &str, work: &Path) -> Result<PathBuf, String> {
    let out = Command::new("curl").args(["-s", "-i", url]).output().map_err(|e| format!("curl: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").ok_or("no 402 answer")?;
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).ok_or("no status line")?;
    if status != "402" {
        return Err(format!("{url} answered {status}, not 402"));
    }
    let skip = ["content-length", "date", "x-request-id"];
    let headers: Vec<String> = lines
        .filter_map(|l| l.split_once(": "))
        .filter(|(k, _)| !skip.contains(&k.to_ascii_lowercase().as_str()))
        .map(|(k, v)| format!("[{},{}]", quote(k), quote(v)))
        .collect();
    let file = work.join("captured-402.json");
    let json = format!("{{\"status\":402,\"headers\":[{}],\"body\":{}}}", headers.join(","), quote(body));
    std::fs::write(&file, json).map_err(|e| e.to_string())?;
    Ok(file)
}

/// Requests per second `oha` reaches on `url`; fails unless every answer has `status`.
fn rate(oha: &Path, url: &str, load: &Load, status: u16) -> Result<f64, String> {
    let out = Command::new(oha)
        .args(["--no-tui", "--output-format", "json", "-z"])
        .arg(format!("{}s", load.seconds))
        .arg("-c")
        .arg(load.connections.to_string())
        .arg(url)
        .output()
        .map_err(|e| format!("cannot run oha: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("oha on {url} failed: {}{text}", String::from_utf8_lossy(&out.stderr)));
    }
    let codes: String = section(&text, "\"statusCodeDistribution\"")
        .ok_or_else(|| format!("oha printed no status codes: {text}"))?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let only = format!("{{\"{status}\":");
    if !codes.starts_with(&only) || codes.matches(':').count() != 1 {
        return Err(format!("{url}: expected only {status} answers, got {codes}"));
    }
    let rps = number_after(&text, "\"requestsPerSec\":").ok_or_else(|| format!("no requestsPerSec in {text}"))?;
    if rps <= 0.0 {
        return Err(format!("{url}: no request completed"));
    }
    Ok(rps)
}

/// The `{…}` object after `key` in `text`.
fn section<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let rest = &text[text.find(key)? + key.len()..];
    let rest = rest.trim_start().strip_prefix(':')?;
    let end = rest.find('}')?;
    Some(&rest[..=end])
}

/// `field` (kB) of `/proc/<pid>/status`.
fn rss_kb(pid: u32, field: &str) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':')?.trim().strip_suffix(" kB")?.parse().ok())
        .ok_or_else(|| format!("no {field} for process {pid}"))
}
