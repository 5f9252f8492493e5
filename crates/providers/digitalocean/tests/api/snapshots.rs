//! Droplet snapshots, scoped to the tenant by the `<tag>:` name prefix.

use std::time::Duration;

use compute_core::ErrorKind;
use compute_core::provider::{SnapshotSpec, Snapshots};
use compute_digitalocean::DoProvider;
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{DROPLET, action, config, json_reply, other_tenant, provider, recorded, reply, tenant};

#[tokio::test]
async fn create_takes_a_named_snapshot_polls_it_and_finds_the_new_id() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/droplets/{DROPLET}")))
        .respond_with(reply(200, "droplet.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v2/droplets/{DROPLET}/actions")))
        .and(body_json(serde_json::json!({"type": "snapshot", "name": "cg-tenant-a:nightly"})))
        .respond_with(json_reply(201, &action("snapshot", "in-progress")))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/actions/36804636"))
        .respond_with(json_reply(200, &action("snapshot", "completed")))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/droplets/{DROPLET}/snapshots")))
        .respond_with(reply(200, "droplet_snapshots.json"))
        .expect(1)
        .mount(&s)
        .await;
    let spec = SnapshotSpec { source_id: DROPLET.into(), name: Some("nightly".into()) };
    let snap = provider(&s).create_snapshot(&tenant(), &spec).await.unwrap();
    assert_eq!(snap.id, "67512999", "the id the droplet did not have before");
    assert_eq!(snap.name.as_deref(), Some("nightly"), "shown without the tenant prefix");
    assert_eq!((snap.source_id.as_str(), snap.size_gb, snap.status.as_str()), (DROPLET, Some(3), "available"));
    assert_eq!(snap.created_at.unwrap().to_rfc3339(), "2020-07-29T16:47:44+00:00");
    insta::assert_json_snapshot!("create_snapshot", recorded(&s).await);
}

#[tokio::test]
async fn a_snapshot_still_running_after_the_snapshot_timeout_is_a_timeout() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/droplets/{DROPLET}")))
        .respond_with(reply(200, "droplet.json"))
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .respond_with(json_reply(201, &action("snapshot", "in-progress")))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/actions/36804636"))
        .respond_with(json_reply(200, &action("snapshot", "in-progress")))
        .mount(&s)
        .await;
    let p = DoProvider::new(&config(&s).with_snapshot_timeout(Duration::from_secs(1))).unwrap();
    let spec = SnapshotSpec { source_id: DROPLET.into(), name: None };
    let e = p.create_snapshot(&tenant(), &spec).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.message().contains("once taken it is listed for the tenant"), "{e}");
}

#[tokio::test]
async fn snapshots_of_another_tenants_droplet_are_refused_without_an_action() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/droplets/{DROPLET}")))
        .respond_with(reply(200, "droplet_foreign.json"))
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .respond_with(json_reply(201, &action("snapshot", "completed")))
        .expect(0)
        .mount(&s)
        .await;
    let spec = SnapshotSpec { source_id: DROPLET.into(), name: Some("x".into()) };
    assert_eq!(provider(&s).create_snapshot(&tenant(), &spec).await.unwrap_err().kind(), ErrorKind::NotFound);
    let empty = SnapshotSpec { source_id: DROPLET.into(), name: Some(" ".into()) };
    assert_eq!(provider(&s).create_snapshot(&tenant(), &empty).await.unwrap_err().kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn list_shows_only_the_tenants_snapshots() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/snapshots"))
        .and(query_param("resource_type", "droplet"))
        .respond_with(reply(200, "snapshots_droplet.json"))
        .expect(2)
        .mount(&s)
        .await;
    let p = provider(&s);
    let mine = p.list_snapshots(&tenant()).await.unwrap();
    assert_eq!(
        mine.iter().map(|x| (x.id.as_str(), x.name.as_deref())).collect::<Vec<_>>(),
        [("6372321", Some("nightly"))]
    );
    assert_eq!(mine[0].source_id, "200776916");
    let theirs = p.list_snapshots(&other_tenant()).await.unwrap();
    assert_eq!(theirs.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(), ["6372322"]);
    insta::assert_json_snapshot!("list_snapshots", recorded(&s).await);
}

#[tokio::test]
async fn get_and_delete_check_the_owner() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/snapshots/6372321"))
        .respond_with(reply(200, "snapshot.json"))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/snapshots/6372322"))
        .respond_with(reply(200, "snapshot_foreign.json"))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/snapshots/7"))
        .respond_with(reply(404, "error_not_found.json"))
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v2/snapshots/6372321"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v2/snapshots/6372322"))
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .mount(&s)
        .await;
    let p = provider(&s);
    assert_eq!(p.get_snapshot(&tenant(), "6372321").await.unwrap().name.as_deref(), Some("nightly"));
    for id in ["6372322", "7", "fbe805e8-866b-11e6-96bf-000f53315a41", "../x"] {
        let e = p.get_snapshot(&tenant(), id).await.unwrap_err();
        assert_eq!((e.kind(), e.message()), (ErrorKind::NotFound, format!("snapshot {id} not found").as_str()));
    }
    p.delete_snapshot(&tenant(), "6372321").await.unwrap();
    assert_eq!(p.delete_snapshot(&tenant(), "6372322").await.unwrap_err().kind(), ErrorKind::NotFound);
    p.delete_snapshot(&tenant(), "7").await.unwrap();
    insta::assert_json_snapshot!("get_and_delete_snapshots", recorded(&s).await);
}
