//! The real `compute-digitalocean` adapter, driven through the compute-core traits against the
//! DigitalOcean fake: the provider conformance suite, then what the suite does not cover.

use std::collections::BTreeMap;
use std::time::Duration;

use compute_core::ErrorKind;
use compute_core::conformance::{self, Fixture};
use compute_core::http::{RetryPolicy, SecretString};
use compute_core::provider::{MachineSize, MachineSpec, MachineState, ProviderHandle, SnapshotSpec, Tenant};
use compute_digitalocean::DoConfig;
use compute_testkit::do_fake::{FakeConfig, RunningFake, fingerprint, spawn};
use serde_json::Value;

const TOKEN: &str = "dop_v1_fake_token";

/// An Ed25519 public key in OpenSSH format (the blob is `ssh-ed25519` and 32 bytes).
const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@example";

fn fast() -> RetryPolicy {
    RetryPolicy {
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        total_timeout: Duration::from_secs(20),
        ..RetryPolicy::default()
    }
}

fn handle_with(fake: &RunningFake, token: &str) -> ProviderHandle {
    let config = DoConfig::new(SecretString::from(token)).with_base_url(fake.url()).with_retry(fast());
    compute_digitalocean::handle(config).unwrap()
}

fn handle(fake: &RunningFake) -> ProviderHandle {
    handle_with(fake, TOKEN)
}

fn tenant() -> Tenant {
    Tenant::new("tenant-a").unwrap()
}

fn spec(name: &str) -> MachineSpec {
    MachineSpec {
        user_data: Some("#cloud-config\npackages: [htop]\n".into()),
        labels: BTreeMap::from([("cg_owner".to_owned(), "0xabc".to_owned())]),
        ..MachineSpec::of_plan(name, "nyc1", "ubuntu-24-04-x64", "s-1vcpu-1gb")
    }
}

async fn hook(fake: &RunningFake, name: &str, body: &str) {
    let r = reqwest::Client::new()
        .post(format!("{}/__fake/{name}", fake.url()))
        .bearer_auth(TOKEN)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "hook {name}: {}", r.status());
}

fn requests(fake: &RunningFake, prefix: &str) -> usize {
    let log = fake.state().dump()["requests"].clone();
    log.as_array().unwrap().iter().filter(|r| r.as_str().is_some_and(|r| r.starts_with(prefix))).count()
}

const SECS10: Duration = Duration::from_secs(10);

#[tokio::test]
async fn the_conformance_suite_passes() {
    let fake = spawn(FakeConfig::new(TOKEN)).await.unwrap();
    let mut fixture = Fixture::new(tenant(), spec("conformance-1"));
    fixture.ssh_public_key = Some(KEY.to_owned());
    fixture.wait = SECS10;
    conformance::run(&handle(&fake), fixture).await;
}

#[tokio::test]
async fn the_conformance_suite_passes_with_slow_transitions() {
    let fake = spawn(FakeConfig::new(TOKEN).with_transition_delay(Duration::from_millis(150))).await.unwrap();
    let mut fixture = Fixture::new(tenant(), spec("conformance-slow"));
    fixture.ssh_public_key = Some(KEY.to_owned());
    fixture.wait = SECS10;
    conformance::run(&handle(&fake), fixture).await;
}

#[tokio::test]
async fn a_droplet_is_created_with_its_tag_key_and_user_data_and_gets_an_address() {
    let fake = spawn(FakeConfig::new(TOKEN).with_transition_delay(Duration::from_millis(100))).await.unwrap();
    let h = handle(&fake);
    let (t, machines) = (tenant(), h.machines().unwrap());
    h.tenancy().unwrap().ensure_tenant(&t).await.unwrap();
    let key = h.ssh_keys().unwrap().create_key(&t, "laptop", KEY).await.unwrap();
    assert_eq!(key.fingerprint, fingerprint(KEY).unwrap());
    assert_eq!(key.name, "laptop");
    let mut s = spec("web-1");
    s.ssh_keys = vec![key.id.clone(), key.fingerprint.clone()];
    let m = machines.create(&t, &s).await.unwrap();
    assert_eq!(m.state, MachineState::Creating);
    assert!(m.public_ips.is_empty());
    let up = machines.wait(&t, &m.id, &MachineState::Started, SECS10).await.unwrap();
    assert_eq!(up.public_ips.len(), 1, "{:?}", up.public_ips);
    assert!(up.private_ip.is_some());
    let state = fake.state().dump();
    let d = &state["droplets"][0];
    assert_eq!(d["user_data"], "#cloud-config\npackages: [htop]\n");
    assert_eq!(d["tags"], serde_json::json!(["cg-tenant-a"]));
    let key_id: u64 = key.id.parse().unwrap();
    assert_eq!(d["ssh_key_ids"], serde_json::json!([key_id, key_id]));
    let again = machines.create(&t, &s).await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::AlreadyExists, "{again}");
    let other = Tenant::new("tenant-b").unwrap();
    assert!(machines.list(&other).await.unwrap().is_empty());
    assert_eq!(machines.get(&other, &m.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(machines.destroy(&other, &m.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(fake.state().dump()["droplets"].as_array().unwrap().len(), 1, "another tenant destroyed nothing");
}

#[tokio::test]
async fn a_lost_create_answer_is_reconciled_by_name_and_tag_with_one_post() {
    let fake = spawn(FakeConfig::new(TOKEN)).await.unwrap();
    let h = handle(&fake);
    let t = tenant();
    hook(&fake, "fail-next", r#"{"path_contains":"/v2/droplets","method":"POST","status":500,"apply":true}"#).await;
    let m = h.machines().unwrap().create(&t, &spec("lost")).await.unwrap();
    assert_eq!(m.name, "lost");
    assert_eq!(requests(&fake, "POST /v2/droplets"), 1);
    let log = fake.state().dump()["requests"].clone();
    assert!(log.as_array().unwrap().iter().any(|r| r == "GET /v2/droplets?tag_name=cg-tenant-a&per_page=200"), "{log}");
}

#[tokio::test]
async fn a_create_that_failed_for_real_is_not_retried() {
    let fake = spawn(FakeConfig::new(TOKEN)).await.unwrap();
    let h = handle(&fake);
    hook(&fake, "fail-next", r#"{"path_contains":"/v2/droplets","method":"POST","status":503}"#).await;
    let e = h.machines().unwrap().create(&tenant(), &spec("never")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Provider, "{e}");
    assert!(e.is_temporary());
    assert_eq!(requests(&fake, "POST /v2/droplets"), 1);
    assert!(h.machines().unwrap().list(&tenant()).await.unwrap().is_empty());
}

#[tokio::test]
async fn stop_falls_back_to_power_off_when_the_shutdown_errors() {
    let fake = spawn(FakeConfig::new(TOKEN)).await.unwrap();
    let h = handle(&fake);
    let (t, machines) = (tenant(), h.machines().unwrap());
    let m = machines.create(&t, &spec("stubborn")).await.unwrap();
    machines.wait(&t, &m.id, &MachineState::Started, SECS10).await.unwrap();
    hook(&fake, "fail-action", r#"{"type":"shutdown"}"#).await;
    machines.stop(&t, &m.id).await.unwrap();
    assert_eq!(machines.get(&t, &m.id).await.unwrap().state, MachineState::Stopped);
    let actions: Vec<(String, String)> = fake.state().dump()["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["type"].as_str().unwrap().to_owned(), a["status"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [("create", "completed"), ("shutdown", "errored"), ("power_off", "completed")];
    assert_eq!(actions, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));
}

#[tokio::test]
async fn resize_powers_the_droplet_down_and_up_again() {
    let fake = spawn(FakeConfig::new(TOKEN).with_transition_delay(Duration::from_millis(50))).await.unwrap();
    let h = handle(&fake);
    let (t, machines) = (tenant(), h.machines().unwrap());
    let m = machines.create(&t, &spec("grow")).await.unwrap();
    machines.wait(&t, &m.id, &MachineState::Started, SECS10).await.unwrap();
    let size = MachineSize::Plan("s-2vcpu-4gb".into());
    let resized = h.resize().unwrap().resize(&t, &m.id, &size).await.unwrap();
    assert_eq!((resized.size, resized.state), (Some(size), MachineState::Started));
    assert_eq!(resized.raw["disk"], 25, "disk: false keeps the disk");
    assert_eq!(resized.raw["memory"], 4096);
}

#[tokio::test]
async fn a_snapshot_restores_a_droplet_for_its_tenant_only() {
    let fake = spawn(FakeConfig::new(TOKEN)).await.unwrap();
    let h = handle(&fake);
    let (t, machines, snaps) = (tenant(), h.machines().unwrap(), h.snapshots().unwrap());
    let m = machines.create(&t, &spec("origin")).await.unwrap();
    machines.wait(&t, &m.id, &MachineState::Started, SECS10).await.unwrap();
    let snap = snaps
        .create_snapshot(&t, &SnapshotSpec { source_id: m.id.clone(), name: Some("golden".into()) })
        .await
        .unwrap();
    assert_eq!(
        (snap.name.as_deref(), snap.source_id.as_str(), snap.status.as_str()),
        (Some("golden"), m.id.as_str(), "available")
    );
    assert_eq!(fake.state().dump()["snapshots"][0]["name"], "cg-tenant-a:golden");
    let mut restore = spec("copy");
    restore.image = snap.id.clone();
    let copy = machines.create(&t, &restore).await.unwrap();
    assert_eq!(copy.raw["image"]["id"].as_u64().map(|n| n.to_string()), Some(snap.id.clone()));
    let other = Tenant::new("tenant-b").unwrap();
    let e = machines.create(&other, &restore).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(snaps.get_snapshot(&other, &snap.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(snaps.delete_snapshot(&other, &snap.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    let named_by_default =
        snaps.create_snapshot(&t, &SnapshotSpec { source_id: m.id.clone(), name: None }).await.unwrap();
    assert!(named_by_default.name.as_deref().is_some_and(|n| n.starts_with("origin-")), "{named_by_default:?}");
    assert_eq!(snaps.list_snapshots(&t).await.unwrap().len(), 2);
}

#[tokio::test]
async fn keys_are_account_wide_so_a_key_cannot_be_registered_twice() {
    let fake = spawn(FakeConfig::new(TOKEN)).await.unwrap();
    let h = handle(&fake);
    let keys = h.ssh_keys().unwrap();
    let k = keys.create_key(&tenant(), "laptop", KEY).await.unwrap();
    let other = Tenant::new("tenant-b").unwrap();
    let e = keys.create_key(&other, "mine-too", KEY).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    assert_eq!(keys.delete_key(&other, &k.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(keys.delete_key(&other, &k.fingerprint).await.unwrap_err().kind(), ErrorKind::NotFound);
    keys.delete_key(&tenant(), &k.fingerprint).await.unwrap();
    assert!(keys.list_keys(&tenant()).await.unwrap().is_empty());
}

#[tokio::test]
async fn delete_tenant_removes_droplets_snapshots_keys_and_the_tag() {
    let fake = spawn(FakeConfig::new(TOKEN)).await.unwrap();
    let h = handle(&fake);
    let t = tenant();
    let other = Tenant::new("tenant-b").unwrap();
    let tenancy = h.tenancy().unwrap();
    tenancy.ensure_tenant(&t).await.unwrap();
    tenancy.ensure_tenant(&other).await.unwrap();
    let machines = h.machines().unwrap();
    let m = machines.create(&t, &spec("doomed")).await.unwrap();
    let kept = machines.create(&other, &spec("kept")).await.unwrap();
    machines.wait(&t, &m.id, &MachineState::Started, SECS10).await.unwrap();
    h.snapshots().unwrap().create_snapshot(&t, &SnapshotSpec { source_id: m.id.clone(), name: None }).await.unwrap();
    h.ssh_keys().unwrap().create_key(&t, "laptop", KEY).await.unwrap();
    tenancy.delete_tenant(&t).await.unwrap();
    let state = fake.state().dump();
    let ids: Vec<u64> = state["droplets"].as_array().unwrap().iter().filter_map(|d| d["id"].as_u64()).collect();
    assert_eq!(ids, [kept.id.parse::<u64>().unwrap()]);
    assert!(state["snapshots"].as_array().unwrap().is_empty() && state["ssh_keys"].as_array().unwrap().is_empty());
    assert_eq!(state["tags"], serde_json::json!(["cg-tenant-b"]));
    tenancy.delete_tenant(&t).await.unwrap();
}

#[tokio::test]
async fn a_used_up_rate_limit_fails_fast_and_a_burst_429_is_retried() {
    let fake = spawn(FakeConfig::new(TOKEN)).await.unwrap();
    let h = handle(&fake);
    let machines = h.machines().unwrap();
    hook(&fake, "fail-next", r#"{"path_contains":"/v2/droplets","status":429,"headers":{"retry-after":"0"},"body":{"id":"too_many_requests","message":"API rate limit exceeded."}}"#).await;
    assert!(machines.list(&tenant()).await.unwrap().is_empty(), "the burst 429 is retried");
    assert_eq!(requests(&fake, "GET /v2/droplets"), 2);
    hook(&fake, "rate-limit", r#"{"remaining":1,"reset_in_secs":3600}"#).await;
    machines.list(&tenant()).await.unwrap();
    let e = machines.list(&tenant()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
    assert!(e.message().contains("hourly API rate limit is used up"), "{e}");
    assert_eq!(requests(&fake, "GET /v2/droplets"), 3, "the refused call was never sent");
}

#[tokio::test]
async fn a_wrong_token_is_unauthenticated() {
    let fake = spawn(FakeConfig::new(TOKEN)).await.unwrap();
    let e = handle_with(&fake, "dop_v1_wrong").machines().unwrap().list(&tenant()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    assert!(e.message().contains("Unable to authenticate you.") && e.message().contains("request-id"), "{e}");
    assert!(!format!("{e:?}").contains("dop_v1_wrong"));
}

#[tokio::test]
async fn the_catalog_comes_from_the_fake_with_exact_prices() {
    let fake = spawn(FakeConfig::new(TOKEN)).await.unwrap();
    let c = handle(&fake).provider().catalog().await.unwrap();
    assert!(c.size("s-8vcpu-16gb").is_none(), "unavailable sizes are not offered");
    for (slug, hourly) in
        [("s-1vcpu-512mb-10gb", "0.00595"), ("s-1vcpu-1gb", "0.00743999984115362"), ("gpu-h100x1-80gb", "6.74")]
    {
        assert_eq!(c.size(slug).unwrap().cost.rate.amount.to_string(), hourly, "{slug}");
    }
    assert!(c.region("sfo3").is_some() && c.region("ams3").is_some());
    let images: Vec<&str> = c.images.iter().map(|i| i.id.as_str()).collect();
    assert!(images.contains(&"ubuntu-24-04-x64") && !images.contains(&"docker-20-04"), "{images:?}");
    let raw: Value = reqwest::Client::new()
        .get(format!("{}/v2/sizes?per_page=2", fake.url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        raw["links"]["pages"]["next"].as_str().is_some_and(|n| n.ends_with("/v2/sizes?page=2&per_page=2")),
        "{raw}"
    );
}
