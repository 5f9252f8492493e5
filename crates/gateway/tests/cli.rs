//! The binary as a user runs it: `config check`, `migrate`, `serve` with no configuration
//! file, and graceful shutdown on SIGTERM.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_compute-gateway");

fn gateway(dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir).env_remove("DATABASE_URL").env_remove("COMPUTE_GATEWAY_CONFIG").env("RUST_LOG", "warn");
    c
}

#[test]
fn config_check_rejects_unknown_keys_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.toml");
    std::fs::File::create(&path).unwrap().write_all(b"[server]\nlisten = \"127.0.0.1:0\"\nbody_limit = 5\n").unwrap();
    let out = gateway(dir.path()).args(["--config", path.to_str().unwrap(), "config", "check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("server.body_limit"), "{err}");

    let out = gateway(dir.path()).args(["config", "check"]).env("COMPUTE_GATEWAY_DATABASE__URI", "x").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("database.uri"));
}

#[test]
fn config_check_accepts_defaults_and_redacts_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let out = gateway(dir.path())
        .args(["config", "check"])
        .env("DATABASE_URL", "postgres://u:hunter2@localhost/x")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("configuration is valid") && !err.contains("hunter2"), "{err}");
}

#[test]
fn config_check_never_prints_rpc_urls() {
    // RPC URLs usually carry a provider key in their path.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.toml");
    std::fs::write(
        &path,
        "[payments.tempo]\nrpc_url = \"https://tempo.rpc.example/v2/KEY-tempo-0123456789\"\nchain_id = 4217\n\
         recipient = \"0x00000000000000000000000000000000000000aa\"\nsecret_key = \"0123456789abcdef0123456789abcdef01\"\n\
         [[payments.evm]]\nchain_id = 84532\nrpc_url = \"https://base.rpc.example/v2/KEY-base-0123456789\"\n\
         pay_to = \"0x00000000000000000000000000000000000000aa\"\n\
         signer_key = \"0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97\"\n",
    )
    .unwrap();
    let out = gateway(dir.path()).args(["--config", path.to_str().unwrap(), "config", "check"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    for secret in ["KEY-tempo-0123456789", "KEY-base-0123456789", "0123456789abcdef0123456789abcdef01", "dbda1821b8"] {
        assert!(!err.contains(secret), "config check printed {secret}:\n{err}");
    }
}

#[test]
fn a_provider_without_its_crate_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.toml");
    std::fs::write(&path, "[providers.vultr]\ntoken = \"v\"\n").unwrap();
    let out = gateway(dir.path()).args(["--config", path.to_str().unwrap(), "config", "check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("providers.vultr"));
}

#[test]
fn migrate_creates_the_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = gateway(dir.path()).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("data/gateway.db").is_file());
}

#[tokio::test]
async fn serve_starts_on_sqlite_without_config_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
    let mut child = gateway(dir.path())
        .args(["--log-format", "json", "serve"])
        .env("COMPUTE_GATEWAY_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info,tower_http=debug")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let health = loop {
        match client.get(format!("{url}/health")).send().await {
            Ok(r) => break r,
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => {
                let _ = child.kill();
                panic!("gateway did not start: {e}");
            }
        }
    };
    assert_eq!(health.status(), 200);
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["database"]["backend"], "sqlite");
    for path in ["/llms.txt", "/openapi.json"] {
        assert_eq!(client.get(format!("{url}{path}")).send().await.unwrap().status(), 200, "{path}");
    }
    assert!(dir.path().join("data/gateway.db").is_file());

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "gateway did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    // `--log-format json`: one JSON object per line; request lines carry the request id.
    let logs = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap();
    let lines: Vec<serde_json::Value> =
        logs.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    assert!(
        lines.iter().any(|l| l.to_string().contains("request_id")),
        "no request line carries its request_id:\n{logs}"
    );
}
