//! `expiry-scale`: the two ends of the expiry-at-scale figure of `cargo xtask bench` (issue 11
//! § 5); between them, real `compute-gateway` processes run their expiry worker.
//!
//! ```text
//! expiry-scale seed --database URL --fly URL --token T --count N --tenants K \
//!     --spread-ms S --out FILE [--lead-ms L]
//! expiry-scale report --fly URL --token T --due FILE --wait-ms W
//! ```
//! `seed` spreads `N` started machines over `K` Fly apps of the fake (`POST
//! /__fake/seed-machines`, apps `cg-bench-…`, the gateway's default app prefix), then records
//! one running machine row per machine through [`Store::insert_resource`] (one row per call,
//! 16 at a time on PostgreSQL), in due order, with `paid_until` spread evenly over `S` ms. The
//! first `paid_until` is far enough ahead for every row to be written before it: the time of
//! the rows, measured on up to 1,000 inert probe rows first (stopped, without paid time, so
//! never due), half again, plus 3 s, and at least `L` ms. It writes `app machine
//! paid_until_ms` lines to `FILE` and fails if a row was written less than a second before its
//! own `paid_until`. JSON line: `{"seeded", "first_due_ms", "last_due_ms", "lead_ms",
//! "seed_ms", "min_slack_ms"}`.
//!
//! `report` reads the fake's stop log (`GET /__fake/stops`) until every machine of `FILE` was
//! stopped or `W` ms after the last `paid_until`, and prints the lag from each machine's
//! `paid_until` to its first stop call: `{"resources", "stopped", "duplicates", "early",
//! "p50_ms", "p99_ms", "max_ms"}` (`duplicates`: stop calls beyond the first; `early`: stops
//! before `paid_until`, both 0 when the worker is right).

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use compute_core::Usd;
use compute_core::provider::ProviderId;
use compute_store::{NewResource, ResourceKind, ResourceState, Store};
use futures::StreamExt;
use serde_json::{Value, json};

const USAGE: &str = "usage: expiry-scale seed --database URL --fly URL --token T --count N --tenants K \
                     --spread-ms S --out FILE [--lead-ms L]\n       \
                     expiry-scale report --fly URL --token T --due FILE --wait-ms W";

/// Rows written at once on PostgreSQL (SQLite has one writer).
const PG_CONCURRENCY: usize = 16;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("seed") => seed(&Flags::parse(&args[1..])).await,
        Some("report") => report(&Flags::parse(&args[1..])).await,
        _ => Err(USAGE.to_owned()),
    };
    match result.and_then(|line| writeln!(std::io::stdout(), "{line}").map_err(|e| e.to_string())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("expiry-scale: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--name value` pairs.
struct Flags(HashMap<String, String>);

impl Flags {
    fn parse(args: &[String]) -> Flags {
        let pairs = args.chunks(2).filter_map(|p| Some((p[0].strip_prefix("--")?.to_owned(), p.get(1)?.clone())));
        Flags(pairs.collect())
    }

    fn text(&self, name: &str) -> Result<&str, String> {
        self.0.get(name).map(String::as_str).ok_or_else(|| format!("--{name} is required\n{USAGE}"))
    }

    fn number(&self, name: &str) -> Result<u64, String> {
        self.text(name)?.parse().map_err(|e| format!("--{name}: {e}"))
    }
}

/// The fake's hooks.
struct Fake {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Fake {
    fn new(flags: &Flags) -> Result<Fake, String> {
        Ok(Fake {
            http: reqwest::Client::new(),
            url: flags.text("fly")?.to_owned(),
            token: flags.text("token")?.to_owned(),
        })
    }

    async fn call(&self, req: reqwest::RequestBuilder) -> Result<Value, String> {
        let resp = req.bearer_auth(&self.token).send().await.map_err(|e| format!("fly fake: {e}"))?;
        let status = resp.status();
        let body: Value = resp.json().await.map_err(|e| format!("fly fake answer: {e}"))?;
        if status.is_success() { Ok(body) } else { Err(format!("fly fake answered {status}: {body}")) }
    }
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

async fn seed(flags: &Flags) -> Result<String, String> {
    let started = Instant::now();
    let (count, tenants) = (flags.number("count")?, flags.number("tenants")?.max(1));
    let spread = i64::try_from(flags.number("spread-ms")?).map_err(|e| e.to_string())?;
    let fake = Fake::new(flags)?;
    let store = Store::connect(flags.text("database")?).await.map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    let concurrency = if flags.text("database")?.starts_with("sqlite") { 1 } else { PG_CONCURRENCY };

    // Machines: tenant t gets every `tenants`-th index, so due times interleave across apps.
    let mut machines: Vec<Option<(String, String)>> = vec![None; usize::try_from(count).map_err(|e| e.to_string())?];
    for t in 0..tenants {
        let indexes: Vec<usize> = (0..machines.len())
            .skip(usize::try_from(t).unwrap_or(0))
            .step_by(usize::try_from(tenants).unwrap_or(1))
            .collect();
        if indexes.is_empty() {
            continue;
        }
        let tenant = format!("bench-{t:05}");
        let body = json!({"app": format!("cg-{tenant}"), "count": indexes.len(), "org_slug": "bench"});
        let seeded = fake.call(fake.http.post(format!("{}/__fake/seed-machines", fake.url)).json(&body)).await?;
        let ids = seeded["ids"].as_array().ok_or("seed-machines answered no ids")?;
        for (i, id) in indexes.into_iter().zip(ids) {
            machines[i] = Some((tenant.clone(), id.as_str().unwrap_or_default().to_owned()));
        }
    }

    // The head start: the time the rows will take, from a probe of inert rows (stopped, no paid
    // time: never due), half again, plus 3 s; at least --lead-ms.
    let probe = machines.len().clamp(1, 1000);
    let timer = Instant::now();
    let probes: Vec<_> = (0..probe)
        .map(|k| Ok((row("bench-probe", &format!("probe-{k}"), None)?, None)))
        .collect::<Result<_, String>>()?;
    write_rows(&store, probes, concurrency).await?;
    let per_row_us = i64::try_from(timer.elapsed().as_micros() / probe as u128).unwrap_or(i64::MAX);
    let n = i64::try_from(machines.len()).map_err(|e| e.to_string())?.max(1);
    let min_lead = i64::try_from(flags.number("lead-ms").unwrap_or(0)).unwrap_or(0);
    let lead = min_lead.max(3_000 + n.saturating_mul(per_row_us) * 3 / 2 / 1000);
    let first_due = now_ms() + lead;
    let due = |i: usize| first_due + i64::try_from(i).unwrap_or(0) * spread / n;

    let mut rows = Vec::with_capacity(machines.len());
    for (i, m) in machines.iter().enumerate() {
        let (tenant, id) = m.as_ref().ok_or("a machine was not seeded")?;
        let paid_until = DateTime::<Utc>::from_timestamp_millis(due(i)).ok_or("paid_until out of range")?;
        rows.push((row(tenant, id, Some(paid_until))?, Some(due(i))));
    }
    let min_slack = write_rows(&store, rows, concurrency).await?;
    if min_slack < 1000 {
        return Err(format!(
            "seeding was too slow: a row was written {min_slack} ms before its paid_until; raise --lead-ms"
        ));
    }
    let lines: String = machines
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.as_ref().map(|(t, id)| format!("cg-{t} {id} {}\n", due(i))))
        .collect();
    std::fs::write(flags.text("out")?, lines).map_err(|e| format!("--out: {e}"))?;
    Ok(json!({
        "seeded": machines.len(),
        "first_due_ms": first_due,
        "last_due_ms": due(machines.len().saturating_sub(1)),
        "lead_ms": lead,
        "seed_ms": started.elapsed().as_millis(),
        "min_slack_ms": min_slack,
    })
    .to_string())
}

/// Writes `rows` through [`Store::insert_resource`], `concurrency` at a time; returns the least
/// time left between a row's write and its due time (ms; `i64::MAX` without due rows).
async fn write_rows(
    store: &Store,
    rows: impl IntoIterator<Item = (NewResource, Option<i64>)>,
    concurrency: usize,
) -> Result<i64, String> {
    let writes = rows.into_iter().map(|(row, due)| async move {
        store.insert_resource(row).await.map_err(|e| e.to_string())?;
        Ok::<i64, String>(due.map_or(i64::MAX, |d| d - now_ms()))
    });
    let slacks: Vec<Result<i64, String>> = futures::stream::iter(writes).buffer_unordered(concurrency).collect().await;
    slacks.into_iter().try_fold(i64::MAX, |least, s| Ok(least.min(s?)))
}

/// A Fly machine `id` of `tenant`, owned by the tenant's wallet: running and paid until
/// `paid_until`, or without paid time (stopped, never due).
fn row(tenant: &str, id: &str, paid_until: Option<DateTime<Utc>>) -> Result<NewResource, String> {
    let n: u64 = tenant.trim_start_matches("bench-").parse().unwrap_or(0);
    Ok(NewResource {
        kind: ResourceKind::Machine,
        owner: format!("0x{n:040x}").parse().map_err(|e: compute_core::Error| e.to_string())?,
        provider: ProviderId::Fly,
        provider_id: paid_until.map(|_| id.to_owned()),
        tenant: Some(tenant.to_owned()),
        name: format!("machine-{id}"),
        region: Some("sjc".into()),
        state: if paid_until.is_some() { ResourceState::Running } else { ResourceState::Stopped },
        spec: json!({"image": "nginx", "cpus": 1, "memory_mb": 256}),
        price: Usd::from_parts(1, 2),
        paid_until,
        payment_id: None,
    })
}

async fn report(flags: &Flags) -> Result<String, String> {
    let fake = Fake::new(flags)?;
    let text = std::fs::read_to_string(flags.text("due")?).map_err(|e| format!("--due: {e}"))?;
    let mut due: HashMap<(String, String), i64> = HashMap::new();
    for line in text.lines() {
        let mut f = line.split(' ');
        let (Some(app), Some(id), Some(at)) = (f.next(), f.next(), f.next()) else { continue };
        due.insert((app.to_owned(), id.to_owned()), at.parse().map_err(|e| format!("--due: {e}"))?);
    }
    let last_due = due.values().copied().max().ok_or("--due lists no machine")?;
    let deadline = last_due + i64::try_from(flags.number("wait-ms")?).map_err(|e| e.to_string())?;
    let mut first_stop: HashMap<(String, String), i64> = HashMap::new();
    let (mut seen, mut duplicates) = (0_u64, 0_u64);
    loop {
        let log = fake.call(fake.http.get(format!("{}/__fake/stops?since={seen}", fake.url))).await?;
        for s in log["stops"].as_array().ok_or("the stop log has no stops")? {
            seen += 1;
            let key = (
                s["app"].as_str().unwrap_or_default().to_owned(),
                s["machine"].as_str().unwrap_or_default().to_owned(),
            );
            if !due.contains_key(&key) {
                continue;
            }
            let at = s["at_ms"].as_i64().unwrap_or(i64::MAX);
            if first_stop.insert(key, at).is_some() {
                duplicates += 1;
            }
        }
        if first_stop.len() == due.len() || now_ms() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mut lags: Vec<i64> = first_stop.iter().map(|(k, at)| at - due[k]).collect();
    lags.sort_unstable();
    let pct = |q: u64| -> Value {
        let n = lags.len() as u64;
        if n == 0 {
            return Value::Null;
        }
        let rank = (n * q).div_ceil(100).max(1) - 1;
        json!(lags[usize::try_from(rank).unwrap_or(0)])
    };
    Ok(json!({
        "resources": due.len(),
        "stopped": lags.len(),
        "duplicates": duplicates,
        "early": lags.iter().filter(|l| **l < 0).count(),
        "p50_ms": pct(50),
        "p99_ms": pct(99),
        "max_ms": lags.last(),
    })
    .to_string())
}
