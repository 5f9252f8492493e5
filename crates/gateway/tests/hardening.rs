//! Money and tenancy hardening, each case written as an attacker would try it (over the test
//! rail; the real rails are exercised against local chains by `cargo xtask e2e`).

mod common;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::{call_with, harness, harness_with, json};
use compute_core::payment::{RailInfo, Verified};
use compute_core::provider::ProviderId;
use compute_core::{TokenAmount, WalletAddress};
use compute_store::{NewPayment, NewResource, PaymentStatus, ResourceKind, ResourceState};

const ALICE: &str = "0x00000000000000000000000000000000000a11ce";
const BOB: &str = "0x0000000000000000000000000000000000000b0b";
const SEED_CREATE: &str = r#"{"name":"my-server","region":"sjc","config":{"image":"ubuntu:latest","init":{"cmd":["sleep","infinity"]},"guest":{"cpu_kind":"shared","cpus":1,"memory_mb":512}}}"#;

fn cred(payer: &str, nonce: &str, usd: &str) -> String {
    format!("Payment test:{payer}:{nonce}:{usd}")
}

fn wallet(w: &str) -> WalletAddress {
    w.parse().unwrap()
}

/// A row as if `owner` had bought it, for tests that need a resource without a provider call.
async fn row(h: &common::Harness, owner: &str, kind: ResourceKind, provider_id: &str) {
    let spec = serde_json::json!({
        "name": "m", "region": "sjc", "image": "ubuntu:latest",
        "size": {"guest": {"cpu_kind": "shared", "cpus": 4, "memory_mb": 8192}},
        "env": {}, "command": null, "services": [], "mounts": [], "restart": null, "auto_destroy": false,
        "ssh_keys": [], "user_data": null, "labels": {},
    });
    h.state
        .store()
        .insert_resource(NewResource {
            kind,
            owner: wallet(owner),
            provider: ProviderId::Fly,
            provider_id: Some(provider_id.to_owned()),
            tenant: Some("w0123456789abcdef0123".into()),
            name: "m".into(),
            region: Some("sjc".into()),
            state: ResourceState::Running,
            spec,
            price: "0.5".parse().unwrap(),
            paid_until: Some(Utc::now() + Duration::minutes(10)),
            payment_id: None,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a_retried_settled_payment_gets_its_stored_answer() {
    let h = harness().await;
    let c = cred(ALICE, "retry-1", "0.001");
    let headers = [("authorization", c.as_str()), ("idempotency-key", "k-retry")];
    let first = call_with(&h.app, "GET", "/api/machines", &headers, "").await;
    assert_eq!(first.status, StatusCode::OK);
    // The client lost the answer and sends the same settled payment again.
    let again = call_with(&h.app, "GET", "/api/machines", &headers, "").await;
    assert_eq!(again.status, StatusCode::OK, "{}", String::from_utf8_lossy(&again.body));
    assert_eq!(again.headers.get("payment-receipt"), first.headers.get("payment-receipt"));
    assert_eq!(again.body, first.body);
}

#[tokio::test]
async fn one_on_chain_payment_sent_as_two_credentials_is_credited_once() {
    let h = harness().await;
    // Two encodings of one broadcast transaction: different credentials, one reference.
    let a = call_with(&h.app, "GET", "/api/machines", &[("authorization", &cred(ALICE, "unknown-tx1~a", "0.001"))], "")
        .await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
    let b = call_with(&h.app, "GET", "/api/machines", &[("authorization", &cred(ALICE, "unknown-tx1~b", "0.001"))], "")
        .await;
    assert_eq!(
        b.status,
        StatusCode::FORBIDDEN,
        "the same on-chain payment again: {}",
        String::from_utf8_lossy(&b.body)
    );
    compute_gateway::payments::reconcile::run_once(&h.state).await.unwrap();
    compute_gateway::payments::reconcile::run_once(&h.state).await.unwrap();
    assert_eq!(h.state.store().credit_balance(&wallet(ALICE)).await.unwrap(), "0.001".parse().unwrap());
}

fn stuck(n: usize) -> Verified {
    Verified {
        rail: RailInfo { rail: "test".into(), network: "test:1".into(), asset: "TUSD".into(), decimals: 6 },
        payer: wallet(BOB),
        amount: TokenAmount { base_units: 1000, decimals: 6 },
        amount_usd: "0.001".parse().unwrap(),
        fingerprint: format!("test:stuck-{n}"),
        challenge_id: None,
        valid_until: None,
        settlement: serde_json::json!({"nonce": format!("stuck-{n}")}),
    }
}

#[tokio::test]
async fn the_reconciler_bounds_its_work_per_pass() {
    let h = harness().await;
    // Unknown outcomes cost an attacker nothing: 250 of them must not make one pass unbounded.
    for n in 0..250 {
        let p = h
            .state
            .store()
            .record_payment(NewPayment { verified: stuck(n), route: "GET /api/machines".into(), idempotency: None })
            .await
            .unwrap();
        h.state.store().set_payment_status(&p.id, PaymentStatus::Unknown, Some(&format!("stuck-{n}"))).await.unwrap();
    }
    compute_gateway::payments::reconcile::run_once(&h.state).await.unwrap();
    let calls = h.rail.reconciles.load(std::sync::atomic::Ordering::SeqCst);
    assert!((1..=100).contains(&calls), "{calls} reconcile calls in one pass");
}

#[tokio::test]
async fn waits_and_commands_longer_than_the_request_timeout_are_refused_before_the_402() {
    let h = harness_with("request_timeout_secs = 60\n").await;
    let wait = call_with(&h.app, "POST", "/api/machines/0123456789abcd/wait?state=started&timeout=300", &[], "").await;
    assert_eq!(wait.status, StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(&wait.body));
    assert!(json(&wait.body)["detail"].as_str().unwrap().contains("timeout"));
    let exec =
        call_with(&h.app, "POST", "/api/machines/0123456789abcd/exec", &[], r#"{"command":["ls"],"timeout":60}"#).await;
    assert_eq!(exec.status, StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(&exec.body));
}

/// Status and body type of an answer, without ids.
fn look(a: &common::Answer) -> (StatusCode, String, Option<String>) {
    let body = json(&a.body);
    (a.status, body["type"].as_str().unwrap_or_default().to_owned(), body["amount_usd"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn a_foreign_id_looks_like_an_unknown_id_before_payment() {
    let h = harness().await;
    row(&h, ALICE, ResourceKind::Machine, "a11ce0000000aa").await;
    row(&h, ALICE, ResourceKind::Volume, "vol_a11ce").await;
    // Bob, not identified yet, asks to start Alice's (large) machine and an unknown one.
    let foreign = call_with(&h.app, "POST", "/api/machines/a11ce0000000aa/start", &[], "{}").await;
    let unknown = call_with(&h.app, "POST", "/api/machines/ffffffffffffff/start", &[], "{}").await;
    assert_eq!(
        look(&foreign),
        look(&unknown),
        "start: {} vs {}",
        String::from_utf8_lossy(&foreign.body),
        String::from_utf8_lossy(&unknown.body)
    );
    // A mount of Alice's volume and of an unknown volume.
    let mount = |v: &str| {
        SEED_CREATE.replace("\"init\"", &format!("\"mounts\":[{{\"volume\":\"{v}\",\"path\":\"/data\"}}],\"init\""))
    };
    let foreign = call_with(&h.app, "POST", "/api/machines", &[], &mount("vol_a11ce")).await;
    let unknown = call_with(&h.app, "POST", "/api/machines", &[], &mount("vol_unknown")).await;
    assert_eq!(
        look(&foreign),
        look(&unknown),
        "mounts: {} vs {}",
        String::from_utf8_lossy(&foreign.body),
        String::from_utf8_lossy(&unknown.body)
    );
    // Bob identified (the claimed payer of a payment for the seed machine): both are 404, uncharged.
    let c = cred(BOB, "mount-1", "0.16");
    let foreign = call_with(&h.app, "POST", "/api/machines", &[("authorization", &c)], &mount("vol_a11ce")).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", String::from_utf8_lossy(&foreign.body));
    assert!(h.state.store().payment_by_fingerprint("test:mount-1").await.unwrap().is_none(), "nothing was charged");
}

#[tokio::test]
async fn images_from_the_operator_s_fly_registry_are_refused_before_the_402() {
    let h = harness().await;
    let body = SEED_CREATE.replace("ubuntu:latest", "registry.fly.io/operator-app:deployment-01");
    let a = call_with(&h.app, "POST", "/api/machines", &[], &body).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(&a.body));
    assert!(a.headers.get("www-authenticate").is_none());
}

/// The Fly app name the gateway gives `ALICE` under the configuration `extra`.
async fn app_name(extra: &str) -> String {
    let h = harness_with(extra).await;
    let tenant = compute_gateway::services::tenancy::tenant_for(&h.state, &wallet(ALICE)).await.unwrap();
    let fly = h.state.providers().get(&ProviderId::Fly).unwrap();
    fly.tenancy().unwrap().space_name(&tenant).unwrap()
}

#[tokio::test]
async fn tenant_names_come_from_a_server_secret() {
    let a = app_name("[tenancy]\nsecret = \"secret-a-0123456789abcdef0123456789abcdef\"\n").await;
    let b = app_name("[tenancy]\nsecret = \"secret-b-0123456789abcdef0123456789abcdef\"\n").await;
    assert_ne!(a, b, "the same wallet, another secret: another app name");
    // Not the public derivation anyone can compute from the address.
    use sha2::Digest;
    let public = format!("cg-w{}", &hex::encode(sha2::Sha256::digest(ALICE.as_bytes()))[..20]);
    assert_ne!(app_name("").await, public);
}

#[tokio::test]
async fn recurring_costs_are_priced_by_size_and_period() {
    let h = harness().await;
    let small = call_with(&h.app, "POST", "/api/volumes", &[], r#"{"name":"data","region":"sjc","size_gb":1}"#).await;
    let large = call_with(&h.app, "POST", "/api/volumes", &[], r#"{"name":"data","region":"sjc","size_gb":400}"#).await;
    assert_eq!((small.status, large.status), (StatusCode::PAYMENT_REQUIRED, StatusCode::PAYMENT_REQUIRED));
    assert_ne!(json(&small.body)["amount_usd"], json(&large.body)["amount_usd"], "400 GB must cost more than 1 GB");
    let shared = call_with(&h.app, "POST", "/api/apps/x/ips", &[], r#"{"type":"shared_v4"}"#).await;
    let dedicated = call_with(&h.app, "POST", "/api/apps/x/ips", &[], r#"{"type":"v4"}"#).await;
    assert_ne!(
        json(&shared.body)["amount_usd"],
        json(&dedicated.body)["amount_usd"],
        "a dedicated IPv4 is billed per period"
    );
}

#[tokio::test]
async fn settlement_finishes_after_the_request_timed_out() {
    let h = harness_with("request_timeout_secs = 1\n").await;
    let c = cred(ALICE, "slow-1", "0.001");
    let headers = [("authorization", c.as_str()), ("idempotency-key", "k-slow")];
    let a = call_with(&h.app, "GET", "/api/machines", &headers, "").await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "the request timed out first");
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let p = h.state.store().payment_by_fingerprint("test:slow-1").await.unwrap().unwrap();
    assert!(!matches!(p.status, PaymentStatus::Verified), "settled and delivered, not stuck: {:?}", p.status);
    // The idempotency key holds the answer: the retry gets it, not a 409 for 24 h.
    let b = call_with(&h.app, "GET", "/api/machines", &headers, "").await;
    assert_eq!(b.status, StatusCode::OK, "{}", String::from_utf8_lossy(&b.body));
}

#[tokio::test]
async fn the_maintenance_worker_purges_what_expired_and_keeps_the_rest() {
    let h = harness().await;
    let store = h.state.store();
    store.claim_marker("test:old-proof", None, Utc::now() - Duration::seconds(1)).await.unwrap();
    store.claim_marker("test:live-proof", None, Utc::now() + Duration::minutes(5)).await.unwrap();
    let purged = compute_gateway::services::maintenance::run_once(&h.state).await.unwrap();
    assert!(purged >= 1, "the expired marker goes: {purged}");
    assert_eq!(compute_gateway::services::maintenance::run_once(&h.state).await.unwrap(), 0, "nothing left to purge");
    assert!(store.get_marker("test:live-proof").await.unwrap().is_some(), "a live marker stays");
}
