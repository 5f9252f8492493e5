//! Shared helpers: fixtures, a fast retry policy, a provider pointed at the mock server, the
//! request recorder used by the snapshots, and the spec every recorded request is checked
//! against.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use compute_core::http::{RetryPolicy, SecretString};
use compute_core::provider::{MachineSpec, Tenant};
use compute_digitalocean::{DoConfig, DoProvider};
use serde_json::Value;
use wiremock::{MockServer, ResponseTemplate};

use crate::openapi::OpenApi;

/// The token every test provider uses.
pub(crate) const TOKEN: &str = "dop_v1_test_token_4f2a9c7e";

/// The tenant every test uses, and its tag.
pub(crate) const TENANT: &str = "tenant-a";
pub(crate) const TAG: &str = "cg-tenant-a";

/// The droplet of `fixtures/digitalocean/droplet.json`.
pub(crate) const DROPLET: &str = "3164444";

/// A fixture from `fixtures/digitalocean/` at the workspace root.
pub(crate) fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../fixtures/digitalocean").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A fixture parsed as JSON.
pub(crate) fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

/// `status` with a fixture as its JSON body.
pub(crate) fn reply(status: u16, name: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(fixture(name), "application/json")
}

/// `status` with `value` as its JSON body.
pub(crate) fn json_reply(status: u16, value: &Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(value.to_string(), "application/json")
}

/// `action_completed.json` with another `type` and `status`.
pub(crate) fn action(kind: &str, status: &str) -> Value {
    let mut v = fixture_json("action_completed.json");
    v["action"]["type"] = kind.into();
    v["action"]["status"] = status.into();
    if status == "in-progress" {
        v["action"]["completed_at"] = Value::Null;
    }
    v
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
pub(crate) fn config(server: &MockServer) -> DoConfig {
    DoConfig::new(SecretString::from(TOKEN)).with_base_url(server.uri()).with_retry(fast_policy())
}

/// A provider pointed at `server`.
pub(crate) fn provider(server: &MockServer) -> DoProvider {
    DoProvider::new(&config(server)).unwrap()
}

/// The test tenant.
pub(crate) fn tenant() -> Tenant {
    Tenant::new(TENANT).unwrap()
}

/// Another tenant.
pub(crate) fn other_tenant() -> Tenant {
    Tenant::new("tenant-b").unwrap()
}

/// A droplet spec with tags-relevant fields set: SSH keys (an id and a fingerprint) and
/// cloud-init user data.
pub(crate) fn spec() -> MachineSpec {
    MachineSpec {
        ssh_keys: vec!["512189".into(), "3b:16:e4:bf:8b:00:8b:b8:59:8c:a9:d3:f0:19:fa:45".into()],
        user_data: Some("#cloud-config\nruncmd:\n  - touch /test.txt\n".into()),
        labels: BTreeMap::from([("cg_owner".into(), "0xabc".into())]),
        ..MachineSpec::of_plan("web-1", "nyc3", "ubuntu-20-04-x64", "s-1vcpu-1gb")
    }
}

/// The official spec, parsed once per test binary:
/// `fixtures/digitalocean/openapi-subset.json` (the paths this crate uses, cut from `../shared/specs/digitalocean/bundled.json` by `fixtures/digitalocean/subset_spec.py`).
pub(crate) fn spec_doc() -> &'static OpenApi {
    static DOC: OnceLock<OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../fixtures/digitalocean/openapi-subset.json");
        OpenApi::load(&path).unwrap_or_else(|e| panic!("the DigitalOcean spec is needed for the contract checks: {e}"))
    })
}

/// Checks one request against the spec's request schemas; panics naming every violation.
pub(crate) fn assert_conforms(method: &str, path: &str, query: &[(String, String)], body: Option<&Value>) {
    let errors = spec_doc().check_request(method, path, query, body);
    assert!(errors.is_empty(), "{method} {path} does not follow the DigitalOcean spec:\n{}", errors.join("\n"));
}

/// Every request `server` received as `{method, path, query, body}`, after checking that each
/// carried `Authorization: Bearer <TOKEN>` (the value itself is never snapshotted) and that
/// each follows the official spec (path, query parameters and JSON body).
pub(crate) async fn recorded(server: &MockServer) -> Value {
    let requests = server.received_requests().await.expect("request recording is on");
    let rows: Vec<Value> = requests
        .iter()
        .map(|r| {
            let got = r.headers.get("authorization").and_then(|v| v.to_str().ok());
            assert_eq!(got, Some(format!("Bearer {TOKEN}").as_str()), "authorization of {} {}", r.method, r.url.path());
            let body = if r.body.is_empty() {
                Value::Null
            } else {
                assert_eq!(r.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/json"));
                serde_json::from_slice(&r.body).expect("request bodies are JSON")
            };
            let query: Vec<(String, String)> =
                r.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            assert_conforms(r.method.as_str(), r.url.path(), &query, (!body.is_null()).then_some(&body));
            serde_json::json!({
                "method": r.method.to_string(),
                "path": r.url.path(),
                "query": r.url.query(),
                "body": body,
            })
        })
        .collect();
    canonical(Value::Array(rows))
}

/// `v` with every object's keys sorted, so snapshots do not depend on whether serde_json's
/// `preserve_order` feature is enabled somewhere in the workspace.
pub(crate) fn canonical(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let sorted: BTreeMap<String, Value> = map.into_iter().map(|(k, v)| (k, canonical(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}
