//! `cargo xtask e2e`: the real stack on this machine — anvil `--network tempo`, the Fly fake,
//! the gateway binary on SQLite, two gateway processes on one PostgreSQL — paid by the real
//! clients (mppx CLI and library, pympp) and, on a second anvil (chain 84532, Circle's real
//! USDC), by the x402 clients (@x402/fetch, x402-fetch, PyPI x402), on a third anvil (chain
//! 4326, MegaETH with Permit2 and USDm test doubles, see `megaeth.rs`) by @x402/evm through
//! Permit2, and on the LiteSVM shim (Solana, devnet USDC) by @x402/svm and PyPI x402's SVM
//! client. Test cases live in
//! `e2e/*.mjs` and `e2e/*.py`; each prints `N passed, N failed`; this prints the total last.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::procs::{Proc, free_port, target_dir, wait_http, wait_rpc};
use crate::tools;
use crate::util::{cargo, root, run as sh};

/// anvil dev account 9: receives payments (payTo / MPP recipient).
const RECIPIENT: &str = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720";
/// Challenge lifetime: under 25 s so pympp's transactions fit anvil's pre-T11 window.
const CHALLENGE_TTL_SECS: u64 = 20;
/// HMAC secret of the e2e gateways (test value, at least 32 bytes).
const SECRET: &str = "e2e-only-secret-0123456789abcdef0123456789";
/// The Fly fake's API token.
pub(crate) const FLY_TOKEN: &str = "fly-e2e-token";
const DO_TOKEN: &str = "do-e2e-token";
/// The MPP realm of the e2e gateways (not their host, so clients must pin it).
const REALM: &str = "compute-gateway.e2e";

/// The running local stack: anvil (Tempo), the Fly fake and gateway processes.
pub(crate) struct Stack {
    /// Gateway on SQLite.
    pub(crate) gateway: Gateway,
    /// Two gateways sharing one PostgreSQL database, when asked for.
    pub(crate) pg: Option<(Gateway, Gateway, PgDatabase)>,
    /// Tempo JSON-RPC URL.
    pub(crate) rpc: String,
    /// Fly fake base URL.
    pub(crate) fly: String,
    /// DigitalOcean fake base URL.
    pub(crate) digitalocean: String,
    /// x402: JSON-RPC URL of the Base Sepolia anvil (chain 84532, real USDC).
    pub(crate) base_rpc: String,
    /// x402 on MegaETH: JSON-RPC URL of the chain-4326 anvil (Permit2, proxy, USDm).
    pub(crate) megaeth_rpc: String,
    /// x402 on Solana: JSON-RPC URL of the LiteSVM shim.
    pub(crate) svm: String,
    /// The folder of the built binaries.
    pub(crate) bin: PathBuf,
    /// The folder of logs, configurations and gateway data.
    pub(crate) work: PathBuf,
    _anvil: Proc,
    _fly: Proc,
    _do: Proc,
    _base_anvil: Proc,
    _megaeth_anvil: Proc,
    _svm: Proc,
}

impl Stack {
    /// Builds the binaries and starts everything; `with_postgres` adds the two PostgreSQL gateways.
    pub(crate) fn start(work: &Path, with_postgres: bool) -> Result<Stack, String> {
        progress("installing the pinned tools (anvil, mppx, x402 clients, Python venv)");
        let tools = tools::install_all()?;
        progress("building the gateway and the provider fakes (the first build takes minutes)");
        // The binaries as `cargo test --workspace` builds them: the same feature set, so after
        // the test step nothing is compiled again.
        sh(cargo().args(["test", "--workspace", "--locked", "--no-run"]))?;
        let bin = target_dir().join("debug");
        std::fs::create_dir_all(work).map_err(|e| e.to_string())?;
        progress("starting anvil --network tempo, anvil with Base Sepolia USDC, the fakes and the LiteSVM shim");
        let rpc_port = free_port()?;
        let rpc = format!("http://127.0.0.1:{rpc_port}");
        let anvil = Proc::spawn(
            "anvil",
            // An explicit hardfork: with anvil 1.7.1's default, only a sender's first
            // expiring-nonce transaction is ever mined; with t4 every one is.
            Command::new(&tools.anvil).args([
                "--network",
                "tempo",
                "--hardfork",
                "t4",
                "--chain-id",
                "1337",
                "--host",
                "127.0.0.1",
                "--port",
                &rpc_port.to_string(),
            ]),
            &work.join("anvil.log"),
        )?;
        wait_rpc(&rpc, Duration::from_secs(30))?;
        let (base_anvil, base_rpc) = start_base_chain(&tools.anvil, work)?;
        let (megaeth_anvil, megaeth_rpc) = crate::megaeth::start_megaeth_chain(&tools.anvil, work)?;
        let (fly_proc, line) = Proc::spawn_reading_line(
            "fly-fake",
            Command::new(bin.join("fly-fake")).args(["--listen", "127.0.0.1:0", "--token", FLY_TOKEN]),
        )?;
        let fly = line.rsplit(' ').next().unwrap_or_default().to_owned();
        if !fly.starts_with("http://") {
            return Err(format!("fly-fake printed {line:?}"));
        }
        // Droplets become active, and actions complete, after 300 ms: clients poll as they
        // would against DigitalOcean.
        let (do_proc, line) = Proc::spawn_reading_line(
            "do-fake",
            Command::new(bin.join("do-fake")).args([
                "--listen",
                "127.0.0.1:0",
                "--token",
                DO_TOKEN,
                "--transition-ms",
                "300",
            ]),
        )?;
        let digitalocean = line.rsplit(' ').next().unwrap_or_default().to_owned();
        if !digitalocean.starts_with("http://") {
            return Err(format!("do-fake printed {line:?}"));
        }
        let (svm_proc, svm) = crate::svm::start_svm_shim(&bin, work)?;
        crate::svm::fund_svm_accounts(&svm)?;
        let mut stack = Stack {
            gateway: Gateway { url: String::new(), proc: None },
            pg: None,
            rpc,
            fly,
            digitalocean,
            base_rpc,
            megaeth_rpc,
            svm,
            bin,
            work: work.to_owned(),
            _anvil: anvil,
            _fly: fly_proc,
            _do: do_proc,
            _base_anvil: base_anvil,
            _megaeth_anvil: megaeth_anvil,
            _svm: svm_proc,
        };
        progress("starting the gateway on SQLite");
        stack.gateway = stack.launch(&Launch::named("gateway-sqlite"))?;
        if with_postgres {
            crate::ci::ensure_postgres()?;
            let db = PgDatabase::create()?;
            let a = stack.launch(&Launch { database: Some(&db.url), ..Launch::named("gateway-pg-a") })?;
            let b = stack.launch(&Launch { database: Some(&db.url), ..Launch::named("gateway-pg-b") })?;
            stack.pg = Some((a, b, db));
        }
        Ok(stack)
    }

    /// Starts a gateway process on this stack's chains and Fly fake.
    pub(crate) fn launch(&self, launch: &Launch<'_>) -> Result<Gateway, String> {
        Gateway::start(self, launch)
    }
}

/// How to start one gateway process.
pub(crate) struct Launch<'a> {
    /// Process name; also names its data folder, configuration and log in the work folder.
    pub(crate) name: &'a str,
    /// A PostgreSQL URL (default: SQLite in its data folder).
    pub(crate) database: Option<&'a str>,
    /// The port to listen on (default: a free one).
    pub(crate) port: Option<u16>,
    /// Extra environment variables.
    pub(crate) env: &'a [(&'a str, &'a str)],
}

impl<'a> Launch<'a> {
    /// A SQLite gateway on a free port.
    pub(crate) fn named(name: &'a str) -> Self {
        Launch { name, database: None, port: None, env: &[] }
    }
}

/// Runs the suite; fails when any case fails.
pub(crate) fn run() -> Result<(), String> {
    let tools = tools::install_all()?;
    let work = target_dir().join(format!("e2e-{}", std::process::id()));
    let stack = Stack::start(&work, true)?;
    let (pg_a, pg_b) = stack.pg.as_ref().map(|(a, b, _)| (a.url.clone(), b.url.clone())).unwrap_or_default();
    let env = |c: &mut Command| {
        c.current_dir(root().join("e2e"))
            .env("GATEWAY_URL", &stack.gateway.url)
            .env("GATEWAY_PG_A", &pg_a)
            .env("GATEWAY_PG_B", &pg_b)
            .env("RPC_URL", &stack.rpc)
            .env("FLY_FAKE_URL", &stack.fly)
            .env("FLY_TOKEN", FLY_TOKEN)
            .env("DO_FAKE_URL", &stack.digitalocean)
            .env("DO_TOKEN", DO_TOKEN)
            .env("RECIPIENT", RECIPIENT)
            .env("CHALLENGE_TTL_SECS", CHALLENGE_TTL_SECS.to_string())
            .env("MPPX_BIN", root().join("e2e/node_modules/.bin/mppx"));
        x402_env(c, &stack.base_rpc);
        crate::megaeth::megaeth_env(c, &stack.megaeth_rpc);
        crate::svm::svm_env(c, &stack.svm);
    };
    let mut totals = (0u32, 0u32);
    let mut outcome = Ok(());
    let mut node = Command::new("node");
    node.arg("mpp.mjs");
    let mut python = Command::new(&tools.python);
    python.arg("pympp_pay.py");
    let mut hardening = Command::new("node");
    hardening.arg("hardening.mjs");
    let mut silovps = Command::new("node");
    silovps.arg("silovps.mjs");
    let mut suites = vec![
        ("mpp (mppx CLI and library)", node),
        ("pympp", python),
        ("hardening (mppx library)", hardening),
        ("silovps and /api/do (mppx CLI and library)", silovps),
    ];
    let mut schema = Command::new(&tools.python);
    schema.arg("schema.py");
    // First, on a quiet stack: it counts every request the provider fakes get.
    suites.insert(0, ("schemathesis on /openapi.json (no payment)", schema));
    suites.extend(x402_suites(&tools.python));
    suites.push(crate::megaeth::megaeth_suite());
    let mut mixed = Command::new("node");
    mixed.arg("mixed.mjs");
    suites.push(("one 402, four rails (mppx, @x402/fetch on Base, Solana, MegaETH)", mixed));
    let only = Only::from_env();
    for (name, mut cmd) in suites.into_iter().filter(|(name, cmd)| only.wants(name, cmd)) {
        env(&mut cmd);
        eprintln!("== e2e: {name}");
        let out = cmd.output().map_err(|e| format!("cannot run {name}: {e}"))?;
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        eprint!("{text}");
        let (p, f) = counts(&text);
        totals = (totals.0 + p, totals.1 + f);
        if !out.status.success() || f > 0 || p == 0 {
            outcome = Err(format!("e2e suite {name:?} failed (logs in {})", work.display()));
        }
    }
    let crash = if only.wants_crash() { crate::crash::run(&stack, &env) } else { Ok((0, 0)) };
    match crash {
        Ok((p, f)) if only.wants_crash() => {
            totals = (totals.0 + p, totals.1 + f);
            if f > 0 || p == 0 {
                outcome = Err(format!("e2e crash recovery failed (logs in {})", work.display()));
            }
        }
        Ok(_) => {}
        Err(e) => outcome = Err(e),
    }
    let Stack { gateway, pg, .. } = stack;
    gateway.terminate();
    if let Some((a, b, db)) = pg {
        a.terminate();
        b.terminate();
        drop(db);
    }
    #[allow(clippy::print_stdout)] // The closing line CI reads.
    {
        println!("e2e: {} passed, {} failed", totals.0, totals.1);
    }
    outcome
}

/// `E2E_ONLY=svm.mjs,crash`: runs only the suites whose script name (or `crash`, for crash
/// recovery) is listed, to iterate on one suite; unset or empty runs everything.
struct Only(Vec<String>);

impl Only {
    fn from_env() -> Self {
        let list = std::env::var("E2E_ONLY").unwrap_or_default();
        Only(list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
    }

    fn wants(&self, name: &str, cmd: &Command) -> bool {
        self.0.is_empty()
            || self.0.iter().any(|o| name.contains(o.as_str()) || cmd.get_args().any(|a| a.to_string_lossy() == *o))
    }

    fn wants_crash(&self) -> bool {
        self.0.is_empty() || self.0.iter().any(|o| o == "crash")
    }
}

/// One line of progress on stderr while the stack starts.
fn progress(step: &str) {
    eprintln!("==> {step}…");
}

/// anvil dev account 2: the demo's paying wallet (funded with pathUSD by `anvil --network tempo`).
const DEMO_KEY: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

/// `cargo xtask demo`: the same local stack for a person, until Ctrl-C. It first makes one
/// paid call with the mppx CLI and prints it, so the main job is seen working.
pub(crate) fn demo() -> Result<(), String> {
    let work = target_dir().join("demo");
    let stack = Stack::start(&work, false)?;
    let g = &stack.gateway.url;
    let mppx = root().join("e2e/node_modules/.bin/mppx");
    progress(&format!("paying GET {g}/api/machines ($0.001) with the mppx CLI"));
    let paid = Command::new(&mppx)
        .args([&format!("{g}/api/machines"), "-i"])
        .env("MPPX_RPC_URL", &stack.rpc)
        .env("MPPX_PRIVATE_KEY", DEMO_KEY)
        .output()
        .map_err(|e| format!("cannot run mppx: {e}"))?;
    let answer = String::from_utf8_lossy(&paid.stdout);
    let last = answer.rsplit("HTTP/1.1 ").next().unwrap_or_default();
    eprintln!("HTTP/1.1 {}", last.trim());
    if !last.starts_with("200") {
        return Err(format!("the demo's paid call failed:\n{answer}{}", String::from_utf8_lossy(&paid.stderr)));
    }
    eprintln!(
        "\nLocal stack up (logs in {}):\n  gateway   {g}\n  tempo RPC {}\n  Fly fake  {}\n  DigitalOcean fake {}\n\n\
         Pay with the mppx CLI from an anvil dev account:\n\n\
         export MPPX_RPC_URL={} MPPX_PRIVATE_KEY={DEMO_KEY}\n\
         {m} {g}/api/machines -J '{{\"name\":\"my-server\",\"region\":\"sjc\",\"config\":{{\"image\":\"ubuntu:latest\",\"init\":{{\"cmd\":[\"sleep\",\"infinity\"]}},\"guest\":{{\"cpu_kind\":\"shared\",\"cpus\":1,\"memory_mb\":512}}}}}}'\n\
         {m} {g}/api/machines/<id>/exec -J '{{\"command\":[\"ls\",\"-la\"]}}'\n\
         {m} {g}/api/machines/<id>/stop -X POST\n\
         {m} {g}/api/machines/<id> -X DELETE\n\n\
         The SiloVPS workflow on the DigitalOcean fake:\n\n\
         curl {g}/v1/catalog/sizes\n\
         {m} {g}/v1/servers -J '{{\"size\":\"small\",\"region\":\"nyc1\",\"image\":\"ubuntu-24-04-x64\",\"minutes\":20}}'\n\
         {m} {g}/v1/servers/<srv_id>            # IP, root password, remaining time (a zero-amount proof)\n\
         {m} {g}/v1/servers/<srv_id>/extend -J '{{\"minutes\":1}}'\n\
         {m} {g}/v1/servers/<srv_id> -X DELETE  # snapshot kept 72 h\n\nCtrl-C stops everything.",
        work.display(),
        stack.rpc,
        stack.fly,
        stack.digitalocean,
        stack.rpc,
        m = mppx.display()
    );
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// Reads the last `N passed, N failed` line of a suite's output.
pub(crate) fn counts(text: &str) -> (u32, u32) {
    text.lines()
        .rev()
        .find_map(|l| {
            let l = l.trim();
            let (p, rest) = l.split_once(" passed, ")?;
            let f = rest.split_whitespace().next()?;
            Some((p.rsplit(' ').next()?.parse().ok()?, f.parse().ok()?))
        })
        .unwrap_or((0, 1))
}

/// A gateway process.
pub(crate) struct Gateway {
    /// Base URL.
    pub(crate) url: String,
    proc: Option<Proc>,
}

impl Gateway {
    fn start(stack: &Stack, launch: &Launch<'_>) -> Result<Gateway, String> {
        let name = launch.name;
        let port = match launch.port {
            Some(p) => p,
            None => free_port()?,
        };
        let data = stack.work.join(name);
        let config = stack.work.join(format!("{name}.toml"));
        let database = launch.database.map(|u| format!("[database]\nurl = \"{u}\"\n")).unwrap_or_default();
        let toml = format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\ndata_dir = \"{data}\"\n{database}\n\
             [payments.tempo]\nrpc_url = \"{rpc}\"\nchain_id = 1337\nrecipient = \"{RECIPIENT}\"\nrealm = \"{REALM}\"\n\
             secret_key = \"{SECRET}\"\nchallenge_ttl_secs = {CHALLENGE_TTL_SECS}\n\n\
             [providers.fly]\ntoken = \"{FLY_TOKEN}\"\norg_slug = \"e2e\"\nbase_url = \"{fly}\"\n\
             [providers.digitalocean]\ntoken = \"{DO_TOKEN}\"\nbase_url = \"{digitalocean}\"\n{base}{megaeth}{solana}",
            data = data.display(),
            rpc = stack.rpc,
            fly = stack.fly,
            digitalocean = stack.digitalocean,
            base = base_config(&stack.base_rpc),
            megaeth = crate::megaeth::megaeth_config(&stack.megaeth_rpc),
            solana = solana_config(&stack.svm),
        );
        std::fs::write(&config, toml).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(stack.bin.join("compute-gateway"));
        cmd.arg("--config").arg(&config).arg("serve").env("RUST_LOG", "info");
        for (k, v) in launch.env {
            cmd.env(k, v);
        }
        let proc = Proc::spawn(name, &mut cmd, &Self::log_of(stack, name))?;
        let url = format!("http://127.0.0.1:{port}");
        wait_http(&format!("{url}/health"), Duration::from_secs(60))?;
        Ok(Gateway { url, proc: Some(proc) })
    }

    /// Where the process `name` of `stack` logs (appended to across restarts).
    pub(crate) fn log_of(stack: &Stack, name: &str) -> PathBuf {
        stack.work.join(format!("{name}.log"))
    }

    /// Stops the process with SIGTERM.
    pub(crate) fn terminate(mut self) {
        if let Some(p) = self.proc.take() {
            p.terminate();
        }
    }

    /// Kills the process with SIGKILL, as a crash would.
    pub(crate) fn kill9(mut self) {
        if let Some(p) = self.proc.take() {
            p.kill9();
        }
    }
}

/// A PostgreSQL database for the two-process case, dropped at the end.
pub(crate) struct PgDatabase {
    /// Its URL (trust authentication, user `postgres`).
    pub(crate) url: String,
    name: String,
}

impl PgDatabase {
    /// Creates a fresh database named after this process (dropping a leftover one first).
    pub(crate) fn create() -> Result<PgDatabase, String> {
        let name = format!("cg_e2e_{}", std::process::id());
        psql(&format!("DROP DATABASE IF EXISTS {name}"))?;
        psql(&format!("CREATE DATABASE {name}"))?;
        Ok(PgDatabase { url: format!("postgres://postgres@127.0.0.1:5432/{name}"), name })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = psql(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

fn psql(sql: &str) -> Result<(), String> {
    let out = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .map_err(|e| format!("psql: {e}"))?;
    if out.status.success() { Ok(()) } else { Err(format!("psql {sql:?}: {}", String::from_utf8_lossy(&out.stderr))) }
}

// ---- x402: the Base rail on a second anvil (chain 84532) with Circle's real USDC ----

/// Account 15 of anvil's test mnemonic: receives x402 payments (`payTo`).
const BASE_PAY_TO: &str = "0xcd3B766CCDd6AE721141F452C550Ca635964ce71";
/// anvil dev account 8: the Base rail's settlement key (submits `transferWithAuthorization`,
/// pays the gas).
const BASE_SIGNER_KEY: &str = "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97";
const BASE_SETTLER: &str = "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f";
/// Accounts 10..14 of anvil's test mnemonic: the x402 payers of `e2e/x402.mjs` and
/// `e2e/x402_pay.py`, and account 21, e2e/mixed.mjs's (not 1..7, which the MPP suites use: a
/// wallet owns its machines on every rail).
const BASE_PAYERS: &str = "0xBcd4042DE499D14e55001CcbB24a551F3b954096,0x71bE63f3384f5fb98995898A86B02Fb2426c5788,\
                           0xFABB0ac9d68B0B445fB7357272Ff202C5651694a,0x1CBd3b2770909D4e10f157cABC84C7264073C9Ec,\
                           0xdF3e18d64BC6A983f673Ab319CCaE4f1a57C7097,0x02484cb50AAC86Eae85610D6f4Bf026f30f6627D";
/// Account 21 of anvil's test mnemonic: e2e/mixed.mjs's Base payer (the last of [`BASE_PAYERS`]).
const MIXED_BASE_KEY: &str = "0xc511b2aa70776d4ff1d376e8537903dae36896132c90b91d52c1dfbae267cd8b";

/// Starts anvil with chain id 84532, installs FiatTokenV2_2 at the Base Sepolia USDC address
/// (`e2e/deploy-usdc.mjs`) and mints 100 USDC to each payer; returns the process and its URL.
fn start_base_chain(anvil: &Path, work: &Path) -> Result<(Proc, String), String> {
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let proc = Proc::spawn(
        "anvil-base",
        Command::new(anvil).args(["--chain-id", "84532", "--host", "127.0.0.1", "--port", &port.to_string()]),
        &work.join("anvil-base.log"),
    )?;
    wait_rpc(&url, Duration::from_secs(30))?;
    sh(Command::new("node")
        .arg("deploy-usdc.mjs")
        .current_dir(root().join("e2e"))
        .env("RPC_URL", &url)
        .env("MINT_TO", BASE_PAYERS))?;
    Ok((proc, url))
}

/// The `[[payments.evm]]` entry (Base Sepolia) of a gateway config.
fn base_config(base_rpc: &str) -> String {
    format!(
        "\n[[payments.evm]]\nchain_id = 84532\nrpc_url = \"{base_rpc}\"\npay_to = \"{BASE_PAY_TO}\"\n\
         signer_key = \"{BASE_SIGNER_KEY}\"\n"
    )
}

/// The `[payments.solana]` section of a gateway config (the LiteSVM shim).
fn solana_config(svm: &str) -> String {
    let keys: String =
        crate::svm::gateway_solana_settings(svm).iter().map(|(k, v)| format!("{k} = \"{v}\"\n")).collect();
    format!("\n[payments.solana]\n{keys}")
}

/// The environment of the x402 suites.
fn x402_env(c: &mut Command, base_rpc: &str) {
    c.env("BASE_RPC_URL", base_rpc)
        .env("BASE_PAY_TO", BASE_PAY_TO)
        .env("BASE_SETTLER", BASE_SETTLER)
        .env("MIXED_BASE_KEY", MIXED_BASE_KEY);
}

/// The x402 suites: @x402/fetch (v2) and x402-fetch (v1) in node, the PyPI x402 client; on
/// Solana, @x402/fetch with @x402/svm and the PyPI x402 SVM client.
fn x402_suites(python: &Path) -> Vec<(&'static str, Command)> {
    let mut node = Command::new("node");
    node.arg("x402.mjs");
    let mut py = Command::new(python);
    py.arg("x402_pay.py");
    let mut svm_node = Command::new("node");
    svm_node.arg("svm.mjs");
    let mut svm_py = Command::new(python);
    svm_py.arg("svm_pay.py");
    vec![
        ("x402 (@x402/fetch v2, x402-fetch v1)", node),
        ("x402 (PyPI x402)", py),
        ("x402 on Solana (@x402/fetch + @x402/svm)", svm_node),
        ("x402 on Solana (PyPI x402 SVM)", svm_py),
    ]
}
