//! Droplets: create (with tags, keys, user data; reconciled when the answer is lost), list by
//! tag, get, isolation between tenants, destroy and wait.

use std::time::Duration;

use compute_core::ErrorKind;
use compute_core::provider::{MachineSize, MachineState, Machines};
use compute_digitalocean::RECONCILE_LOOKUPS;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{DROPLET, TAG, fixture_json, json_reply, other_tenant, provider, recorded, reply, spec, tenant};

/// Answers the name check before a create with an empty list, once.
async fn no_droplets_yet(s: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/v2/droplets"))
        .and(query_param("tag_name", TAG))
        .respond_with(reply(200, "droplets_empty.json"))
        .up_to_n_times(1)
        .expect(1)
        .mount(s)
        .await;
}

#[tokio::test]
async fn create_sends_the_spec_with_the_tenant_tag_keys_and_user_data() {
    let s = MockServer::start().await;
    no_droplets_yet(&s).await;
    Mock::given(method("POST"))
        .and(path("/v2/droplets"))
        .respond_with(reply(202, "droplet_created.json"))
        .expect(1)
        .mount(&s)
        .await;
    let m = provider(&s).create(&tenant(), &spec()).await.unwrap();
    assert_eq!((m.id.as_str(), m.name.as_str()), (DROPLET, "web-1"));
    assert_eq!(m.state, MachineState::Creating, "a new droplet is `new`");
    assert_eq!(m.region, "nyc3");
    assert_eq!(m.size, Some(MachineSize::Plan("s-1vcpu-1gb".into())));
    assert!(m.public_ips.is_empty(), "no address until active");
    assert_eq!(m.created_at.unwrap().to_rfc3339(), "2020-07-21T18:37:44+00:00");
    assert_eq!(m.raw, fixture_json("droplet_created.json")["droplet"]);
    let sent = recorded(&s).await;
    assert_eq!(sent[1]["body"]["image"], "ubuntu-20-04-x64");
    assert_eq!(
        sent[1]["body"]["ssh_keys"],
        serde_json::json!([512_189, "3b:16:e4:bf:8b:00:8b:b8:59:8c:a9:d3:f0:19:fa:45"])
    );
    assert!(sent[1]["body"].get("labels").is_none(), "labels are not sent");
    insta::assert_json_snapshot!("create_droplet", sent);
}

#[tokio::test]
async fn a_numeric_image_must_be_public_or_the_tenants_snapshot() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/images/6372321"))
        .respond_with(reply(200, "image_snapshot.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/images/6372322"))
        .respond_with(reply(200, "image_snapshot_foreign.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/images/6918990"))
        .respond_with(reply(200, "image_public.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/images/5"))
        .respond_with(reply(404, "error_not_found.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/droplets"))
        .respond_with(reply(200, "droplets_empty.json"))
        .expect(2)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/droplets"))
        .respond_with(reply(202, "droplet_created.json"))
        .expect(2)
        .mount(&s)
        .await;
    let p = provider(&s);
    let mut restore = spec();
    restore.image = "6372321".into();
    p.create(&tenant(), &restore).await.unwrap();
    restore.image = "6918990".into();
    p.create(&tenant(), &restore).await.unwrap();
    for foreign in ["6372322", "5"] {
        restore.image = foreign.into();
        let e = p.create(&tenant(), &restore).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        assert_eq!(e.message(), format!("image {foreign} not found"));
    }
    let sent = recorded(&s).await;
    let bodies: Vec<&serde_json::Value> =
        sent.as_array().unwrap().iter().filter(|r| r["method"] == "POST").map(|r| &r["body"]["image"]).collect();
    assert_eq!(bodies, [&serde_json::json!(6_372_321), &serde_json::json!(6_918_990)], "numeric images are integers");
}

#[tokio::test]
async fn a_create_answered_500_is_sent_once_and_reconciled_by_name_and_tag() {
    let s = MockServer::start().await;
    no_droplets_yet(&s).await;
    Mock::given(method("POST"))
        .and(path("/v2/droplets"))
        .respond_with(reply(500, "error_server.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/droplets"))
        .and(query_param("tag_name", TAG))
        .respond_with(reply(200, "droplets_tagged.json"))
        .expect(1)
        .mount(&s)
        .await;
    let m = provider(&s).create(&tenant(), &spec()).await.unwrap();
    assert_eq!((m.id.as_str(), m.name.as_str(), m.state), (DROPLET, "web-1", MachineState::Started));
    insta::assert_json_snapshot!("create_droplet_reconciled", recorded(&s).await);
}

#[tokio::test]
async fn a_create_that_times_out_is_reconciled_without_a_second_post() {
    let s = MockServer::start().await;
    no_droplets_yet(&s).await;
    Mock::given(method("POST"))
        .and(path("/v2/droplets"))
        .respond_with(reply(202, "droplet_created.json").set_delay(Duration::from_secs(4)))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/droplets"))
        .respond_with(reply(200, "droplets_tagged.json"))
        .expect(1)
        .mount(&s)
        .await;
    let m = provider(&s).create(&tenant(), &spec()).await.unwrap();
    assert_eq!(m.id, DROPLET);
}

#[tokio::test]
async fn a_lost_create_that_left_nothing_returns_the_original_error() {
    let s = MockServer::start().await;
    Mock::given(method("POST")).respond_with(reply(502, "error_server.json")).expect(1).mount(&s).await;
    Mock::given(method("GET"))
        .and(path("/v2/droplets"))
        .respond_with(reply(200, "droplets_empty.json"))
        .expect(u64::from(1 + RECONCILE_LOOKUPS))
        .mount(&s)
        .await;
    let e = provider(&s).create(&tenant(), &spec()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Provider);
    assert!(e.is_temporary());
    assert!(e.message().contains("Unexpected server-side error"), "{e}");
}

#[tokio::test]
async fn a_name_already_used_in_the_tenant_is_refused_before_any_create() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/droplets"))
        .respond_with(reply(200, "droplets_tagged.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST")).respond_with(reply(202, "droplet_created.json")).expect(0).mount(&s).await;
    let e = provider(&s).create(&tenant(), &spec()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
}

#[tokio::test]
async fn a_spec_digitalocean_cannot_take_is_refused_before_any_call() {
    let s = MockServer::start().await;
    let p = provider(&s);
    let mut bad = spec();
    bad.env.insert("A".into(), "b".into());
    assert_eq!(p.check(&bad).unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(p.create(&tenant(), &bad).await.unwrap_err().kind(), ErrorKind::InvalidInput);
    assert!(recorded(&s).await.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn list_asks_for_the_tenants_tag_and_keeps_only_tagged_droplets() {
    let s = MockServer::start().await;
    let mut page = fixture_json("droplets_tagged.json");
    page["droplets"][1]["tags"] = serde_json::json!(["cg-tenant-b"]);
    Mock::given(method("GET")).and(path("/v2/droplets")).respond_with(json_reply(200, &page)).expect(1).mount(&s).await;
    let list = provider(&s).list(&tenant()).await.unwrap();
    assert_eq!(list.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["web-1"]);
    insta::assert_json_snapshot!("list_droplets", recorded(&s).await);
}

#[tokio::test]
async fn get_maps_the_droplet() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/droplets/{DROPLET}")))
        .respond_with(reply(200, "droplet.json"))
        .expect(1)
        .mount(&s)
        .await;
    let m = provider(&s).get(&tenant(), DROPLET).await.unwrap();
    assert_eq!(m.state, MachineState::Started);
    assert_eq!(m.public_ips, ["192.241.165.154", "2604:a880:0:1010::18a:a001"]);
    assert_eq!(m.private_ip.as_deref(), Some("10.128.192.124"));
    assert_eq!(m.raw["size"]["price_hourly"], fixture_json("droplet.json")["droplet"]["size"]["price_hourly"]);
}

#[tokio::test]
async fn another_tenants_droplet_is_not_found_exactly_like_an_absent_one() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/droplets/{DROPLET}")))
        .respond_with(reply(200, "droplet.json"))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/droplets/42"))
        .respond_with(reply(404, "error_not_found.json"))
        .mount(&s)
        .await;
    Mock::given(method("POST")).respond_with(reply(201, "action_completed.json")).expect(0).mount(&s).await;
    Mock::given(method("DELETE")).respond_with(ResponseTemplate::new(204)).expect(0).mount(&s).await;
    let p = provider(&s);
    let foreign = p.get(&other_tenant(), DROPLET).await.unwrap_err();
    let absent = p.get(&tenant(), "42").await.unwrap_err();
    assert_eq!((foreign.kind(), absent.kind()), (ErrorKind::NotFound, ErrorKind::NotFound));
    assert_eq!(foreign.message(), format!("droplet {DROPLET} not found"));
    assert_eq!(absent.message(), "droplet 42 not found", "the same message either way");
    let t = other_tenant();
    for e in [
        p.start(&t, DROPLET).await.unwrap_err(),
        p.stop(&t, DROPLET).await.unwrap_err(),
        p.reboot(&t, DROPLET).await.unwrap_err(),
        p.destroy(&t, DROPLET).await.unwrap_err(),
        p.wait(&t, DROPLET, &MachineState::Started, Duration::from_secs(1)).await.unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    }
}

#[tokio::test]
async fn destroy_deletes_once_and_an_absent_droplet_is_fine() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/droplets/{DROPLET}")))
        .respond_with(reply(200, "droplet.json"))
        .expect(2)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/droplets/42"))
        .respond_with(reply(404, "error_not_found.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/v2/droplets/{DROPLET}")))
        .respond_with(ResponseTemplate::new(204))
        .up_to_n_times(1)
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/v2/droplets/{DROPLET}")))
        .respond_with(reply(404, "error_not_found.json"))
        .expect(1)
        .mount(&s)
        .await;
    let p = provider(&s);
    p.destroy(&tenant(), DROPLET).await.unwrap();
    p.destroy(&tenant(), DROPLET).await.unwrap();
    p.destroy(&tenant(), "42").await.unwrap();
    p.destroy(&tenant(), "not-a-droplet-id").await.unwrap();
    insta::assert_json_snapshot!("destroy_droplet", recorded(&s).await);
}

#[tokio::test]
async fn wait_polls_until_the_state_and_times_out_naming_the_last_one() {
    let s = MockServer::start().await;
    let mut new = fixture_json("droplet.json");
    new["droplet"]["status"] = "new".into();
    Mock::given(method("GET"))
        .and(path(format!("/v2/droplets/{DROPLET}")))
        .respond_with(json_reply(200, &new))
        .up_to_n_times(2)
        .expect(2)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/droplets/{DROPLET}")))
        .respond_with(reply(200, "droplet.json"))
        .expect(1..)
        .mount(&s)
        .await;
    let p = provider(&s);
    let m = p.wait(&tenant(), DROPLET, &MachineState::Started, Duration::from_secs(5)).await.unwrap();
    assert_eq!(m.state, MachineState::Started);
    let e = p.wait(&tenant(), DROPLET, &MachineState::Stopped, Duration::from_millis(50)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(e.message().contains("last state Started"), "{e}");
}

#[tokio::test]
async fn waiting_for_destroyed_accepts_a_404() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/droplets/{DROPLET}")))
        .respond_with(reply(200, "droplet.json"))
        .up_to_n_times(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/droplets/{DROPLET}")))
        .respond_with(reply(404, "error_not_found.json"))
        .mount(&s)
        .await;
    let m = provider(&s).wait(&tenant(), DROPLET, &MachineState::Destroyed, Duration::from_secs(5)).await.unwrap();
    assert_eq!((m.id.as_str(), m.name.as_str(), m.state), (DROPLET, "web-1", MachineState::Destroyed));
}
