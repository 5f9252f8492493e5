//! Shared helpers: fixtures, a fast retry policy, a provider pointed at the mock server, and
//! the request recorder used by the snapshots.

use std::path::PathBuf;
use std::time::Duration;

use compute_core::http::{RetryPolicy, SecretString};
use compute_core::provider::Tenant;
use compute_fly::{FlyConfig, FlyProvider};
use wiremock::{MockServer, ResponseTemplate};

/// The token every test provider uses.
pub(crate) const TOKEN: &str = "fo1_test_token_Zq9xLm";

/// The tenant every test uses.
pub(crate) const TENANT: &str = "cg-0a1b2c";

/// `/v1/apps/{TENANT}` + `rest`.
pub(crate) fn app_path(rest: &str) -> String {
    format!("/v1/apps/{TENANT}{rest}")
}

/// A fixture from `fixtures/fly/` at the workspace root.
pub(crate) fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../fixtures/fly").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A fixture parsed as JSON.
pub(crate) fn fixture_json(name: &str) -> serde_json::Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

/// `status` with a fixture as its JSON body.
pub(crate) fn reply(status: u16, name: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(fixture(name), "application/json")
}

/// Millisecond backoffs so retries are quick.
pub(crate) fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        attempt_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_millis(500),
    }
}

/// A configuration pointed at `server`.
pub(crate) fn config(server: &MockServer) -> FlyConfig {
    FlyConfig::new(SecretString::from(TOKEN), "acme").with_base_url(server.uri()).with_retry(fast_policy())
}

/// A provider pointed at `server`.
pub(crate) fn provider(server: &MockServer) -> FlyProvider {
    FlyProvider::new(&config(server)).unwrap()
}

/// The test tenant.
pub(crate) fn tenant() -> Tenant {
    Tenant::new(TENANT).unwrap()
}

/// Every request `server` received as `{method, path, query, body}`, after checking that
/// each carried `Authorization: Bearer <TOKEN>` (the value itself is never snapshotted).
pub(crate) async fn recorded(server: &MockServer) -> serde_json::Value {
    recorded_with_auth(server, &format!("Bearer {TOKEN}")).await
}

/// As [`recorded`], with the expected `Authorization` value given.
pub(crate) async fn recorded_with_auth(server: &MockServer, auth: &str) -> serde_json::Value {
    let requests = server.received_requests().await.expect("request recording is on");
    let rows: Vec<serde_json::Value> = requests
        .iter()
        .map(|r| {
            let got = r.headers.get("authorization").and_then(|v| v.to_str().ok());
            assert_eq!(got, Some(auth), "authorization header of {} {}", r.method, r.url.path());
            let body = if r.body.is_empty() {
                serde_json::Value::Null
            } else {
                assert_eq!(r.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/json"));
                serde_json::from_slice(&r.body).expect("request bodies are JSON")
            };
            serde_json::json!({
                "method": r.method.to_string(),
                "path": r.url.path(),
                "query": r.url.query(),
                "body": body,
            })
        })
        .collect();
    canonical(serde_json::Value::Array(rows))
}

/// `v` with every object's keys sorted, so snapshots do not depend on whether serde_json's
/// `preserve_order` feature is enabled somewhere in the workspace.
pub(crate) fn canonical(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(map) => {
            let sorted: std::collections::BTreeMap<String, serde_json::Value> =
                map.into_iter().map(|(k, v)| (k, canonical(v))).collect();
            serde_json::Value::Object(sorted.into_iter().collect())
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}
