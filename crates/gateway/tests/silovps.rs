//! The SiloVPS surface (`/v1/*`) and TinyCompute's `/api/do/droplets*` against the stateful
//! DigitalOcean fake: the seed's worked prices, the whole server workflow (keys, create with a
//! root password, extend, power, reboot, delete with a snapshot, restore), another wallet
//! denied every verb, bad input refused before the 402, and expiry snapshotting and destroying
//! a lapsed server, then deleting its snapshot after the retention.

mod common;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::{Answer, Harness, call_with, harness_with, json};
use compute_core::http::ExposeSecret;
use compute_core::{Usd, WalletAddress};
use compute_gateway::services::expiry;
use compute_store::{ResourceKind, ResourceUpdate};
use compute_testkit::do_fake::{FakeConfig, RunningFake, spawn};
use serde_json::Value;

const ALICE: &str = "0x00000000000000000000000000000000000a11ce";
const BOB: &str = "0x0000000000000000000000000000000000000b0b";
const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@laptop";

async fn on_fake() -> (Harness, RunningFake) {
    let fake = spawn(FakeConfig::new("do-test")).await.unwrap();
    let extra = format!("[providers.digitalocean]\ntoken = \"do-test\"\nbase_url = \"{}\"\n", fake.url());
    (harness_with(&extra).await, fake)
}

fn amount(a: &Answer) -> Usd {
    assert_eq!(a.status, StatusCode::PAYMENT_REQUIRED, "{}", String::from_utf8_lossy(&a.body));
    json(&a.body)["amount_usd"].as_str().unwrap().parse().unwrap()
}

fn usd(s: &str) -> Usd {
    s.parse().unwrap()
}

async fn key_of(h: &Harness, who: &str) -> String {
    let wallet: WalletAddress = who.parse().unwrap();
    h.state.store().create_api_key(&wallet, "t", None).await.unwrap().key.expose_secret().to_owned()
}

/// `method path body`: the 402 (asked as `who` through an API key, for routes priced per
/// wallet), then the same request paid by `who` with `nonce`.
async fn pay(h: &Harness, who: &str, nonce: &str, method: &str, path: &str, body: &str) -> Answer {
    let key = key_of(h, who).await;
    let price = amount(&call_with(&h.app, method, path, &[("x-api-key", &key)], body).await);
    let c = format!("Payment test:{who}:{nonce}:{price}");
    call_with(&h.app, method, path, &[("authorization", &c)], body).await
}

/// A free wallet-authenticated call as `who`.
async fn free(h: &Harness, who: &str, method: &str, path: &str) -> Answer {
    let key = key_of(h, who).await;
    call_with(&h.app, method, path, &[("x-api-key", &key)], "").await
}

fn droplets(fake: &RunningFake) -> Vec<Value> {
    fake.state().dump()["droplets"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn the_seeds_worked_prices_are_charged() {
    let (h, _fake) = on_fake().await;
    let price = |body: &'static str| {
        let app = h.app.clone();
        async move { amount(&call_with(&app, "POST", "/v1/servers", &[], body).await) }
    };
    assert_eq!(
        price(r#"{"size":"small","region":"nyc1","image":"ubuntu-24-04-x64","minutes":20}"#).await,
        usd("0.025")
    );
    assert_eq!(price(r#"{"size":"medium","region":"sfo3","image":"debian-12-x64","minutes":360}"#).await, usd("0.32"));
    assert_eq!(price(r#"{"size":"small"}"#).await, usd("0.02025"), "1 minute by default");
    let created = pay(&h, ALICE, "p-1", "POST", "/v1/servers", r#"{"size":"small","minutes":20}"#).await;
    let id = json(&created.body)["id"].as_str().unwrap().to_owned();
    // Extend is priced from the request alone (the id names the size), so a client that
    // has never proven its wallet gets the priced 402 at once.
    let extend = call_with(&h.app, "POST", &format!("/v1/servers/{id}/extend"), &[], r#"{"minutes":1}"#).await;
    assert_eq!(amount(&extend), usd("0.01"), "$0.00025 floors to $0.01");
    let hour = call_with(&h.app, "POST", &format!("/v1/servers/{id}/extend"), &[], r#"{"minutes":60}"#).await;
    assert_eq!(amount(&hour), usd("0.015"), "small: $0.015/h");
    let unknown = call_with(&h.app, "POST", "/v1/servers/srv_medium-999999/extend", &[], r#"{"minutes":60}"#).await;
    assert_eq!(amount(&unknown), usd("0.045"), "an unknown id is priced like any other: nothing tells it apart");
}

#[tokio::test]
async fn a_server_relabelled_with_a_cheaper_size_cannot_be_extended() {
    let (h, _fake) = on_fake().await;
    let created = pay(&h, ALICE, "m-1", "POST", "/v1/servers", r#"{"size":"medium","minutes":20}"#).await;
    let id = json(&created.body)["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("srv_medium-"), "{id}");
    let forged = id.replace("srv_medium-", "srv_small-");
    let path = format!("/v1/servers/{forged}/extend");
    let price = amount(&call_with(&h.app, "POST", &path, &[], r#"{"minutes":600}"#).await);
    assert_eq!(price, usd("0.15"), "priced as the small size the forged id names");
    let c = format!("Payment test:{ALICE}:forged:{price}");
    let a = call_with(&h.app, "POST", &path, &[("authorization", &c)], r#"{"minutes":600}"#).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", String::from_utf8_lossy(&a.body));
    assert!(h.state.store().payment_by_fingerprint("test:forged").await.unwrap().is_none(), "nothing settled");
}

#[tokio::test]
async fn bad_input_is_refused_before_any_challenge() {
    let (h, _fake) = on_fake().await;
    for body in [
        r#"{"size":"huge"}"#,
        r#"{"size":"small","region":"mars"}"#,
        r#"{"size":"small","image":"windows"}"#,
        r#"{"size":"small","minutes":0}"#,
        r#"{"size":"small","minutes":43201}"#,
        r#"{"size":"small","color":"red"}"#,
        r#"{"size":"small","ssh_key_ids":["123"]}"#,
    ] {
        let a = call_with(&h.app, "POST", "/v1/servers", &[], body).await;
        assert!(a.status == StatusCode::BAD_REQUEST || a.status == StatusCode::NOT_FOUND, "{body}: {}", a.status);
        assert!(a.headers.get("www-authenticate").is_none(), "{body}");
    }
    for key in ["ssh-ed25519 AAAA", "ssh-dss AAAAB3NzaC1kc3MAAACBAP", "hello"] {
        let body = format!(r#"{{"name":"k","public_key":"{key}"}}"#);
        let a = call_with(&h.app, "POST", "/v1/keys", &[], &body).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{key}");
    }
}

#[tokio::test]
async fn the_server_workflow_from_the_docs() {
    let (h, fake) = on_fake().await;
    // Catalog (free, no wallet).
    let sizes = call_with(&h.app, "GET", "/v1/catalog/sizes", &[], "").await;
    let small = json(&sizes.body)["sizes"].as_array().unwrap().iter().find(|s| s["id"] == "small").cloned().unwrap();
    assert_eq!(
        (small["create_fee"].as_str(), small["hourly"].as_str(), small["per_minute"].as_str()),
        (Some("0.02"), Some("0.015"), Some("0.00025"))
    );
    assert_eq!(
        json(&call_with(&h.app, "GET", "/v1/catalog/regions", &[], "").await.body)["regions"].as_array().unwrap().len(),
        3
    );
    // Register a key, create a small server for 20 minutes with it.
    let k = pay(&h, ALICE, "k-1", "POST", "/v1/keys", &format!(r#"{{"name":"laptop","public_key":"{KEY}"}}"#)).await;
    assert_eq!(k.status, StatusCode::OK, "{}", String::from_utf8_lossy(&k.body));
    let key_id = json(&k.body)["id"].as_str().unwrap().to_owned();
    assert!(key_id.starts_with("key_"));
    let body = format!(
        r#"{{"size":"small","region":"nyc1","image":"ubuntu-24-04-x64","minutes":20,"ssh_key_ids":["{key_id}"]}}"#
    );
    let created = pay(&h, ALICE, "c-1", "POST", "/v1/servers", &body).await;
    assert_eq!(created.status, StatusCode::OK, "{}", String::from_utf8_lossy(&created.body));
    let c = json(&created.body);
    let id = c["id"].as_str().unwrap().to_owned();
    assert!(
        id.starts_with("srv_small-")
            && c["status"] == "provisioning"
            && c["minutes_purchased"] == 20
            && c["total_charged"] == "0.025",
        "{c}"
    );
    // The droplet got the key and a cloud-init root password; the row keeps it sealed only.
    let got = free(&h, ALICE, "GET", &format!("/v1/servers/{id}")).await;
    let g = json(&got.body);
    let password = g["root_password"].as_str().unwrap().to_owned();
    assert!(
        password.len() >= 16
            && g["status"] == "active"
            && g["ip"].is_string()
            && g["remaining_minutes"].as_i64().unwrap() >= 19,
        "{g}"
    );
    let droplet = droplets(&fake).into_iter().find(|d| format!("srv_small-{}", d["id"]) == id).unwrap();
    assert!(droplet["user_data"].as_str().unwrap().contains(&password));
    assert_eq!(droplet["ssh_key_ids"].as_array().unwrap().len(), 1);
    let rows = h.state.store().list_resources(&ALICE.parse().unwrap(), ResourceKind::Machine).await.unwrap();
    assert!(!rows[0].spec.to_string().contains(&password), "the stored row never holds the password");
    // Extend by one minute.
    let before = rows[0].paid_until.unwrap();
    let ext = pay(&h, ALICE, "e-1", "POST", &format!("/v1/servers/{id}/extend"), r#"{"minutes":1}"#).await;
    assert_eq!(
        (ext.status, json(&ext.body)["charged"].as_str(), json(&ext.body)["minutes_added"].as_u64()),
        (StatusCode::OK, Some("0.01"), Some(1))
    );
    let after = h.state.store().list_resources(&ALICE.parse().unwrap(), ResourceKind::Machine).await.unwrap()[0]
        .paid_until
        .unwrap();
    assert_eq!((after - before).num_seconds(), 60);
    // Power off and on, reboot.
    for (nonce, action, status) in [("o-1", "off", "off"), ("o-2", "on", "active")] {
        let a =
            pay(&h, ALICE, nonce, "POST", &format!("/v1/servers/{id}/power"), &format!(r#"{{"action":"{action}"}}"#))
                .await;
        assert_eq!((a.status, json(&a.body)["status"].as_str()), (StatusCode::OK, Some(status)));
    }
    let r = pay(&h, ALICE, "r-1", "POST", &format!("/v1/servers/{id}/reboot"), "").await;
    assert_eq!(r.status, StatusCode::OK);
    // Delete: a snapshot comes back and is listed; restore from it.
    let del = free(&h, ALICE, "DELETE", &format!("/v1/servers/{id}")).await;
    let d = json(&del.body);
    assert!(d["deleted"] == true && d["snapshot"]["expires_in_hours"] == 72, "{d}");
    let snap = d["snapshot"]["id"].as_str().unwrap().to_owned();
    let listed = json(&free(&h, ALICE, "GET", "/v1/servers/snapshots/list").await.body);
    assert_eq!(listed["snapshots"][0]["id"], snap.as_str());
    assert!(json(&free(&h, ALICE, "GET", "/v1/servers").await.body)["servers"].as_array().unwrap().is_empty());
    let restore = format!(r#"{{"size":"small","region":"nyc1","snapshot_id":"{snap}","minutes":360}}"#);
    let restored = pay(&h, ALICE, "c-2", "POST", "/v1/servers", &restore).await;
    assert_eq!(restored.status, StatusCode::OK, "{}", String::from_utf8_lossy(&restored.body));
    let new_id = json(&restored.body)["id"].as_str().unwrap().to_owned();
    let from = droplets(&fake).into_iter().find(|d| format!("srv_small-{}", d["id"]) == new_id).unwrap();
    assert_eq!(format!("snap_{}", from["image"]["id"]), snap, "{from}");
}

#[tokio::test]
async fn another_wallet_is_denied_every_verb_and_pays_nothing() {
    let (h, _fake) = on_fake().await;
    let k = pay(&h, ALICE, "k-1", "POST", "/v1/keys", &format!(r#"{{"name":"laptop","public_key":"{KEY}"}}"#)).await;
    let key_id = json(&k.body)["id"].as_str().unwrap().to_owned();
    let id = json(&pay(&h, ALICE, "c-1", "POST", "/v1/servers", r#"{"size":"small","minutes":5}"#).await.body)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (method, path) in [
        ("GET", format!("/v1/servers/{id}")),
        ("DELETE", format!("/v1/servers/{id}")),
        ("DELETE", format!("/v1/keys/{key_id}")),
    ] {
        assert_eq!(free(&h, BOB, method, &path).await.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    for (n, (path, body)) in [
        (format!("/v1/servers/{id}/reboot"), "".to_owned()),
        (format!("/v1/servers/{id}/power"), r#"{"action":"off"}"#.to_owned()),
        (format!("/v1/servers/{id}/extend"), r#"{"minutes":5}"#.to_owned()),
        ("/v1/servers".to_owned(), format!(r#"{{"size":"small","ssh_key_ids":["{key_id}"]}}"#)),
    ]
    .into_iter()
    .enumerate()
    {
        let c = format!("Payment test:{BOB}:bob-{n}:{}", amount(&call_with(&h.app, "POST", &path, &[], &body).await));
        let a = call_with(&h.app, "POST", &path, &[("authorization", &c)], &body).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}: {}", String::from_utf8_lossy(&a.body));
        assert!(
            h.state.store().payment_by_fingerprint(&format!("test:bob-{n}")).await.unwrap().is_none(),
            "nothing settled"
        );
    }
    assert!(json(&free(&h, BOB, "GET", "/v1/servers").await.body)["servers"].as_array().unwrap().is_empty());
    assert!(json(&free(&h, BOB, "GET", "/v1/keys").await.body)["keys"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_lapsed_server_is_snapshotted_and_destroyed_and_its_snapshot_deleted_later() {
    let (h, fake) = on_fake().await;
    let id = json(&pay(&h, ALICE, "c-1", "POST", "/v1/servers", r#"{"size":"small","minutes":1}"#).await.body)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let alice: WalletAddress = ALICE.parse().unwrap();
    let row = h.state.store().list_resources(&alice, ResourceKind::Machine).await.unwrap().remove(0);
    h.state
        .store()
        .update_resource(&row.id, ResourceUpdate::default().paid_until(Utc::now() - Duration::seconds(5)))
        .await
        .unwrap();
    assert_eq!(expiry::run_once(&h.state).await.unwrap(), 1);
    let pid: u64 = id.rsplit('-').next().unwrap().parse().unwrap();
    assert!(droplets(&fake).iter().all(|d| d["id"] != pid), "destroyed at the provider");
    let snaps = h.state.store().list_resources(&alice, ResourceKind::Snapshot).await.unwrap();
    assert_eq!(snaps.len(), 1, "kept as a snapshot");
    assert!((snaps[0].paid_until.unwrap() - Utc::now() - Duration::hours(72)).num_minutes().abs() <= 1);
    h.state
        .store()
        .update_resource(&snaps[0].id, ResourceUpdate::default().paid_until(Utc::now() - Duration::seconds(1)))
        .await
        .unwrap();
    assert_eq!(expiry::run_once(&h.state).await.unwrap(), 1);
    assert!(fake.state().dump()["snapshots"].as_array().unwrap().is_empty(), "deleted after the retention");
}

#[tokio::test]
async fn tinycompute_droplets_are_created_read_stopped_and_destroyed() {
    let (h, fake) = on_fake().await;
    let body = r#"{"name":"my-droplet","region":"nyc1","size":"s-1vcpu-1gb","image":"ubuntu-24-04-x64"}"#;
    let price = amount(&call_with(&h.app, "POST", "/api/do/droplets", &[], body).await);
    assert_eq!(price, usd("0.22"), "$0.16 setup + 10 × $0.006");
    let created = pay(&h, ALICE, "d-1", "POST", "/api/do/droplets", body).await;
    assert_eq!(created.status, StatusCode::OK, "{}", String::from_utf8_lossy(&created.body));
    let id = json(&created.body)["id"].to_string();
    let get = pay(&h, ALICE, "d-2", "GET", &format!("/api/do/droplets/{id}"), "").await;
    assert_eq!((get.status, json(&get.body)["name"].as_str()), (StatusCode::OK, Some("my-droplet")));
    let stop = pay(&h, ALICE, "d-3", "POST", &format!("/api/do/droplets/{id}/stop"), "").await;
    assert_eq!(stop.status, StatusCode::OK);
    assert_eq!(droplets(&fake)[0]["status"], "off");
    let del = pay(&h, ALICE, "d-4", "DELETE", &format!("/api/do/droplets/{id}"), "").await;
    assert_eq!(del.status, StatusCode::OK);
    assert!(droplets(&fake).is_empty());
}
