//! Recurring provider costs sold per period (issue 8, item 10), against the stateful Fly
//! fake: volumes priced by GB × days and grown by the GB added over the days left, dedicated
//! IPv4 addresses priced by days, both with a `paid_until` the expiry worker enforces after
//! the grace period, and a per-wallet cap refused before anything is settled.

mod common;

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use common::{Answer, Harness, call_with, harness_at, harness_with, json};
use compute_core::provider::ProviderId;
use compute_core::{Usd, WalletAddress};
use compute_gateway::services::expiry;
use compute_store::{ResourceKind, ResourceUpdate};
use compute_testkit::fly_fake::{FakeConfig, RunningFake, spawn};

const ALICE: &str = "0x00000000000000000000000000000000000a11ce";
const BOB: &str = "0x0000000000000000000000000000000000000b0b";

async fn on_fake(extra: &str) -> (Harness, RunningFake) {
    let fake = spawn(FakeConfig::new("fly-test")).await.unwrap();
    let h = harness_at(&fake.url(), extra).await;
    (h, fake)
}

fn amount(a: &Answer) -> Usd {
    assert_eq!(a.status, StatusCode::PAYMENT_REQUIRED, "{}", String::from_utf8_lossy(&a.body));
    json(&a.body)["amount_usd"].as_str().unwrap().parse().unwrap()
}

fn wallet(s: &str) -> WalletAddress {
    s.parse().unwrap()
}

/// The 402 of `method path body` and then the same request paid by `who` with `nonce`.
async fn pay(h: &Harness, who: &str, nonce: &str, method: &str, path: &str, body: &str, key: Option<&str>) -> Answer {
    let mut headers = Vec::new();
    if let Some(k) = key {
        headers.push(("x-api-key", k));
    }
    let price = amount(&call_with(&h.app, method, path, &headers, body).await);
    let c = format!("Payment test:{who}:{nonce}:{price}");
    call_with(&h.app, method, path, &[("authorization", &c)], body).await
}

async fn api_key(h: &Harness, who: &str) -> String {
    use compute_core::http::ExposeSecret;
    let key = h.state.store().create_api_key(&wallet(who), "t", None).await.unwrap();
    key.key.expose_secret().to_owned()
}

fn volume_body(size_gb: u32, days: u64) -> String {
    format!(r#"{{"name":"data","region":"sjc","size_gb":{size_gb},"days":{days}}}"#)
}

async fn volume_price(h: &Harness, size_gb: u32, days: u64) -> Usd {
    amount(&call_with(&h.app, "POST", "/api/volumes", &[], &volume_body(size_gb, days)).await)
}

fn close(a: Usd, b: Usd) -> bool {
    (a.as_decimal() - b.as_decimal()).abs() <= "0.00002".parse().unwrap()
}

#[tokio::test]
async fn volumes_are_priced_per_gb_and_day_over_a_one_off_fee() {
    let h = harness_with("").await;
    let fee: Usd = "0.05".parse().unwrap();
    let base = volume_price(&h, 1, 1).await;
    assert!(base > fee, "storage costs something on top of the fee: {base}");
    let per_gb_day = base.as_decimal() - fee.as_decimal();
    let twice = Usd::new(fee.as_decimal() + per_gb_day * rust_decimal::Decimal::TWO).unwrap();
    assert!(close(volume_price(&h, 2, 1).await, twice), "twice the GB, twice the storage");
    assert!(close(volume_price(&h, 1, 2).await, twice), "twice the days, twice the storage");
    for bad in [0, 366] {
        let a = call_with(&h.app, "POST", "/api/volumes", &[], &volume_body(1, bad)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "days {bad}");
        assert!(a.headers.get("www-authenticate").is_none());
    }
}

async fn paid_until_of(h: &Harness, who: &str, kind: ResourceKind) -> (String, Option<DateTime<Utc>>) {
    let rows = h.state.store().list_resources(&wallet(who), kind).await.unwrap();
    let r = rows.first().expect("a row");
    (r.id.clone(), r.paid_until)
}

async fn set_paid_until(h: &Harness, id: &str, at: DateTime<Utc>) {
    h.state.store().update_resource(id, ResourceUpdate::default().paid_until(at)).await.unwrap();
}

#[tokio::test]
async fn a_lapsed_volume_is_kept_through_the_grace_period_then_deleted() {
    let (h, fake) = on_fake("").await;
    let a = pay(&h, ALICE, "v-1", "POST", "/api/volumes", &volume_body(1, 1), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", String::from_utf8_lossy(&a.body));
    let body = json(&a.body);
    let vol = body["id"].as_str().unwrap().to_owned();
    let until: DateTime<Utc> = body["paid_until"].as_str().unwrap().parse().unwrap();
    assert!((until - Utc::now() - Duration::days(1)).num_seconds().abs() < 60, "paid for one day: {until}");
    let (row, stored) = paid_until_of(&h, ALICE, ResourceKind::Volume).await;
    assert_eq!(stored.map(|t| t.timestamp()), Some(until.timestamp()));

    set_paid_until(&h, &row, Utc::now() - Duration::hours(1)).await;
    expiry::run_once(&h.state).await.unwrap();
    assert!(fake.state().dump().to_string().contains(&vol), "kept during the 72 h grace period");
    set_paid_until(&h, &row, Utc::now() - Duration::hours(73)).await;
    assert_eq!(expiry::run_once(&h.state).await.unwrap(), 1);
    let volumes = h.state.providers().get(&ProviderId::Fly).unwrap().volumes().unwrap().clone();
    let tenant = compute_gateway::services::tenancy::tenant_for(&h.state, &wallet(ALICE)).await.unwrap();
    match volumes.get_volume(&tenant, &vol).await {
        Err(e) => assert_eq!(e.kind(), compute_core::ErrorKind::NotFound),
        Ok(v) => assert_eq!(v.state, "destroyed", "deleted after the grace period"),
    }
    assert!(h.state.store().list_resources(&wallet(ALICE), ResourceKind::Volume).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_wallet_at_its_volume_cap_gets_409_before_anything_is_settled() {
    let (h, _fake) = on_fake("[limits]\nmax_volumes_per_wallet = 1\n").await;
    let first = pay(&h, ALICE, "cap-1", "POST", "/api/volumes", &volume_body(1, 1), None).await;
    assert_eq!(first.status, StatusCode::OK);
    let second = pay(&h, ALICE, "cap-2", "POST", "/api/volumes", &volume_body(1, 1), None).await;
    assert_eq!(second.status, StatusCode::CONFLICT, "{}", String::from_utf8_lossy(&second.body));
    assert!(
        h.state.store().payment_by_fingerprint("test:cap-2").await.unwrap().is_none(),
        "nothing recorded or settled"
    );
    let bob = pay(&h, BOB, "cap-3", "POST", "/api/volumes", &volume_body(1, 1), None).await;
    assert_eq!(bob.status, StatusCode::OK, "the cap is per wallet");
}

#[tokio::test]
async fn growing_a_volume_costs_the_gb_added_for_the_days_left() {
    let (h, _fake) = on_fake("").await;
    let a = pay(&h, ALICE, "g-1", "POST", "/api/volumes", &volume_body(1, 10), None).await;
    let vol = json(&a.body)["id"].as_str().unwrap().to_owned();
    let alice = api_key(&h, ALICE).await;
    let path = format!("/api/volumes/{vol}/extend");
    let grow = amount(&call_with(&h.app, "PUT", &path, &[("x-api-key", &alice)], r#"{"size_gb":5}"#).await);
    assert_eq!(grow, volume_price(&h, 4, 10).await, "the fee + 4 GB added × 10 days left");
    let c = format!("Payment test:{ALICE}:g-2:{grow}");
    let done = call_with(&h.app, "PUT", &path, &[("authorization", &c)], r#"{"size_gb":5}"#).await;
    assert_eq!(done.status, StatusCode::OK, "{}", String::from_utf8_lossy(&done.body));
    let row = &h.state.store().list_resources(&wallet(ALICE), ResourceKind::Volume).await.unwrap()[0];
    assert_eq!(row.spec["size_gb"], 5, "the recorded size follows");
    // Not growing is refused; another wallet's volume looks like no volume, and costs nothing.
    let same = call_with(&h.app, "PUT", &path, &[("x-api-key", &alice)], r#"{"size_gb":5}"#).await;
    assert_eq!(same.status, StatusCode::BAD_REQUEST);
    let bob = api_key(&h, BOB).await;
    let foreign = call_with(&h.app, "PUT", &path, &[("x-api-key", &bob)], r#"{"size_gb":9}"#).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_volume_renewal_moves_its_paid_time_and_is_bounded() {
    let (h, _fake) = on_fake("").await;
    let a = pay(&h, ALICE, "r-1", "POST", "/api/volumes", &volume_body(2, 1), None).await;
    let vol = json(&a.body)["id"].as_str().unwrap().to_owned();
    let (_, before) = paid_until_of(&h, ALICE, ResourceKind::Volume).await;
    let alice = api_key(&h, ALICE).await;
    let path = format!("/api/volumes/{vol}/renew");
    let price = amount(&call_with(&h.app, "POST", &path, &[("x-api-key", &alice)], r#"{"days":3}"#).await);
    let fee: Usd = "0.05".parse().unwrap();
    assert!(
        close(Usd::new(price.as_decimal() + fee.as_decimal()).unwrap(), volume_price(&h, 2, 3).await),
        "no fee: {price}"
    );
    let c = format!("Payment test:{ALICE}:r-2:{price}");
    let done = call_with(&h.app, "POST", &path, &[("authorization", &c)], r#"{"days":3}"#).await;
    assert_eq!(done.status, StatusCode::OK, "{}", String::from_utf8_lossy(&done.body));
    let (_, after) = paid_until_of(&h, ALICE, ResourceKind::Volume).await;
    assert_eq!((after.unwrap() - before.unwrap()).num_days(), 3);
    let too_far = call_with(&h.app, "POST", &path, &[("x-api-key", &alice)], r#"{"days":365}"#).await;
    assert_eq!(too_far.status, StatusCode::BAD_REQUEST, "366 days ahead is past the longest purchase");
}

/// Creates Alice's app; the path of its addresses.
async fn alice_ips_path(h: &Harness) -> String {
    let app = pay(h, ALICE, "app-1", "POST", "/api/apps", "", None).await;
    format!("/api/apps/{}/ips", json(&app.body)["name"].as_str().unwrap())
}

#[tokio::test]
async fn a_dedicated_ipv4_is_sold_per_period_renewed_released_and_expired() {
    let (h, fake) = on_fake("").await;
    let ips = alice_ips_path(&h).await;
    let one_day = amount(&call_with(&h.app, "POST", &ips, &[], r#"{"type":"v4","days":1}"#).await);
    let month = amount(&call_with(&h.app, "POST", &ips, &[], r#"{"type":"v4"}"#).await);
    assert!(month > one_day, "the default 30 days cost more than one: {month} vs {one_day}");
    let shared = call_with(&h.app, "POST", &ips, &[], r#"{"type":"shared_v4","days":3}"#).await;
    assert_eq!(shared.status, StatusCode::BAD_REQUEST, "a shared address has no period");

    let a = pay(&h, ALICE, "ip-1", "POST", &ips, r#"{"type":"v4","days":1}"#, None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", String::from_utf8_lossy(&a.body));
    let ip = json(&a.body)["ip"].as_str().unwrap().to_owned();
    assert!(json(&a.body)["paid_until"].is_string());
    let alice = api_key(&h, ALICE).await;
    let listed = call_with(&h.app, "GET", &ips, &[("x-api-key", &alice)], "").await;
    assert!(json(&listed.body)["ips"][0]["paid_until"].is_string(), "{}", String::from_utf8_lossy(&listed.body));
    // The TinyCompute docs send agents to the shared app `mpp-compute`: the caller's own app.
    let shared = call_with(&h.app, "GET", "/api/apps/mpp-compute/ips", &[("x-api-key", &alice)], "").await;
    assert_eq!(json(&shared.body)["ips"], json(&listed.body)["ips"], "{}", String::from_utf8_lossy(&shared.body));
    let bob_key = api_key(&h, BOB).await;
    let bobs = call_with(&h.app, "GET", "/api/apps/mpp-compute/ips", &[("x-api-key", &bob_key)], "").await;
    assert!(!String::from_utf8_lossy(&bobs.body).contains(&ip), "another wallet never sees Alice's address");

    let renew = format!("{ips}/{ip}/renew");
    let (row, before) = paid_until_of(&h, ALICE, ResourceKind::Ip).await;
    let r = pay(&h, ALICE, "ip-2", "POST", &renew, r#"{"days":2}"#, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", String::from_utf8_lossy(&r.body));
    let (_, after) = paid_until_of(&h, ALICE, ResourceKind::Ip).await;
    assert_eq!((after.unwrap() - before.unwrap()).num_days(), 2);
    let bob = pay(&h, BOB, "ip-3", "POST", &renew, r#"{"days":2}"#, None).await;
    assert_eq!(bob.status, StatusCode::NOT_FOUND, "another wallet's address");

    set_paid_until(&h, &row, Utc::now() - Duration::hours(73)).await;
    assert_eq!(expiry::run_once(&h.state).await.unwrap(), 1);
    let held = h.state.providers().get(&ProviderId::Fly).unwrap().ips().unwrap().clone();
    let tenant = compute_gateway::services::tenancy::tenant_for(&h.state, &wallet(ALICE)).await.unwrap();
    assert!(held.list_ips(&tenant).await.unwrap().iter().all(|a| a.ip != ip), "released at the provider");
    drop(fake);
}

#[tokio::test]
async fn releasing_a_dedicated_ipv4_ends_its_period() {
    let (h, _fake) = on_fake("").await;
    let ips = alice_ips_path(&h).await;
    let a = pay(&h, ALICE, "ip-1", "POST", &ips, r#"{"type":"v4","days":1}"#, None).await;
    let ip = json(&a.body)["ip"].as_str().unwrap().to_owned();
    let released = pay(&h, ALICE, "ip-2", "DELETE", &format!("{ips}/{ip}"), "", None).await;
    assert_eq!(released.status, StatusCode::OK, "{}", String::from_utf8_lossy(&released.body));
    assert!(h.state.store().list_resources(&wallet(ALICE), ResourceKind::Ip).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_published_rates_are_the_ones_charged() {
    // docs/API.md § Volumes and dedicated IPv4 addresses: Fly's $0.15 per GB and $2 per
    // dedicated IPv4 per 30 days, plus the default 25 % margin, per day.
    let h = harness_with("").await;
    assert_eq!(volume_price(&h, 1, 30).await, "0.2381".parse().unwrap(), "$0.05 + 30 × $0.00627");
    let v4 = call_with(&h.app, "POST", "/api/apps/x/ips", &[], r#"{"type":"v4","days":30}"#).await;
    assert_eq!(amount(&v4), "2.5102".parse().unwrap(), "$0.01 + 30 × $0.08334");
    let llms = String::from_utf8(
        common::answer(&h.app, axum::http::Request::get("/llms.txt").body(axum::body::Body::empty()).unwrap())
            .await
            .body,
    )
    .unwrap();
    assert!(llms.contains("- fly: storage $0.00627 per GB per day; dedicated IPv4 $0.08334 per day"), "{llms}");
    assert!(llms.contains("destroyed 72 h later"), "the grace period is published");
}
