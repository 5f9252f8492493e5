//! What the redesign guarantees, from outside: prices come from the price books through
//! billing, a route whose capability is absent answers 503 with no challenge, and a gateway
//! with only an x402 rail still authenticates wallets (x402Compute's signed `X-Auth-*`).

mod common;

use std::sync::Arc;

use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{harness, harness_with, json};
use compute_core::provider::ProviderHandle;
use compute_gateway::config::Config;
use compute_gateway::payments::Rails;
use compute_gateway::state::AppState;
use sha2::{Digest, Sha256};

const SEED_CREATE: &str = r#"{"name":"my-server","region":"sjc","config":{"image":"ubuntu:latest","init":{"cmd":["sleep","infinity"]},"guest":{"cpu_kind":"shared","cpus":1,"memory_mb":512}}}"#;

async fn amount_402(app: &common::Harness, method: &str, path: &str, body: &str) -> String {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let (resp, bytes) = common::send(&app.app, req).await;
    assert_eq!(resp.status(), StatusCode::PAYMENT_REQUIRED, "{}", String::from_utf8_lossy(&bytes));
    json(&bytes)["amount_usd"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_seed_prices_are_charged_exactly() {
    let h = harness().await;
    // 512 MB for the default 10 minutes: $0.11 + 10 × $0.005.
    assert_eq!(amount_402(&h, "POST", "/api/machines", SEED_CREATE).await, "0.16");
    let four_gb = SEED_CREATE.replace("\"cpus\":1,\"memory_mb\":512", "\"cpus\":2,\"memory_mb\":4096");
    let hour = four_gb.replace("\"region\":\"sjc\"", "\"region\":\"sjc\",\"ttl_minutes\":60");
    // shared 2 vCPU / 4 GB for an hour: $0.21 + 60 × $0.022.
    assert_eq!(amount_402(&h, "POST", "/api/machines", &hour).await, "1.53");
    assert_eq!(amount_402(&h, "GET", "/api/machines", "").await, "0.001");
}

#[tokio::test]
async fn the_machine_price_follows_the_price_book() {
    let dir = tempfile::tempdir().unwrap();
    let built_in = include_str!("../pricing/tinycompute.toml");
    let changed = built_in.replacen("setup = \"0.11\"\nrate = \"0.005\"", "setup = \"0.20\"\nrate = \"0.010\"", 1);
    assert_ne!(changed, built_in, "the 512 MB entry is in the book");
    let path = dir.path().join("tinycompute.toml");
    std::fs::write(&path, changed).unwrap();
    let h = harness_with(&format!("[pricing]\nbooks = [\"{}\"]\n", path.display())).await;
    // $0.20 + 10 × $0.01.
    assert_eq!(amount_402(&h, "POST", "/api/machines", SEED_CREATE).await, "0.3");
}

#[tokio::test]
async fn a_route_whose_capability_is_absent_answers_503_without_a_challenge() {
    let h = harness().await;
    // The same Fly adapter, registered without exec.
    let fly =
        Arc::new(compute_fly::FlyProvider::new(&compute_fly::FlyConfig::new("t".to_owned().into(), "o")).unwrap());
    let handle = ProviderHandle::new(fly.clone()).with_machines(fly);
    let providers = [(compute_core::provider::ProviderId::Fly, handle)].into_iter().collect();
    let rails = Rails::new(vec![Arc::new(common::TestRail::new()) as Arc<dyn compute_core::payment::Payment>]);
    let books = compute_gateway::pricing::built_in();
    let state = AppState::new(h.state.config().clone(), h.state.store().clone(), providers, rails, Vec::new(), books);
    let app = compute_gateway::server::app_with_state(state);
    let req = Request::post("/api/machines/0123456789abcd/exec")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"command":["ls"]}"#))
        .unwrap();
    let (resp, body) = common::send(&app, req).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.headers().get(header::WWW_AUTHENTICATE).is_none() && resp.headers().get("payment-required").is_none());
    assert!(
        json(&body)["detail"].as_str().unwrap().contains("no `exec` capability"),
        "{}",
        String::from_utf8_lossy(&body)
    );
    // A route whose capability is there still asks for payment.
    let (resp, _) = common::send(&app, Request::get("/api/machines").body(Body::empty()).unwrap()).await;
    assert_eq!(resp.status(), StatusCode::PAYMENT_REQUIRED);
}

/// A gateway whose only rail is x402 on Base Sepolia (its RPC is never called here).
async fn x402_only() -> (axum::Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[server]\ndata_dir = \"{}\"\n[[payments.evm]]\nchain_id = 84532\nrpc_url = \"http://127.0.0.1:9\"\n\
         pay_to = \"0x00000000000000000000000000000000000000aa\"\n\
         signer_key = \"0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97\"\n",
        dir.path().display()
    );
    let path = dir.path().join("g.toml");
    std::fs::write(&path, toml).unwrap();
    let config = Config::load_from(Some(&path), Vec::new()).unwrap();
    let store = compute_gateway::server::open_store(&config).await.unwrap();
    (compute_gateway::server::app(config, store).unwrap(), dir)
}

/// `X-Auth-*` headers as x402Compute's clients build them: EIP-191 over the nine-line message.
fn signed(
    signer: &PrivateKeySigner,
    claimed: &str,
    method: &str,
    path: &str,
    body: &str,
    ts: u128,
    nonce: &str,
) -> Vec<(String, String)> {
    let digest = hex::encode(Sha256::digest(body.as_bytes()));
    let message = format!("X402-COMPUTE-AUTH\nv1\nbase\n{claimed}\n{method}\n{path}\n{digest}\n{ts}\n{nonce}");
    let sig = signer.sign_message_sync(message.as_bytes()).unwrap();
    vec![
        ("x-auth-address".into(), claimed.to_owned()),
        ("x-auth-chain".into(), "base".into()),
        ("x-auth-signature".into(), format!("0x{}", hex::encode(sig.as_bytes()))),
        ("x-auth-timestamp".into(), ts.to_string()),
        ("x-auth-nonce".into(), nonce.to_owned()),
        ("x-auth-sig-encoding".into(), "hex".into()),
    ]
}

fn now_ms() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
}

async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    body: &str,
    headers: &[(String, String)],
) -> (StatusCode, serde_json::Value) {
    let mut req = Request::builder().method(method).uri(path).header(header::CONTENT_TYPE, "application/json");
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let (resp, bytes) = common::send(app, req.body(Body::from(body.to_owned())).unwrap()).await;
    (resp.status(), serde_json::from_slice(&bytes).unwrap_or_default())
}

#[tokio::test]
async fn with_only_an_x402_rail_a_wallet_signs_x_auth_headers() {
    let (app, _dir) = x402_only().await;
    let alice = PrivateKeySigner::random();
    let addr = format!("{:#x}", alice.address());
    // A free management call and an API key, with the wallet's signature.
    let h = signed(&alice, &addr, "GET", "/compute/credits/balance", "", now_ms(), "n-balance");
    let (status, body) = call(&app, "GET", "/compute/credits/balance", "", &h).await;
    assert_eq!((status, body["wallet"].as_str()), (StatusCode::OK, Some(addr.as_str())), "{body}");
    let create = r#"{"label":"agent"}"#;
    let h = signed(&alice, &addr, "POST", "/compute/api-keys", create, now_ms(), "n-create");
    let (status, key) = call(&app, "POST", "/compute/api-keys", create, &h).await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    assert!(key["api_key"].as_str().unwrap().starts_with("cgk_"));

    // Refused: the same nonce again, a stale timestamp, another path, another body, another signer.
    let (replayed, _) = call(&app, "POST", "/compute/api-keys", create, &h).await;
    let stale = signed(&alice, &addr, "POST", "/compute/api-keys", create, now_ms() - 600_000, "n-stale");
    let (stale, _) = call(&app, "POST", "/compute/api-keys", create, &stale).await;
    let other_path = signed(&alice, &addr, "POST", "/compute/api-keys/x", create, now_ms(), "n-path");
    let (other_path, _) = call(&app, "POST", "/compute/api-keys", create, &other_path).await;
    let other_body = signed(&alice, &addr, "POST", "/compute/api-keys", "{}", now_ms(), "n-body");
    let (other_body, _) = call(&app, "POST", "/compute/api-keys", create, &other_body).await;
    let mallory = PrivateKeySigner::random();
    let forged = signed(&mallory, &addr, "POST", "/compute/api-keys", create, now_ms(), "n-forged");
    let (forged, body) = call(&app, "POST", "/compute/api-keys", create, &forged).await;
    assert_eq!(
        [replayed, stale, other_path, other_body, forged],
        [StatusCode::UNAUTHORIZED; 5],
        "replay, stale, path, body, signer: {body}"
    );
    // With no credential at all, a 401 says which methods exist (no MPP rail, so no 402).
    let (status, body) = call(&app, "GET", "/compute/api-keys", "", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["detail"].as_str().unwrap().contains("x-auth"), "{body}");
}
