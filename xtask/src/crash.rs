//! The crash-recovery e2e case: for each crash point of the paid flow (`after-record`,
//! `after-broadcast`, `during-provider`), a gateway started with `GATEWAY_CRASH_AT`
//! is paid by the mppx library for a machine (`e2e/crash.mjs pay`), stops at the point, is
//! `kill -9`ed, restarted on the same data, and `e2e/crash.mjs check` waits until the payment
//! ended delivered, credited or never taken — none lost, none doubled.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::e2e::{Gateway, Launch, Stack};
use crate::procs::free_port;
use crate::util::root;

/// The crash points `compute_gateway::crash` defines, in the order of the paid flow.
const POINTS: [&str; 3] = ["after-record", "after-broadcast", "during-provider"];

/// How long the paying client may take to reach a crash point.
const REACH: Duration = Duration::from_secs(120);

/// Runs every crash point; the `(passed, failed)` counts of the checks.
pub(crate) fn run(stack: &Stack, env: &dyn Fn(&mut Command)) -> Result<(u32, u32), String> {
    let mut totals = (0, 0);
    for point in POINTS {
        eprintln!("== e2e: crash recovery at {point}");
        let (p, f) = one(stack, env, point)?;
        totals = (totals.0 + p, totals.1 + f);
    }
    Ok(totals)
}

fn one(stack: &Stack, env: &dyn Fn(&mut Command), point: &str) -> Result<(u32, u32), String> {
    let name = format!("gateway-crash-{point}");
    let port = free_port()?;
    let crash_env = [("GATEWAY_CRASH_AT", point)];
    let gateway = stack.launch(&Launch { port: Some(port), env: &crash_env, ..Launch::named(&name) })?;
    let state = stack.work.join(format!("crash-{point}.json"));
    let node = |mode: &str, url: &str| {
        let mut c = Command::new("node");
        c.arg("crash.mjs").arg(mode).arg(point);
        env(&mut c);
        c.current_dir(root().join("e2e")).env("GATEWAY_URL", url).env("CRASH_STATE", &state);
        c
    };
    let mut payer = node("pay", &gateway.url)
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run crash.mjs: {e}"))?;
    let log = Gateway::log_of(stack, &name);
    let reached = wait_for_line(&log, &format!("crash point reached: {point}"), REACH);
    gateway.kill9();
    let _ = payer.wait();
    if !reached {
        eprintln!("FAIL crash: the gateway never reached {point} (log {})", log.display());
        return Ok((0, 1));
    }
    let url = format!("http://127.0.0.1:{port}");
    let restarted = stack.launch(&Launch { port: Some(port), ..Launch::named(&name) })?;
    let out = node("check", &url).output().map_err(|e| format!("cannot run crash.mjs: {e}"))?;
    restarted.terminate();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    eprint!("{text}");
    Ok(crate::e2e::counts(&text))
}

/// Whether `path` came to contain `needle` within `within`.
fn wait_for_line(path: &std::path::Path, needle: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if std::fs::read_to_string(path).is_ok_and(|t| t.contains(needle)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}
