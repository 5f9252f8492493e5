//! The expiry worker against the stateful Fly fake: paid time runs out whatever the machine's
//! state, one bad row never stops a pass, a backlog drains in one pass, expired machines are
//! destroyed after the grace period, a stop that raced a renewal is undone, and a row the
//! provider refused waits before its retry.

mod common;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::{Harness, call_with, harness_at};
use compute_core::WalletAddress;
use compute_core::provider::ProviderId;
use compute_gateway::services::expiry;
use compute_store::{NewResource, ResourceKind, ResourceState, ResourceUpdate};
use compute_testkit::fly_fake::{FakeConfig, RunningFake, spawn};

const ALICE: &str = "0x00000000000000000000000000000000000a11ce";

async fn gateway_on_fake() -> (Harness, RunningFake) {
    let fake = spawn(FakeConfig::new("fly-test")).await.unwrap();
    let h = harness_at(&fake.url(), "").await;
    (h, fake)
}

/// Buys a 1-minute 256 MB machine for Alice; its Fly id.
async fn buy(h: &Harness, nonce: &str, name: &str) -> String {
    let body = format!(
        r#"{{"name":"{name}","ttl_minutes":1,"config":{{"image":"ubuntu:latest","init":{{"cmd":["sleep","infinity"]}}}}}}"#
    );
    let c = format!("Payment test:{ALICE}:{nonce}:0.104");
    let a = call_with(&h.app, "POST", "/api/machines", &[("authorization", &c)], &body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", String::from_utf8_lossy(&a.body));
    common::json(&a.body)["id"].as_str().unwrap().to_owned()
}

fn state_at_fake(fake: &RunningFake, id: &str) -> Option<String> {
    let dump = fake.state().dump().to_string();
    let v: serde_json::Value = serde_json::from_str(&dump).unwrap();
    fn find(v: &serde_json::Value, id: &str) -> Option<String> {
        match v {
            serde_json::Value::Object(m) => {
                if m.get("id").and_then(|x| x.as_str()) == Some(id) {
                    return m.get("state").and_then(|s| s.as_str()).map(str::to_owned);
                }
                m.values().find_map(|x| find(x, id))
            }
            serde_json::Value::Array(a) => a.iter().find_map(|x| find(x, id)),
            _ => None,
        }
    }
    find(&v, id)
}

async fn set_paid_until(h: &Harness, fly_id: &str, at: chrono::DateTime<Utc>) {
    let owner: WalletAddress = ALICE.parse().unwrap();
    let r = h.state.store().resource_by_provider_id(ProviderId::Fly, fly_id, &owner).await.unwrap();
    h.state.store().update_resource(&r.id, ResourceUpdate::default().paid_until(at)).await.unwrap();
}

/// A running machine row of Alice's whose paid time ended `ago`, with no machine behind it.
async fn due_row(h: &Harness, provider_id: &str, tenant: &str, name: &str, ago: Duration) {
    h.state
        .store()
        .insert_resource(NewResource {
            kind: ResourceKind::Machine,
            owner: ALICE.parse().unwrap(),
            provider: ProviderId::Fly,
            provider_id: Some(provider_id.into()),
            tenant: Some(tenant.into()),
            name: name.into(),
            region: None,
            state: ResourceState::Running,
            spec: serde_json::json!({}),
            price: "0.1".parse().unwrap(),
            paid_until: Some(Utc::now() - ago),
            payment_id: None,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a_suspended_machine_expires_too() {
    let (h, fake) = gateway_on_fake().await;
    let id = buy(&h, "s-1", "sleepy").await;
    let c = format!("Payment test:{ALICE}:s-2:0.001");
    let a = call_with(&h.app, "POST", &format!("/api/machines/{id}/suspend"), &[("authorization", &c)], "").await;
    assert_eq!(a.status, StatusCode::OK);
    set_paid_until(&h, &id, Utc::now() - Duration::seconds(5)).await;
    expiry::run_once(&h.state).await.unwrap();
    assert_eq!(state_at_fake(&fake, &id).as_deref(), Some("stopped"));
}

#[tokio::test]
async fn one_bad_row_does_not_stop_the_pass() {
    let (h, fake) = gateway_on_fake().await;
    let id = buy(&h, "b-1", "good").await;
    // A row that cannot be acted on (a tenant the provider refuses), due before the good one.
    due_row(&h, "0000000000dead", "Not A Tenant", "bad", Duration::minutes(5)).await;
    set_paid_until(&h, &id, Utc::now() - Duration::seconds(5)).await;
    let _ = expiry::run_once(&h.state).await;
    assert_eq!(state_at_fake(&fake, &id).as_deref(), Some("stopped"));
}

#[tokio::test]
async fn a_backlog_drains_in_one_pass() {
    let (h, fake) = gateway_on_fake().await;
    let id = buy(&h, "d-1", "last").await;
    for n in 0..120 {
        due_row(&h, &format!("{n:014x}"), "w0123456789abcdef0123", &format!("gone-{n}"), Duration::minutes(10)).await;
    }
    set_paid_until(&h, &id, Utc::now() - Duration::seconds(5)).await;
    expiry::run_once(&h.state).await.unwrap();
    assert_eq!(
        state_at_fake(&fake, &id).as_deref(),
        Some("stopped"),
        "the 121st due machine is stopped in the same pass"
    );
}

#[tokio::test]
async fn an_expired_machine_is_destroyed_after_the_grace_period() {
    let (h, fake) = gateway_on_fake().await;
    let id = buy(&h, "g-1", "old").await;
    set_paid_until(&h, &id, Utc::now() - Duration::seconds(5)).await;
    expiry::run_once(&h.state).await.unwrap();
    assert_eq!(state_at_fake(&fake, &id).as_deref(), Some("stopped"));
    set_paid_until(&h, &id, Utc::now() - Duration::days(8)).await;
    expiry::run_once(&h.state).await.unwrap();
    assert!(
        matches!(state_at_fake(&fake, &id).as_deref(), Some("destroyed") | None),
        "{:?}",
        state_at_fake(&fake, &id)
    );
}

/// Stop calls the fake received for Fly machine `id`.
fn stops_at_fake(fake: &RunningFake, id: &str) -> usize {
    let dump = fake.state().dump();
    let requests = dump["requests"].as_array().unwrap();
    requests
        .iter()
        .filter(|r| r.as_str().is_some_and(|r| r.starts_with("POST ") && r.contains(&format!("{id}/stop"))))
        .count()
}

/// Injects a fault at the fake (`POST /__fake/fail-next`).
async fn fault(fake: &RunningFake, fault: serde_json::Value) {
    let hooked = reqwest::Client::new()
        .post(format!("{}/__fake/fail-next", fake.url()))
        .bearer_auth("fly-test")
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert!(hooked.status().is_success());
}

#[tokio::test]
async fn a_machine_renewed_while_it_was_being_stopped_is_started_again() {
    let (h, fake) = gateway_on_fake().await;
    let id = buy(&h, "r-1", "renewed").await;
    set_paid_until(&h, &id, Utc::now() - Duration::seconds(5)).await;
    // The stop takes 400 ms (and is done); meanwhile the owner pays for more time.
    fault(
        &fake,
        serde_json::json!({"path_contains": format!("{id}/stop"), "status": 200, "body": {"ok": true},
                                     "apply": true, "delay_ms": 400}),
    )
    .await;
    let owner: WalletAddress = ALICE.parse().unwrap();
    let row = h.state.store().resource_by_provider_id(ProviderId::Fly, &id, &owner).await.unwrap();
    let renew = async {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let renewal = ResourceUpdate::state(ResourceState::Running).paid_until(Utc::now() + Duration::minutes(10));
        h.state.store().update_resource(&row.id, renewal).await.unwrap();
    };
    let (handled, ()) = tokio::join!(expiry::run_once(&h.state), renew);
    assert_eq!(handled.unwrap(), 1);
    assert_eq!(stops_at_fake(&fake, &id), 1, "the stop was made");
    assert_eq!(state_at_fake(&fake, &id).as_deref(), Some("started"), "and undone for the renewed machine");
}

#[tokio::test]
async fn a_row_the_provider_refuses_is_given_back_and_waits_before_it_is_tried_again() {
    let (h, fake) = gateway_on_fake().await;
    let id = buy(&h, "w-1", "refused").await;
    set_paid_until(&h, &id, Utc::now() - Duration::seconds(5)).await;
    fault(&fake, serde_json::json!({"path_contains": format!("{id}/stop"), "status": 400, "count": 1})).await;

    assert_eq!(expiry::run_once(&h.state).await.unwrap(), 0, "the refused stop is not counted");
    assert_eq!(stops_at_fake(&fake, &id), 1);
    let owner: WalletAddress = ALICE.parse().unwrap();
    let row = h.state.store().resource_by_provider_id(ProviderId::Fly, &id, &owner).await.unwrap();
    assert_eq!(row.state, ResourceState::Running, "the claim is given back");
    assert!(h.state.expiry_retries().is_waiting(&row.id, std::time::Instant::now()));

    // The fault is spent, but the row waits: the next pass does not call the provider again.
    assert_eq!(expiry::run_once(&h.state).await.unwrap(), 0);
    assert_eq!(stops_at_fake(&fake, &id), 1);
    assert_eq!(state_at_fake(&fake, &id).as_deref(), Some("started"));
}
