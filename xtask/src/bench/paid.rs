//! Figures 3 and 6 of `cargo xtask bench`, on the e2e stack (anvil `--network tempo`, the Fly
//! fake, gateways of the bench's build), paid by the mppx library:
//!
//! - 3, paid-request overhead: `e2e/bench-paid.mjs` makes paid `POST /api/machines` one after
//!   another against a gateway on SQLite logging span timings (`--log-format json
//!   --log-span-timings`), then reads its log: per request, the `request` span's lifetime minus
//!   the time inside its chain RPC and `provider_call` spans; p50 and p99.
//! - 6, replay store under replicas: `e2e/bench-replay.mjs` sends every credential many times at
//!   once across two gateways on one PostgreSQL; settlements are counted on chain (the
//!   recipient's balance) and in the database (`payments` rows settled or later), and must both
//!   equal the number of credentials, as must the 200 answers.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::{Figure, RECIPIENT, SECRET, number_after};
use crate::e2e::{FLY_TOKEN, PgDatabase, Stack};
use crate::procs::{Proc, free_port, wait_http};
use crate::util::root;

/// How many paid requests.
struct Counts {
    /// Figure 3: paid machine creates.
    creates: u32,
    /// Figure 6: distinct credentials …
    credentials: u32,
    /// … each sent this many times.
    replays: u32,
}

const FULL: Counts = Counts { creates: 200, credentials: 50, replays: 20 };
const SMOKE: Counts = Counts { creates: 5, credentials: 3, replays: 4 };

/// Goal of figure 3: p99 of the gateway's own time on a paid create, in milliseconds.
const OVERHEAD_P99_GOAL_MS: f64 = 5.0;

/// Measures figures 3 and 6 with the gateway binary in `bin`, files in `work`; returns them
/// with the sentence saying how they were measured.
pub(super) fn figures(smoke: bool, bin: &Path, work: &Path) -> Result<(Vec<Figure>, String), String> {
    let counts = if smoke { &SMOKE } else { &FULL };
    let dir = work.join("stack");
    // A fresh stack: the gateways' data and logs of an earlier run would only get in the way.
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let stack = Stack::start(&dir, false)?;
    let overhead = overhead(&stack, bin, counts.creates)?;
    let storm = replay_storm(&stack, bin, counts)?;
    let figures = vec![
        Figure::alone(
            "paid machine create: the gateway's own time, p50 / p99 (ms)",
            format!("{:.2} / {:.2}", overhead.p50, overhead.p99),
            "p99 ≤ 5 ms",
            Some(overhead.p99 <= OVERHEAD_P99_GOAL_MS),
        ),
        Figure::alone(
            format!(
                "replay storm: {} credentials × {} across 2 gateways on PostgreSQL (req/s; settlements)",
                counts.credentials, counts.replays
            ),
            format!("{:.0}; {} settled on chain, {} in the DB, {} × 200", storm.rps, storm.chain, storm.db, storm.ok),
            "settlements = credentials",
            Some([storm.chain, storm.db, storm.ok].iter().all(|&n| n == u64::from(counts.credentials))),
        ),
    ];
    let note = format!(
        "Figure 3: {} paid creates one after another (mppx library; anvil `--network tempo`, the Fly \
         fake, SQLite); per request, its span's lifetime minus its chain RPC and provider spans \
         (means: request {:.2} ms, chain {:.2} ms, provider {:.2} ms). Figure 6: {} requests at once \
         from one Node process, in {:.2} s.",
        counts.creates,
        overhead.mean_request,
        overhead.mean_chain,
        overhead.mean_provider,
        counts.credentials * counts.replays,
        storm.seconds,
    );
    Ok((figures, note))
}

/// What `e2e/bench-paid.mjs` measured, in milliseconds.
struct Overhead {
    p50: f64,
    p99: f64,
    mean_request: f64,
    mean_chain: f64,
    mean_provider: f64,
}

/// Figure 3 on a gateway of its own (SQLite, JSON logs with span timings).
fn overhead(stack: &Stack, bin: &Path, creates: u32) -> Result<Overhead, String> {
    let gateway =
        BenchGateway::start(stack, bin, "gateway-bench-paid", None, &["--log-format", "json", "--log-span-timings"])?;
    let out = node(
        "bench-paid.mjs",
        Command::new("node")
            .env("GATEWAY_URL", &gateway.url)
            .env("RPC_URL", &stack.rpc)
            .env("GATEWAY_LOG", &gateway.log)
            .env("COUNT", creates.to_string()),
    );
    gateway.terminate();
    let out = out?;
    if out.integer("count")? != u64::from(creates) {
        return Err(format!("bench-paid.mjs measured another number of requests than {creates}: {}", out.line));
    }
    Ok(Overhead {
        p50: out.number("p50_ms")?,
        p99: out.number("p99_ms")?,
        mean_request: out.number("mean_request_ms")?,
        mean_chain: out.number("mean_chain_ms")?,
        mean_provider: out.number("mean_provider_ms")?,
    })
}

/// What the replay storm did.
struct Storm {
    rps: f64,
    seconds: f64,
    /// 200 answers.
    ok: u64,
    /// Settlements on chain: the recipient's balance rise over the price.
    chain: u64,
    /// Payments settled or later in the shared database.
    db: u64,
}

/// Figure 6 on two gateways of their own on a fresh PostgreSQL database.
fn replay_storm(stack: &Stack, bin: &Path, counts: &Counts) -> Result<Storm, String> {
    crate::ci::ensure_postgres()?;
    let db = PgDatabase::create()?;
    let a = BenchGateway::start(stack, bin, "gateway-bench-pg-a", Some(&db.url), &[])?;
    let b = BenchGateway::start(stack, bin, "gateway-bench-pg-b", Some(&db.url), &[])?;
    let out = node(
        "bench-replay.mjs",
        Command::new("node")
            .env("GATEWAY_PG_A", &a.url)
            .env("GATEWAY_PG_B", &b.url)
            .env("RPC_URL", &stack.rpc)
            .env("RECIPIENT", RECIPIENT)
            .env("CREDENTIALS", counts.credentials.to_string())
            .env("REPLAYS", counts.replays.to_string()),
    );
    let settled = settled_payments(&db.url);
    a.terminate();
    b.terminate();
    drop(db);
    let (out, db_count) = (out?, settled?);
    eprintln!("bench: replay storm {}", out.line);
    let (settled_units, price) = (out.integer("settled_units")?, out.integer("price_units")?);
    if price == 0 || settled_units % price != 0 {
        return Err(format!("the recipient rose by {settled_units} units, not a multiple of the price {price}"));
    }
    if out.integer("requests")? != u64::from(counts.credentials * counts.replays) {
        return Err(format!("bench-replay.mjs sent another number of requests: {}", out.line));
    }
    Ok(Storm {
        rps: out.number("rps")?,
        seconds: out.number("seconds")?,
        ok: out.integer("ok")?,
        chain: settled_units / price,
        db: db_count,
    })
}

/// A gateway process of the bench's build with only what the figures use: the Tempo rail on
/// the stack's chain and Fly on its fake.
struct BenchGateway {
    url: String,
    log: PathBuf,
    proc: Proc,
}

impl BenchGateway {
    /// Starts `bin`/compute-gateway named `name` (its data, config and log in the stack's work
    /// folder) on SQLite or the PostgreSQL `database`, with extra CLI `args`, at `info`.
    fn start(stack: &Stack, bin: &Path, name: &str, database: Option<&str>, args: &[&str]) -> Result<Self, String> {
        let port = free_port()?;
        let config = stack.work.join(format!("{name}.toml"));
        let database = database.map(|u| format!("[database]\nurl = \"{u}\"\n\n")).unwrap_or_default();
        let toml = format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\ndata_dir = \"{data}\"\n\n{database}\
             [payments.tempo]\nrpc_url = \"{rpc}\"\nchain_id = 1337\nrecipient = \"{RECIPIENT}\"\nrealm = \"bench.local\"\n\
             secret_key = \"{SECRET}\"\n\n\
             [providers.fly]\ntoken = \"{FLY_TOKEN}\"\norg_slug = \"bench\"\nbase_url = \"{fly}\"\n",
            data = stack.work.join(name).display(),
            rpc = stack.rpc,
            fly = stack.fly,
        );
        std::fs::write(&config, toml).map_err(|e| e.to_string())?;
        let log = stack.work.join(format!("{name}.log"));
        let mut cmd = Command::new(bin.join("compute-gateway"));
        cmd.arg("--config").arg(&config).args(args).arg("serve").env("RUST_LOG", "info");
        let proc = Proc::spawn(name, &mut cmd, &log)?;
        let url = format!("http://127.0.0.1:{port}");
        wait_http(&format!("{url}/health"), Duration::from_secs(60))?;
        Ok(BenchGateway { url, log, proc })
    }

    fn terminate(self) {
        self.proc.terminate();
    }
}

/// Payments whose transaction settled (`settled`, `delivered`, or credited back: `refunded`) in
/// the database at `url`.
fn settled_payments(url: &str) -> Result<u64, String> {
    let sql = "SELECT count(*) FROM payments WHERE status IN ('settled', 'delivered', 'refunded')";
    let out = Command::new("psql")
        .args([url, "-tA", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .map_err(|e| format!("psql: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("psql {sql:?}: {}", String::from_utf8_lossy(&out.stderr)));
    }
    text.trim().parse().map_err(|_| format!("psql printed {text:?} for {sql:?}"))
}

/// The JSON line a bench script printed last.
struct Printed {
    script: &'static str,
    line: String,
}

impl Printed {
    /// The number at `key`.
    fn number(&self, key: &str) -> Result<f64, String> {
        number_after(&self.line, &format!("\"{key}\":")).ok_or_else(|| self.missing(key))
    }

    /// The whole number at `key`, bare or as a JSON string (a BigInt).
    fn integer(&self, key: &str) -> Result<u64, String> {
        let (_, rest) = self.line.split_once(&format!("\"{key}\":")).ok_or_else(|| self.missing(key))?;
        let digits: String =
            rest.trim_start().trim_start_matches('"').chars().take_while(char::is_ascii_digit).collect();
        digits.parse().map_err(|_| self.missing(key))
    }

    fn missing(&self, key: &str) -> String {
        format!("{} printed no {key}: {}", self.script, self.line)
    }
}

/// Runs `script` of `e2e/` with `node` (`cmd`, its environment set); the last line it printed,
/// or its whole output in the error when it fails.
fn node(script: &'static str, cmd: &mut Command) -> Result<Printed, String> {
    let out = cmd.arg(script).current_dir(root().join("e2e")).output().map_err(|e| format!("cannot run node: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!("{script} failed: {stdout}{}", String::from_utf8_lossy(&out.stderr)));
    }
    let line = stdout.lines().last().unwrap_or_default().to_owned();
    Ok(Printed { script, line })
}
