//! `cargo xtask bench [--smoke]`: the gateway's speed and memory against peers measured in the
//! same run (issue 11), written to `docs/BENCHMARKS.md` (between the `bench` markers) and
//! `docs/bench.json`. `--smoke` runs every step with tiny counts on the debug build, checks that
//! each figure was measured, and writes its report under the target folder instead: it runs in
//! `cargo xtask ci` so the bench cannot rot; goals are enforced by nobody, only reported.
//!
//! Figures (issue 11's numbering): 1–2, 402 issuance against peers and memory
//! ([`issuance`]); 3, paid-request overhead from tracing spans, and 6, the replay store under
//! two replicas on PostgreSQL ([`paid`], on the e2e stack); 4–5, EIP-3009 verification
//! throughput and expiry at scale (`crate::bench_scale`).

// Requests per second, milliseconds and megabytes are measurements, not money: floats are right
// here.
#![allow(clippy::float_arithmetic, clippy::cast_precision_loss)]

mod issuance;
mod paid;

use std::path::Path;

use crate::procs::target_dir;
use crate::util::{cargo, root, run as sh};

/// anvil dev account 9 (as in the e2e stack): the payTo and MPP recipient of every bench gateway.
const RECIPIENT: &str = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720";
/// The bench gateways' (and the mppx peer's) HMAC secret: a test value, at least 32 bytes.
const SECRET: &str = "bench-only-secret-0123456789abcdef0123456789";

/// One measured row of the table and of `docs/bench.json`.
pub(crate) struct Figure {
    /// What is measured, with its unit, e.g. `RSS idle (MB)`.
    pub(crate) name: String,
    /// The gateway's figure, formatted.
    pub(crate) ours: String,
    /// The peer or ceiling measured in the same run, or `—`.
    pub(crate) peer: String,
    /// ours against peer (`7.2×`, `16 %`), or `—`.
    pub(crate) ratio: String,
    /// The goal, or `—`.
    pub(crate) goal: &'static str,
    /// Whether the goal is met; `None` when there is no goal.
    pub(crate) met: Option<bool>,
}

impl Figure {
    /// A figure with no peer measured beside it.
    fn alone(name: impl Into<String>, ours: String, goal: &'static str, met: Option<bool>) -> Figure {
        Figure { name: name.into(), ours, peer: "—".into(), ratio: "—".into(), goal, met }
    }
}

/// The groups of figures `--only` can name, in run order.
const GROUPS: [&str; 4] = ["issuance", "paid", "verify", "expiry"];

/// Runs the benchmark; `args` may hold `--smoke` and `--only GROUP[,GROUP…]` (of [`GROUPS`]:
/// for iterating on some figures; such a run writes its report under the target folder, never
/// into `docs/`).
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let smoke = args.iter().any(|a| a == "--smoke");
    let only: Option<Vec<&str>> = args
        .iter()
        .position(|a| a == "--only")
        .map(|i| args.get(i + 1).map_or("", String::as_str).split(',').collect());
    if let Some(groups) = &only
        && let Some(bad) = groups.iter().find(|g| !GROUPS.contains(g))
    {
        return Err(format!("bench --only: unknown group {bad:?}; the groups are {}", GROUPS.join(", ")));
    }
    let wants = |group: &str| only.as_ref().is_none_or(|g| g.contains(&group));
    crate::tools::install_all()?;
    let profile = if smoke { "debug" } else { "release" };
    // The smoke run takes the binaries as `cargo test --workspace` builds them (nothing new to
    // compile in CI); the full run builds them optimised. The provider fakes of the e2e stack
    // are always the debug builds.
    sh(cargo().args(["test", "--workspace", "--locked", "--no-run"]))?;
    let peer = wants("issuance"); // the bench-peer example serves figure 1's peers
    if smoke {
        if peer {
            sh(cargo().args(["build", "--locked", "-p", "compute-gateway", "--example", "bench-peer"]))?;
        }
    } else {
        sh(cargo().args(["build", "--release", "--locked", "-p", "compute-gateway", "--bin", "compute-gateway"]))?;
        if peer {
            sh(cargo().args(["build", "--release", "--locked", "-p", "compute-gateway", "--example", "bench-peer"]))?;
        }
    }
    let bin = target_dir().join(profile);
    let work = target_dir().join(if smoke { "bench-smoke" } else { "bench" });
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;

    let (mut figures, mut notes) = (Vec::new(), Vec::new());
    if wants("issuance") {
        let (issued, note) = issuance::figures(smoke, &bin, &work)?;
        figures.extend(issued);
        notes.push(note);
    }
    if wants("paid") {
        let (paid, note) = paid::figures(smoke, &bin, &work)?;
        figures.extend(paid);
        notes.push(note);
    }
    figures.extend(crate::bench_scale::figures(smoke, &bin, &work, wants("verify"), wants("expiry"))?);
    let table = render(&figures, &notes, smoke);
    eprint!("{table}");
    if smoke || only.is_some() {
        std::fs::write(work.join("BENCHMARKS.md"), &table).map_err(|e| e.to_string())?;
        return Ok(());
    }
    write_between_markers(&root().join("docs/BENCHMARKS.md"), &table)?;
    std::fs::write(root().join("docs/bench.json"), json(&figures)).map_err(|e| e.to_string())
}

/// The generated section: how it was measured (`notes`, one sentence per group of figures), then
/// the table.
fn render(figures: &[Figure], notes: &[String], smoke: bool) -> String {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut out = format!(
        "Generated by `cargo xtask bench`{} on {cores} cores, the {} build. {}\n\n\
         | figure | ours | peer | ratio | goal | met |\n|---|---:|---:|---:|---|---|\n",
        if smoke { " --smoke (tiny counts: not a measurement)" } else { "" },
        if smoke { "debug" } else { "release" },
        notes.join(" "),
    );
    for f in figures {
        let met = match f.met {
            Some(true) => "yes",
            Some(false) => "no",
            None => "—",
        };
        out.push_str(&format!("| {} | {} | {} | {} | {} | {met} |\n", f.name, f.ours, f.peer, f.ratio, f.goal));
    }
    out
}

fn json(figures: &[Figure]) -> String {
    let rows: Vec<String> = figures
        .iter()
        .map(|f| {
            format!(
                "{{\"figure\":{},\"ours\":{},\"peer\":{},\"ratio\":{},\"goal\":{},\"met\":{}}}",
                quote(&f.name),
                quote(&f.ours),
                quote(&f.peer),
                quote(&f.ratio),
                quote(f.goal),
                f.met.map_or("null".to_owned(), |m| m.to_string())
            )
        })
        .collect();
    format!("[\n  {}\n]\n", rows.join(",\n  "))
}

/// Replaces the text between `<!-- bench:start -->` and `<!-- bench:end -->` in `file` (adding
/// the section when missing).
fn write_between_markers(file: &Path, table: &str) -> Result<(), String> {
    const START: &str = "<!-- bench:start -->\n";
    const END: &str = "<!-- bench:end -->";
    let text = std::fs::read_to_string(file).unwrap_or_else(|_| "# Benchmarks\n".into());
    let updated = match (text.find(START), text.find(END)) {
        (Some(s), Some(e)) if s < e => format!("{}{START}{table}{}", &text[..s], &text[e..]),
        _ => format!("{}\n## Speed and memory\n\n{START}{table}{END}\n", text.trim_end()),
    };
    std::fs::write(file, updated).map_err(|e| e.to_string())
}

/// A JSON string literal.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The number after `key` in `text` (a JSON number, followed by something).
fn number_after(text: &str, key: &str) -> Option<f64> {
    let rest = text[text.find(key)? + key.len()..].trim_start();
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+'))?;
    rest[..end].parse().ok()
}
