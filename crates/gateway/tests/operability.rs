//! Operability: `GET /metrics` counts what the gateway did (requests by route and status, 402s,
//! settlements by rail and outcome, credits granted, the expiry worker's lag, provider calls by
//! provider, operation and status); every answer has a request id; `/.well-known/x402` lists
//! the paid resources with their x402 offers, and the 402 carries the x402 `bazaar` extension.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::{Harness, call_with, harness, harness_at, json};
use compute_core::payment::Payment;
use compute_gateway::state::AppState;
use compute_testkit::fly_fake::{FakeConfig, spawn};

const ALICE: &str = "0x00000000000000000000000000000000000a11ce";

async fn metrics(h: &Harness) -> String {
    let a = call_with(&h.app, "GET", "/metrics", &[], "").await;
    assert_eq!(a.status, StatusCode::OK);
    let ct = a.headers.get("content-type").unwrap().to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    String::from_utf8(a.body.to_vec()).unwrap()
}

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn requests_402s_settlements_and_credits_are_counted() {
    let h = harness().await;
    let before = metrics(&h).await;
    assert_eq!(value(&before, r#"gateway_payments_total{rail="test",outcome="settled"}"#), None);

    assert_eq!(call_with(&h.app, "GET", "/api/machines", &[], "").await.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(call_with(&h.app, "GET", "/no/such/route", &[], "").await.status, StatusCode::NOT_FOUND);
    // A paid create that fails at the provider (Fly at a closed port): settled, then credited.
    let body = r#"{"name":"m","config":{"image":"ubuntu:latest","guest":{"cpu_kind":"shared","cpus":1,"memory_mb":256}},"ttl_minutes":1}"#;
    let cred = format!("Payment test:{ALICE}:metrics-1:0.104");
    let failed = call_with(&h.app, "POST", "/api/machines", &[("authorization", &cred)], body).await;
    assert!(failed.status.is_server_error());

    let text = metrics(&h).await;
    let seen = |series: &str| value(&text, series).unwrap_or_else(|| panic!("{series} missing from\n{text}"));
    assert_eq!(seen(r#"gateway_requests_total{route="/api/machines",method="GET",status="402"}"#), 1.0);
    assert_eq!(seen(r#"gateway_payment_required_total{route="/api/machines"}"#), 1.0);
    assert_eq!(seen(r#"gateway_requests_total{route="unmatched",method="GET",status="404"}"#), 1.0);
    assert_eq!(seen(r#"gateway_payments_total{rail="test",outcome="settled"}"#), 1.0);
    assert_eq!(seen(r#"gateway_settlement_duration_seconds_count{rail="test"}"#), 1.0);
    assert_eq!(seen("gateway_credit_grants_total"), 1.0);
    assert_eq!(seen("gateway_credits_granted_micro_usd_total"), 104_000.0, "$0.104");
    assert!(seen(r#"gateway_requests_total{route="/metrics",method="GET",status="200"}"#) >= 1.0);
}

/// `h` with its state rebuilt as `server::state` builds it: on the metrics registry the
/// composition point gave the providers.
fn observed(h: Harness) -> Harness {
    let (config, store) = (h.state.config().clone(), h.state.store().clone());
    let mut composed = compute_gateway::compose::compose(&config, &store).unwrap();
    composed.rails = vec![h.rail.clone() as Arc<dyn Payment>];
    let books = compute_gateway::pricing::books(&config).unwrap();
    let state = AppState::from_composed(config, store, composed, books);
    Harness { app: compute_gateway::server::app_with_state(state.clone()), state, ..h }
}

#[tokio::test]
async fn provider_calls_are_counted_by_provider_operation_and_status() {
    let fake = spawn(FakeConfig::new("fly-test")).await.unwrap();
    let h = observed(harness_at(&fake.url(), "").await);
    let body =
        r#"{"name":"m1","ttl_minutes":1,"config":{"image":"ubuntu:latest","init":{"cmd":["sleep","infinity"]}}}"#;
    let cred = format!("Payment test:{ALICE}:provider-calls-1:0.104");
    let created = call_with(&h.app, "POST", "/api/machines", &[("authorization", &cred)], body).await;
    assert_eq!(created.status, StatusCode::OK, "{}", String::from_utf8_lossy(&created.body));

    let text = metrics(&h).await;
    let seen = |series: &str| value(&text, series).unwrap_or_else(|| panic!("{series} missing from\n{text}"));
    assert_eq!(seen(r#"gateway_provider_calls_total{provider="fly",operation="create_machine",status="200"}"#), 1.0);
    assert_eq!(seen(r#"gateway_provider_call_duration_seconds_count{provider="fly",operation="create_machine"}"#), 1.0);
    let fly_calls: Vec<&str> =
        text.lines().filter(|l| l.starts_with(r#"gateway_provider_calls_total{provider="fly""#)).collect();
    assert!(fly_calls.len() >= 2, "the tenant's app is fetched or created first: {fly_calls:?}");
}

#[tokio::test]
async fn a_provider_that_cannot_be_reached_is_counted_as_an_error() {
    let h = observed(harness().await);
    let body = r#"{"name":"m","config":{"image":"ubuntu:latest","guest":{"cpu_kind":"shared","cpus":1,"memory_mb":256}},"ttl_minutes":1}"#;
    let cred = format!("Payment test:{ALICE}:provider-calls-2:0.104");
    assert!(
        call_with(&h.app, "POST", "/api/machines", &[("authorization", &cred)], body).await.status.is_server_error()
    );
    let text = metrics(&h).await;
    let errors: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.starts_with(r#"gateway_provider_calls_total{provider="fly""#) && l.contains(r#"status="error"} "#)
        })
        .collect();
    assert!(!errors.is_empty(), "Fly at a closed port: no answer came\n{text}");
}

#[tokio::test]
async fn the_expiry_worker_reports_its_lag() {
    let h = harness().await;
    compute_gateway::services::expiry::run_once(&h.state).await.unwrap();
    let text = metrics(&h).await;
    assert_eq!(value(&text, r#"gateway_worker_lag_seconds{worker="expiry"}"#), Some(0.0), "nothing was due");
}

#[tokio::test]
async fn every_answer_has_a_request_id_and_problems_carry_it() {
    let h = harness().await;
    let ok = call_with(&h.app, "GET", "/health", &[], "").await;
    let id = ok.headers.get("x-request-id").expect("a request id").to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let missing = call_with(&h.app, "GET", "/no/such/route", &[], "").await;
    let body: serde_json::Value = serde_json::from_slice(&missing.body).unwrap();
    let header = missing.headers.get("x-request-id").unwrap().to_str().unwrap();
    assert_eq!(body["request_id"], header, "{body}");
    assert_ne!(header, id, "one id per request");
    let paid = call_with(&h.app, "GET", "/api/machines", &[], "").await;
    let body: serde_json::Value = serde_json::from_slice(&paid.body).unwrap();
    assert!(body["request_id"].is_string() && body["amount_usd"] == "0.001", "the 402 keeps its fields: {body}");
}

#[tokio::test]
async fn the_x402_discovery_document_lists_paid_resources_with_the_live_offers() {
    let (app, _dir) = with_real_rails().await;
    let doc = json(&call_with(&app, "GET", "/.well-known/x402", &[], "").await.body);
    assert_eq!(doc["x402Version"], 2);
    let llms = String::from_utf8(call_with(&app, "GET", "/llms.txt", &[], "").await.body).unwrap();
    assert!(
        llms.contains("- base: eip155:84532, 0x036CbD53842c5426634e7929541eC2318f3dCF7e (6 decimals)"),
        "llms.txt names every enabled rail:\n{llms}"
    );
    let resources = doc["resources"].as_array().unwrap();
    let find = |method: &str, path: &str| {
        resources
            .iter()
            .find(|r| r["method"] == method && r["resource"].as_str().unwrap().ends_with(path))
            .unwrap_or_else(|| panic!("{method} {path} missing"))
    };
    let list = find("GET", "/api/machines");
    assert_eq!(list["price"], "$0.001");
    let offer = &list["accepts"][0];
    assert_eq!(offer["network"], "eip155:84532", "{offer}");
    assert_eq!(offer["amount"], "1000", "$0.001 in USDC base units");
    assert_eq!(offer["payTo"].as_str().unwrap().to_lowercase(), "0x00000000000000000000000000000000000000aa");
    // The same offer as the live 402's PAYMENT-REQUIRED header.
    let live = call_with(&app, "GET", "/api/machines", &[], "").await;
    let header = live.headers.get("payment-required").unwrap().to_str().unwrap();
    let decoded: serde_json::Value =
        serde_json::from_slice(&base64::Engine::decode(&base64::engine::general_purpose::STANDARD, header).unwrap())
            .unwrap();
    assert_eq!(decoded["accepts"][0]["amount"], offer["amount"]);
    assert!(find("POST", "/api/machines")["accepts"].as_array().unwrap().is_empty(), "dynamic: probe the 402");
    assert!(find("POST", "/api/machines")["price"].as_str().unwrap().starts_with("dynamic"));
    assert!(
        resources.iter().all(|r| !r["resource"].as_str().unwrap().ends_with("/health")),
        "free routes are not listed"
    );
}

/// A gateway with the real Tempo and Base Sepolia rails (their RPCs are never called for offers)
/// and Fly at a closed port.
async fn with_real_rails() -> (axum::Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[server]\ndata_dir = \"{}\"\n\
         [payments.tempo]\nrpc_url = \"http://127.0.0.1:9\"\nchain_id = 4217\n\
         recipient = \"0x00000000000000000000000000000000000000aa\"\nrealm = \"test\"\n\
         secret_key = \"test-only-secret-0123456789abcdef0123456789\"\n\
         [[payments.evm]]\nchain_id = 84532\nrpc_url = \"http://127.0.0.1:9\"\n\
         pay_to = \"0x00000000000000000000000000000000000000aa\"\n\
         signer_key = \"0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97\"\n\
         [providers.fly]\ntoken = \"t\"\norg_slug = \"o\"\nbase_url = \"http://127.0.0.1:9\"\n",
        dir.path().display()
    );
    let path = dir.path().join("g.toml");
    std::fs::write(&path, toml).unwrap();
    let config = compute_gateway::config::Config::load_from(Some(&path), Vec::new()).unwrap();
    let store = compute_gateway::server::open_store(&config).await.unwrap();
    (compute_gateway::server::app(config, store).unwrap(), dir)
}

#[tokio::test]
async fn a_body_network_narrows_the_402_to_that_rail() {
    let (app, _dir) = with_real_rails().await;
    let both = call_with(&app, "GET", "/api/machines", &[], "").await;
    assert!(both.headers.get("www-authenticate").is_some() && both.headers.get("payment-required").is_some());
    let tempo = call_with(&app, "GET", "/api/machines", &[], r#"{"network":"tempo"}"#).await;
    assert_eq!(tempo.status, StatusCode::PAYMENT_REQUIRED);
    assert!(tempo.headers.get("www-authenticate").is_some(), "the MPP challenge stays");
    assert!(tempo.headers.get("payment-required").is_none(), "no x402 offer");
    let base = call_with(&app, "GET", "/api/machines", &[], r#"{"network":"base"}"#).await;
    assert_eq!(base.status, StatusCode::PAYMENT_REQUIRED);
    assert!(base.headers.get("www-authenticate").is_none() && base.headers.get("payment-required").is_some());
    let unknown = call_with(&app, "GET", "/api/machines", &[], r#"{"network":"dogecoin"}"#).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let detail = json(&unknown.body)["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("tempo") && detail.contains("base"), "{detail}");
}

/// The decoded `PAYMENT-REQUIRED` of `method path` with `body`, and the 402's JSON body.
async fn challenge(app: &axum::Router, method: &str, path: &str, body: &str) -> (serde_json::Value, serde_json::Value) {
    let a = call_with(app, method, path, &[], body).await;
    assert_eq!(a.status, StatusCode::PAYMENT_REQUIRED, "{method} {path}: {}", String::from_utf8_lossy(&a.body));
    let header = a.headers.get("payment-required").unwrap().to_str().unwrap();
    let decoded = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, header).unwrap();
    (serde_json::from_slice(&decoded).unwrap(), json(&a.body))
}

#[tokio::test]
async fn the_402_carries_the_routes_bazaar_discovery_declaration() {
    let (app, _dir) = with_real_rails().await;
    let (get, get_v1) = challenge(&app, "GET", "/api/machines", "").await;
    let bazaar = &get["extensions"]["bazaar"];
    assert_eq!(bazaar["info"]["input"]["method"], "GET", "{get}");
    assert_eq!(bazaar["info"]["input"]["type"], "http");
    assert_eq!(bazaar["schema"]["properties"]["input"]["properties"]["method"]["enum"], serde_json::json!(["GET"]));
    assert!(bazaar.get("routeTemplate").is_none(), "a static route");
    assert_eq!(get_v1["accepts"][0]["outputSchema"]["input"]["method"], "GET", "v1 carries it as outputSchema");

    let body = r#"{"name":"my-server","region":"sjc","ttl_minutes":60,"config":{"image":"ubuntu:latest","init":{"cmd":["sleep","infinity"]},"guest":{"cpu_kind":"shared","cpus":1,"memory_mb":512}}}"#;
    let (post, post_v1) = challenge(&app, "POST", "/api/machines", body).await;
    let input = &post["extensions"]["bazaar"]["info"]["input"];
    assert_eq!(input["method"], "POST", "{post}");
    assert_eq!(input["bodyType"], "json");
    assert_eq!(input["body"]["config"]["image"], "ubuntu:latest", "the route's documented example");
    assert_eq!(post_v1["accepts"][0]["outputSchema"]["input"]["bodyFields"], input["body"]);
    assert_eq!(post["accepts"].as_array().unwrap().len(), 1, "the offers are untouched");

    let (by_id, _) = challenge(&app, "GET", "/api/machines/abc123", "").await;
    assert_eq!(by_id["extensions"]["bazaar"]["routeTemplate"], "/api/machines/:id", "{by_id}");
}
