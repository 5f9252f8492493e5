//! The paid-request flow in process, with a deterministic test rail standing in for a chain
//! (the real rails are exercised against local chains by `cargo xtask e2e`): the 402, replay
//! (sequential and 50 concurrent), amount pinning, idempotency keys, unknown settlements and
//! their reconciliation, rejected settlements, and the refund of a failed action.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Answer, answer, call_with, harness, json};
use compute_core::Usd;
use compute_store::PaymentStatus;

const ALICE: &str = "0x00000000000000000000000000000000000a11ce";

async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    credential: Option<&str>,
    key: Option<&str>,
    body: &str,
) -> Answer {
    let mut req = Request::builder().method(method).uri(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(c) = credential {
        req = req.header(header::AUTHORIZATION, c);
    }
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    answer(app, req.body(Body::from(body.to_owned())).unwrap()).await
}

fn cred(nonce: &str, usd: &str) -> String {
    format!("Payment test:{ALICE}:{nonce}:{usd}")
}

#[tokio::test]
async fn no_credential_gets_one_402_with_every_offer_and_the_price() {
    let h = harness().await;
    let a = call(&h.app, "GET", "/api/machines", None, None, "").await;
    assert_eq!(a.status, StatusCode::PAYMENT_REQUIRED);
    assert!(a.headers.get(header::WWW_AUTHENTICATE).unwrap().to_str().unwrap().contains("amount=\"0.001\""));
    assert_eq!(a.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let p = json(&a.body);
    assert_eq!(p["type"], "https://paymentauth.org/problems/payment-required");
    assert_eq!(p["amount_usd"], "0.001");
}

#[tokio::test]
async fn memoised_402s_are_per_charge_and_keep_their_own_request_ids() {
    let h = harness().await;
    let challenge = |a: &Answer| a.headers.get(header::WWW_AUTHENTICATE).unwrap().to_str().unwrap().to_owned();
    let first = call(&h.app, "GET", "/api/machines", None, None, "").await;
    let exec = call(&h.app, "POST", "/api/machines/0123456789abcd/exec", None, None, r#"{"command":["ls"]}"#).await;
    let again = call(&h.app, "GET", "/api/machines", None, None, "").await;
    assert!(challenge(&first).contains("amount=\"0.001\""));
    assert!(challenge(&exec).contains("amount=\"0.01\""), "another charge gets its own challenge");
    assert!(challenge(&again).contains("amount=\"0.001\""));
    let (p1, p2) = (json(&first.body), json(&again.body));
    assert_eq!(p2["amount_usd"], "0.001");
    assert_ne!(p1["request_id"], p2["request_id"], "each answer carries its own request id");
    assert_eq!(p2["request_id"], again.headers.get("x-request-id").unwrap().to_str().unwrap());
}

#[tokio::test]
async fn invalid_input_is_refused_before_any_challenge() {
    let h = harness().await;
    let a = call(&h.app, "POST", "/api/machines", None, None, r#"{"config":{"image":"x","files":[]}}"#).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.headers.get(header::WWW_AUTHENTICATE).is_none());
    let a = call(&h.app, "POST", "/api/machines", None, None, r#"{"region":"mars","config":{"image":"x"}}"#).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(json(&a.body)["detail"].as_str().unwrap().contains("region"));
    let a = call(&h.app, "POST", "/api/machines/0123456789abcd/exec", None, None, r#"{"command":["ls"]}"#).await;
    // Whether a machine exists is only told to its owner, known once a credential names the
    // payer: an unknown id gets the same 402 as a foreign one (hardening.rs covers the 404
    // that follows, uncharged).
    assert_eq!(a.status, StatusCode::PAYMENT_REQUIRED);
    let a = call(&h.app, "POST", "/api/machines/0123456789abcd/exec", None, None, r#"{"command":[]}"#).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "an empty command is refused before any challenge");
}

#[tokio::test]
async fn a_credential_pays_once_sequentially_and_under_50_concurrent_uses() {
    let h = harness().await;
    let c = cred("n1", "0.001");
    let first = call(&h.app, "GET", "/api/machines", Some(&c), None, "").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.headers.get("payment-receipt").unwrap(), "test-receipt-n1");
    assert_eq!(json(&first.body), serde_json::json!([]));
    let again = call(&h.app, "GET", "/api/machines", Some(&c), None, "").await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert!(again.headers.get(header::WWW_AUTHENTICATE).is_none());
    assert_eq!(json(&again.body)["type"], "https://paymentauth.org/problems/verification-failed");

    let c = cred("n-race", "0.001");
    let tasks = (0..50).map(|_| {
        let (app, c) = (h.app.clone(), c.clone());
        tokio::spawn(async move { call(&app, "GET", "/api/machines", Some(&c), None, "").await.status })
    });
    let statuses: Vec<StatusCode> = futures::future::join_all(tasks).await.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1);
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::FORBIDDEN).count(), 49);
    let delivered = h.state.store().payments_with_status(PaymentStatus::Delivered, 1000).await.unwrap();
    assert_eq!(delivered.len(), 2);
}

#[tokio::test]
async fn a_replay_in_the_same_process_leaves_the_live_requests_lease_alone() {
    let h = harness().await;
    let store = h.state.store().clone();
    let (lease, ttl) = ("payment:test:slow-lease", std::time::Duration::from_secs(60));
    // `slow-` settles in 3 s: the first request holds the payment's lease meanwhile.
    let c = cred("slow-lease", "0.001");
    let first = {
        let (app, c) = (h.app.clone(), c.clone());
        tokio::spawn(async move { call(&app, "GET", "/api/machines", Some(&c), None, "").await.status })
    };
    while store.payment_by_fingerprint("test:slow-lease").await.unwrap().is_none() {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let replay = call(&h.app, "GET", "/api/machines", Some(&c), None, "").await;
    assert_eq!(replay.status, StatusCode::FORBIDDEN);
    assert!(!store.try_lease(lease, "recovery", ttl).await.unwrap(), "the replay released the live request's lease");
    assert_eq!(first.await.unwrap(), StatusCode::OK);
    let p = store.payment_by_fingerprint("test:slow-lease").await.unwrap().unwrap();
    assert_eq!(p.status, PaymentStatus::Delivered);
    assert!(store.try_lease(lease, "recovery", ttl).await.unwrap(), "released with the answer");
}

#[tokio::test]
async fn the_amount_is_pinned_to_the_route_price() {
    let h = harness().await;
    let a = call(&h.app, "GET", "/api/machines", Some(&cred("cheap", "0.0001")), None, "").await;
    assert_eq!(a.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(json(&a.body)["type"], "https://paymentauth.org/problems/invalid-challenge");
    assert!(a.headers.get(header::WWW_AUTHENTICATE).is_some(), "a fresh challenge comes back");
}

#[tokio::test]
async fn a_permit2_payment_without_approval_gets_412_with_a_fresh_challenge() {
    let h = harness().await;
    let a = call(&h.app, "GET", "/api/machines", Some(&cred("noallowance-1", "0.001")), None, "").await;
    assert_eq!(a.status, StatusCode::PRECONDITION_FAILED);
    assert!(a.headers.get(header::WWW_AUTHENTICATE).is_some(), "a fresh challenge comes back");
    let p = json(&a.body);
    assert_eq!(
        (p["status"].as_u64(), p["type"].as_str()),
        (Some(412), Some("https://paymentauth.org/problems/permit2_allowance_required"))
    );
    assert!(h.state.store().payment_by_fingerprint("test:noallowance-1").await.unwrap().is_none(), "nothing charged");
}

#[tokio::test]
async fn idempotency_keys_replay_the_stored_answer_without_a_second_charge() {
    let h = harness().await;
    let a = call(&h.app, "GET", "/api/machines", Some(&cred("i1", "0.001")), Some("k-1"), "").await;
    assert_eq!(a.status, StatusCode::OK);
    let b = call(&h.app, "GET", "/api/machines", Some(&cred("i2", "0.001")), Some("k-1"), "").await;
    assert_eq!(b.status, StatusCode::OK);
    assert_eq!(b.headers.get("payment-receipt").unwrap(), "test-receipt-i1", "the stored answer, first receipt");
    assert!(
        h.state.store().payment_by_fingerprint("test:i2").await.unwrap().is_none(),
        "the second credential was not charged"
    );
    let c = call(
        &h.app,
        "POST",
        "/api/machines",
        Some(&cred("i3", "0.14")),
        Some("k-1"),
        r#"{"config":{"image":"ubuntu:latest"}}"#,
    )
    .await;
    assert_eq!(c.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn unknown_settlements_answer_pending_and_are_credited_when_they_settle() {
    let h = harness().await;
    let a = call(&h.app, "GET", "/api/machines", Some(&cred("unknown-1", "0.001")), None, "").await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
    assert_eq!(json(&a.body)["status"], "pending");
    assert!(a.headers.get(header::WWW_AUTHENTICATE).is_none(), "pending is not a fresh 402");
    let wallet = ALICE.parse().unwrap();
    assert_eq!(h.state.store().credit_balance(&wallet).await.unwrap(), Usd::ZERO);
    assert_eq!(compute_gateway::payments::reconcile::run_once(&h.state).await.unwrap(), 1);
    assert_eq!(compute_gateway::payments::reconcile::run_once(&h.state).await.unwrap(), 0, "resolved once");
    assert_eq!(h.state.store().credit_balance(&wallet).await.unwrap(), "0.001".parse().unwrap());
    let p = h.state.store().payment_by_fingerprint("test:unknown-1").await.unwrap().unwrap();
    assert_eq!(p.status, PaymentStatus::Refunded);
}

#[tokio::test]
async fn rejected_settlements_get_a_fresh_challenge() {
    let h = harness().await;
    let a = call(&h.app, "GET", "/api/machines", Some(&cred("reject-1", "0.001")), None, "").await;
    assert_eq!(a.status, StatusCode::PAYMENT_REQUIRED);
    assert!(json(&a.body)["detail"].as_str().unwrap().contains("insufficient funds"));
    assert!(a.headers.get(header::WWW_AUTHENTICATE).is_some());
}

#[tokio::test]
async fn a_failed_action_after_settlement_is_credited_visibly() {
    let h = harness().await;
    let body = r#"{"name":"doomed","config":{"image":"ubuntu:latest","guest":{"cpu_kind":"shared","cpus":1,"memory_mb":256}},"ttl_minutes":1}"#;
    // 256 MB shared: $0.10 setup + $0.004 × 1 minute.
    let a = call(&h.app, "POST", "/api/machines", Some(&cred("f1", "0.104")), None, body).await;
    assert!(a.status.is_server_error(), "{}", String::from_utf8_lossy(&a.body));
    let p = json(&a.body);
    assert_eq!(p["refunded_usd"], "0.104");
    assert_eq!(p["credit_balance_usd"], "0.104");
    assert!(p["detail"].as_str().unwrap().contains("credited to your balance"));
    let wallet = ALICE.parse().unwrap();
    assert_eq!(h.state.store().credit_balance(&wallet).await.unwrap(), "0.104".parse().unwrap());
    let pay = h.state.store().payment_by_fingerprint("test:f1").await.unwrap().unwrap();
    assert_eq!(pay.status, PaymentStatus::Refunded);
}

#[tokio::test]
async fn credits_pay_for_any_route_and_never_go_negative() {
    use compute_core::http::ExposeSecret;
    let h = harness().await;
    let wallet: compute_core::WalletAddress = ALICE.parse().unwrap();
    let key = h.state.store().create_api_key(&wallet, "t", None).await.unwrap();
    let api_key = key.key.expose_secret().to_owned();
    let with_credits = [("x-use-credits", "true"), ("x-api-key", api_key.as_str())];

    let broke = call_with(&h.app, "GET", "/api/machines", &with_credits, "").await;
    assert_eq!(broke.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(json(&broke.body)["credit_balance_usd"], "0");

    // A failed paid action refunds $0.104 to the balance...
    let body = r#"{"name":"doomed","config":{"image":"ubuntu:latest"},"ttl_minutes":1}"#;
    call(&h.app, "POST", "/api/machines", Some(&cred("f2", "0.104")), None, body).await;
    // ...which then pays for a list, with no chain payment.
    let paid = call_with(&h.app, "GET", "/api/machines", &with_credits, "").await;
    assert_eq!(paid.status, StatusCode::OK, "{}", String::from_utf8_lossy(&paid.body));
    assert_eq!(paid.headers.get("credit-balance").unwrap(), "0.103");
    let balance = call_with(&h.app, "GET", "/compute/credits/balance", &[("x-api-key", api_key.as_str())], "").await;
    assert_eq!(json(&balance.body)["balance_usd"], "0.103");
    // More than the balance is refused; a failed action paid with credits gives them back.
    let too_much = call_with(&h.app, "POST", "/api/machines", &with_credits, body).await;
    assert_eq!(too_much.status, StatusCode::PAYMENT_REQUIRED);
    let failed =
        call_with(&h.app, "POST", "/api/volumes", &with_credits, r#"{"name":"data","size_gb":1,"days":1}"#).await;
    assert!(failed.status.is_server_error(), "{}", String::from_utf8_lossy(&failed.body));
    assert_eq!(json(&failed.body)["credit_balance_usd"], "0.103");
    // Without a wallet proof or key there is no spending.
    let anonymous = call_with(&h.app, "GET", "/api/machines", &[("x-use-credits", "true")], "").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}
