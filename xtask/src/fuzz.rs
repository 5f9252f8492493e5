//! `cargo xtask fuzz [--seconds N] [--target NAME] [--sanitizer S]`: runs the cargo-fuzz targets of `fuzz/`
//! on the nightly toolchain, one at a time, each for N seconds (default 60), and records
//! executions and crashes per target in `docs/BENCHMARKS.md` (only between the fuzz markers)
//! and `docs/fuzz.json`; targets not run keep their previous rows.
//!
//! - cargo-fuzz is installed pinned ([`CARGO_FUZZ_VERSION`]) when missing or another version.
//! - Builds, the growing corpus (seeded from `fuzz/corpus/<target>`), crash artifacts and the
//!   full logs go to `$FUZZ_TARGET_DIR` (default `<cargo target dir>/fuzz`), never into the
//!   repository.
//! - One libFuzzer process per target (`--jobs 1`), with debug assertions (overflow checks)
//!   and no sanitizer by default: the code under test is safe Rust (`unsafe_code = "forbid"`)
//!   and ASan (`--sanitizer address`) costs about half the executions. libFuzzer stops at the
//!   first crash, whose input and message are reported.
//! - Fails when a target crashed, after writing the reports.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::util::{cargo, root, run};

/// cargo-fuzz version (built with the stable toolchain; it drives nightly builds).
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// The goal per target: this many executions without a crash.
const GOAL: u64 = 10_000_000;

/// Per-input time limit: a slower input is reported as a timeout.
const INPUT_TIMEOUT_SECS: u64 = 30;

/// The targets, in run order, with what each fuzzes.
const TARGETS: [(&str, &str); 4] = [
    ("mpp_authorization", "MPP `Authorization: Payment` (mpp::parse_authorization, gateway credential reading)"),
    ("x402_headers", "x402 v1 `X-PAYMENT` / v2 `PAYMENT-SIGNATURE` decoding, typed payloads, idempotency key"),
    ("surface_bodies", "every route: path params, query, credentials, JSON body (in-process app)"),
    ("config_loader", "`Config::load_from_str` + `compose` (TOML text, structured docs; secret redaction)"),
];

const START: &str = "<!-- fuzz:start -->";
const END: &str = "<!-- fuzz:end -->";

/// The outcome of one target's run.
#[derive(Clone, Debug)]
struct Outcome {
    target: String,
    what: String,
    seconds: u64,
    executions: u64,
    per_second: u64,
    crashes: u64,
    /// Where libFuzzer wrote the failing input, and the panic or sanitizer message.
    finding: Option<(String, String)>,
    date: String,
    sanitizer: String,
}

impl Outcome {
    fn met(&self) -> bool {
        self.crashes == 0 && self.executions >= GOAL
    }
}

/// Runs the command.
pub(crate) fn run_cmd(args: &[String]) -> Result<(), String> {
    let mut seconds = 60u64;
    let mut only: Option<String> = None;
    let mut sanitizer = "none".to_owned();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                seconds = it.next().and_then(|s| s.parse().ok()).filter(|&s| s > 0).ok_or("--seconds needs N > 0")?
            }
            "--target" => only = Some(it.next().ok_or("--target needs a name")?.clone()),
            "--sanitizer" => sanitizer = it.next().ok_or("--sanitizer needs none, address, …")?.clone(),
            other => {
                return Err(format!(
                    "unknown argument {other:?}; usage: cargo xtask fuzz [--seconds N] [--target NAME] [--sanitizer S]"
                ));
            }
        }
    }
    let selected: Vec<(&str, &str)> =
        TARGETS.iter().copied().filter(|(n, _)| only.as_deref().is_none_or(|o| o == *n)).collect();
    if selected.is_empty() {
        let names: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
        return Err(format!("no fuzz target {:?} (targets: {})", only.unwrap_or_default(), names.join(", ")));
    }
    install_cargo_fuzz()?;
    let dir = fuzz_target_dir();
    let toolchain = nightly_version();
    let mut outcomes = Vec::new();
    for (name, what) in selected {
        let outcome = fuzz_one(name, what, seconds, &sanitizer, &dir)?;
        eprintln!(
            "xtask fuzz: {name}: {} executions in {} s ({}/s), {} crash(es)",
            outcome.executions, outcome.seconds, outcome.per_second, outcome.crashes
        );
        outcomes.push(outcome);
    }
    let json_path = root().join("docs").join("fuzz.json");
    let previous = std::fs::read_to_string(&json_path).map(|t| read_json(&t)).unwrap_or_default();
    let mut all: Vec<Outcome> = Vec::new();
    for (name, _) in TARGETS {
        if let Some(o) =
            outcomes.iter().find(|o| o.target == name).or_else(|| previous.iter().find(|o| o.target == name))
        {
            all.push(o.clone());
        }
    }
    std::fs::write(&json_path, write_json(&all, &toolchain)).map_err(|e| format!("{}: {e}", json_path.display()))?;
    write_markdown(&all, &toolchain)?;
    eprintln!("xtask fuzz: wrote docs/BENCHMARKS.md and docs/fuzz.json");
    let crashed: Vec<&str> = outcomes.iter().filter(|o| o.crashes > 0).map(|o| o.target.as_str()).collect();
    if crashed.is_empty() { Ok(()) } else { Err(format!("fuzz targets crashed: {}", crashed.join(", "))) }
}

fn install_cargo_fuzz() -> Result<(), String> {
    let ok = Command::new("cargo-fuzz")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().any(|w| w == CARGO_FUZZ_VERSION));
    if ok {
        return Ok(());
    }
    run(cargo().args(["install", "cargo-fuzz", "--version", CARGO_FUZZ_VERSION, "--locked"]))
}

/// Where fuzz builds, corpora, artifacts and logs go.
fn fuzz_target_dir() -> PathBuf {
    std::env::var_os("FUZZ_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| crate::procs::target_dir().join("fuzz"))
}

/// `cargo +nightly …` through rustup, whatever toolchain runs xtask.
fn nightly() -> Command {
    let mut c = Command::new("cargo");
    c.arg("+nightly").env("RUSTUP_TOOLCHAIN", "nightly").env_remove("CARGO").current_dir(root());
    c
}

fn nightly_version() -> String {
    Command::new("rustc")
        .args(["+nightly", "--version"])
        .env("RUSTUP_TOOLCHAIN", "nightly")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "nightly".to_owned())
}

fn fuzz_one(name: &str, what: &str, seconds: u64, sanitizer: &str, dir: &Path) -> Result<Outcome, String> {
    let corpus = dir.join("corpus").join(name);
    let artifacts = dir.join("artifacts").join(name);
    let logs = dir.join("logs");
    for d in [&corpus, &artifacts, &logs] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    // Built first, so the fuzzing time below is fuzzing only.
    run(nightly().args(["fuzz", "build", name, "--sanitizer", sanitizer, "--target-dir"]).arg(dir))?;
    let seeds = root().join("fuzz").join("corpus").join(name);
    let mut cmd = nightly();
    cmd.args(["fuzz", "run", name, "--sanitizer", sanitizer, "--jobs", "1", "--target-dir"])
        .arg(dir)
        .arg(&corpus)
        .arg(&seeds)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-timeout={INPUT_TIMEOUT_SECS}"))
        .arg("-print_final_stats=1")
        .arg(format!("-artifact_prefix={}/", artifacts.display()));
    let log_path = logs.join(format!("{name}.log"));
    eprintln!("$ cargo +nightly fuzz run {name} … -max_total_time={seconds} (log: {})", log_path.display());
    let mut log = std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut child =
        cmd.stdout(Stdio::inherit()).stderr(Stdio::piped()).spawn().map_err(|e| format!("cargo fuzz: {e}"))?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut lines = Vec::new();
    let mut started: Option<Instant> = None;
    for line in BufReader::new(stderr).lines() {
        let line = line.map_err(|e| e.to_string())?;
        let _ = writeln!(log, "{line}");
        if started.is_none() && line.starts_with("INFO: Seed:") {
            started = Some(Instant::now());
        }
        // Progress (`#N NEW …`), new functions and the dictionary stay in the log.
        if !line.starts_with(['#', '\t', '"']) {
            eprintln!("{line}");
        }
        lines.push(line);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let Some(started) = started else {
        return Err(format!("{name}: libFuzzer did not start ({status}); see {}", log_path.display()));
    };
    let mut outcome = parse(&lines, name, what);
    outcome.sanitizer = sanitizer.to_owned();
    outcome.seconds = started.elapsed().as_secs().max(1);
    if outcome.per_second == 0 {
        outcome.per_second = outcome.executions / outcome.seconds;
    }
    if !status.success() && outcome.crashes == 0 {
        outcome.crashes = 1;
        outcome.finding.get_or_insert_with(|| (String::new(), format!("libFuzzer exited with {status}")));
    }
    Ok(outcome)
}

/// Reads libFuzzer's output: final stats, written artifacts and the first panic message.
fn parse(lines: &[String], name: &str, what: &str) -> Outcome {
    let stat =
        |key: &str| lines.iter().rev().find_map(|l| l.strip_prefix(key)).and_then(|v| v.trim().parse::<u64>().ok());
    let done = lines.iter().rev().find_map(|l| {
        let rest = l.strip_prefix("Done ")?;
        rest.split_whitespace().next()?.parse::<u64>().ok()
    });
    let executions = stat("stat::number_of_executed_units:").or(done).unwrap_or(0);
    let per_second = stat("stat::average_exec_per_sec:").unwrap_or(0);
    let artifacts: Vec<String> = lines
        .iter()
        .filter_map(|l| l.split_once("Test unit written to ").map(|(_, p)| p.trim().to_owned()))
        .filter(|p| {
            ["crash-", "leak-", "timeout-", "oom-"].iter().any(|k| p.rsplit('/').next().unwrap_or(p).starts_with(k))
        })
        .collect();
    let message = lines
        .iter()
        .position(|l| l.contains("panicked at"))
        .map(|i| lines[i..].iter().take(2).map(|l| l.trim()).collect::<Vec<_>>().join(" "))
        .or_else(|| lines.iter().find(|l| l.contains("ERROR: ")).map(|l| l.trim().to_owned()));
    Outcome {
        target: name.to_owned(),
        what: what.to_owned(),
        seconds: 0,
        executions,
        per_second,
        crashes: artifacts.len() as u64,
        finding: artifacts.first().map(|a| (a.clone(), message.unwrap_or_default())),
        date: today(),
        sanitizer: String::new(),
    }
}

/// `YYYY-MM-DD` (UTC) from the system clock.
fn today() -> String {
    civil(SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() / 86_400).unwrap_or(0))
}

/// The civil date `days` after 1970-01-01 (H. Hinnant's algorithm).
fn civil(days: u64) -> String {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `docs/fuzz.json`: one target object per line, so [`read_json`] can read it back.
fn write_json(all: &[Outcome], toolchain: &str) -> String {
    let rows: Vec<String> = all
        .iter()
        .map(|o| {
            let (artifact, message) = match &o.finding {
                Some((a, m)) => (format!("\"{}\"", escape(a)), format!("\"{}\"", escape(m))),
                None => ("null".to_owned(), "null".to_owned()),
            };
            format!(
                "    {{\"target\": \"{}\", \"what\": \"{}\", \"date\": \"{}\", \"sanitizer\": \"{}\", \"seconds\": {}, \"executions\": {}, \"executions_per_second\": {}, \"crashes\": {}, \"met\": {}, \"artifact\": {artifact}, \"message\": {message}}}",
                escape(&o.target),
                escape(&o.what),
                escape(&o.date),
                escape(&o.sanitizer),
                o.seconds,
                o.executions,
                o.per_second,
                o.crashes,
                o.met()
            )
        })
        .collect();
    format!(
        "{{\n  \"generated_by\": \"cargo xtask fuzz\",\n  \"toolchain\": \"{}\",\n  \"cargo_fuzz\": \"{CARGO_FUZZ_VERSION}\",\n  \"goal\": {{\"executions\": {GOAL}, \"crashes\": 0}},\n  \"targets\": [\n{}\n  ]\n}}\n",
        escape(toolchain),
        rows.join(",\n")
    )
}

/// The target rows of a `docs/fuzz.json` this module wrote.
fn read_json(text: &str) -> Vec<Outcome> {
    text.lines()
        .filter(|l| l.trim_start().starts_with("{\"target\""))
        .filter_map(|l| {
            let num = |k: &str| field(l, k).and_then(|v| v.parse::<u64>().ok());
            let finding = match (field(l, "artifact"), field(l, "message")) {
                (Some(a), m) => Some((a, m.unwrap_or_default())),
                _ => None,
            };
            Some(Outcome {
                target: field(l, "target")?,
                what: field(l, "what").unwrap_or_default(),
                date: field(l, "date").unwrap_or_default(),
                sanitizer: field(l, "sanitizer").unwrap_or_default(),
                seconds: num("seconds")?,
                executions: num("executions")?,
                per_second: num("executions_per_second")?,
                crashes: num("crashes")?,
                finding,
            })
        })
        .collect()
}

/// The value of `"key": …` in one JSON line: a string (unescaped) or a bare token; `None`
/// for `null` or when absent.
fn field(line: &str, key: &str) -> Option<String> {
    let rest = &line[line.find(&format!("\"{key}\": "))? + key.len() + 4..];
    if let Some(s) = rest.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return Some(out),
                '\\' => match chars.next()? {
                    'u' => {
                        let hex: String = chars.by_ref().take(4).collect();
                        out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    }
                    c => out.push(c),
                },
                c => out.push(c),
            }
        }
        return None;
    }
    let token: String = rest.chars().take_while(|c| !matches!(c, ',' | '}')).collect();
    (token.trim() != "null").then(|| token.trim().to_owned())
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Replaces the fuzz section of `docs/BENCHMARKS.md` (creating the file or the section).
fn write_markdown(all: &[Outcome], toolchain: &str) -> Result<(), String> {
    let path = root().join("docs").join("BENCHMARKS.md");
    let mut sanitizers: Vec<&str> = all.iter().map(|o| o.sanitizer.as_str()).collect();
    sanitizers.sort_unstable();
    sanitizers.dedup();
    let sanitizer = match sanitizers.as_slice() {
        [one] => format!("sanitizer: {one}"),
        _ => {
            let each: Vec<String> = all.iter().map(|o| format!("`{}` {}", o.target, o.sanitizer)).collect();
            format!("sanitizer: {}", each.join(", "))
        }
    };
    let mut body = format!(
        "Generated by `cargo xtask fuzz` ({toolchain}, cargo-fuzz {CARGO_FUZZ_VERSION}, debug assertions, {sanitizer}, \
         one libFuzzer process per target, run one after another on a 2-core machine). Seed corpora: \
         `fuzz/corpus/<target>`; minimised crashing inputs: `fuzz/regressions/<target>`. Goal per target: at least {} \
         executions without a crash.\n\n\
         | target | what it fuzzes | seconds | executions | executions/s | crashes | goal | met |\n\
         |---|---|---:|---:|---:|---:|---|---|\n",
        thousands(GOAL)
    );
    for o in all {
        body.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | ≥ 10M executions without a crash | {} |\n",
            o.target,
            o.what,
            o.seconds,
            thousands(o.executions),
            thousands(o.per_second),
            o.crashes,
            if o.met() { "yes" } else { "no" }
        ));
    }
    let findings: Vec<&Outcome> = all.iter().filter(|o| o.finding.is_some()).collect();
    if !findings.is_empty() {
        body.push_str("\nCrashes (libFuzzer stops at the first one):\n\n");
        for o in findings {
            let (artifact, message) = o.finding.as_ref().map(|(a, m)| (a.as_str(), m.as_str())).unwrap_or_default();
            let file = artifact.rsplit('/').next().unwrap_or(artifact);
            body.push_str(&format!("- `{}` ({}): `{file}`: {}\n", o.target, o.date, message.replace('`', "'")));
        }
    }
    let section = format!("{START}\n{body}{END}");
    let text = match std::fs::read_to_string(&path) {
        Ok(old) => match (old.find(START), old.find(END)) {
            (Some(s), Some(e)) if s < e => format!("{}{section}{}", &old[..s], &old[e + END.len()..]),
            _ => format!("{}\n\n## Fuzzing\n\n{section}\n", old.trim_end()),
        },
        Err(_) => format!(
            "# Benchmarks\n\nMeasurements on the project's machines (2 cores). Each section is generated by an xtask \
             command and replaced only between its own markers.\n\n## Fuzzing\n\n{section}\n"
        ),
    };
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzer_output() {
        let lines: Vec<String> = [
            "INFO: Seed: 1",
            "#1024\tpulse  cov: 10 ft: 20 corp: 3/30b exec/s: 512 rss: 40Mb",
            "thread '<unnamed>' panicked at fuzz_targets/x.rs:3:5:",
            "boom",
            "==1== ERROR: libFuzzer: deadly signal",
            "artifact_prefix='/t/a/'; Test unit written to /t/a/crash-abc",
            "stat::number_of_executed_units: 2048",
            "stat::average_exec_per_sec:     1024",
        ]
        .map(String::from)
        .to_vec();
        let o = parse(&lines, "x", "y");
        assert_eq!((o.executions, o.per_second, o.crashes), (2048, 1024, 1));
        let (artifact, message) = o.finding.unwrap();
        assert_eq!(artifact, "/t/a/crash-abc");
        assert!(message.contains("panicked at fuzz_targets/x.rs:3:5: boom"), "{message}");
    }

    #[test]
    fn json_round_trips() {
        let o = Outcome {
            target: "t".into(),
            what: "a \"quoted\" `thing`".into(),
            seconds: 5,
            executions: 10,
            per_second: 2,
            crashes: 1,
            finding: Some(("/a/crash-1".into(), "line\nnext".into())),
            date: "2025-01-02".into(),
            sanitizer: "none".into(),
        };
        let clean = Outcome { target: "u".into(), crashes: 0, finding: None, ..o.clone() };
        let back = read_json(&write_json(&[o.clone(), clean], "nightly"));
        assert_eq!(back.len(), 2);
        assert_eq!((back[0].what.as_str(), back[0].finding.clone()), (o.what.as_str(), o.finding.clone()));
        assert_eq!((back[1].target.as_str(), back[1].finding.is_none(), back[1].executions), ("u", true, 10));
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), "1970-01-01");
        assert_eq!(civil(19_723), "2024-01-01");
        assert_eq!(civil(19_782), "2024-02-29");
    }
}
