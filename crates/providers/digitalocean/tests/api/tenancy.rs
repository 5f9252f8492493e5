//! Tenancy: the tenant's tag, created idempotently and deleted with everything it scopes.

use compute_core::ErrorKind;
use compute_core::provider::Tenancy;
use compute_digitalocean::DoProvider;
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{TAG, config, other_tenant, provider, recorded, reply, tenant};

#[tokio::test]
async fn the_space_is_the_prefixed_tag() {
    let s = MockServer::start().await;
    let p = provider(&s);
    assert_eq!(p.space_name(&tenant()).unwrap(), TAG);
    assert_ne!(p.space_name(&other_tenant()).unwrap(), TAG);
    let bare = DoProvider::new(&config(&s).with_tag_prefix("")).unwrap();
    assert_eq!(bare.space_name(&tenant()).unwrap(), "tenant-a");
}

#[tokio::test]
async fn ensure_tenant_creates_the_tag_and_an_existing_tag_is_fine() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/tags"))
        .and(body_json(serde_json::json!({"name": TAG})))
        .respond_with(reply(201, "tag_created.json"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/tags"))
        .respond_with(reply(422, "error_tag_exists.json"))
        .expect(1)
        .mount(&s)
        .await;
    let p = provider(&s);
    p.ensure_tenant(&tenant()).await.unwrap();
    p.ensure_tenant(&tenant()).await.unwrap();
    insta::assert_json_snapshot!("ensure_tenant", recorded(&s).await);
}

#[tokio::test]
async fn a_refused_tag_is_invalid_input() {
    let s = MockServer::start().await;
    Mock::given(method("POST")).respond_with(reply(400, "error_tag_invalid.json")).expect(1).mount(&s).await;
    let e = provider(&s).ensure_tenant(&tenant()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.message().contains("contains invalid characters"), "{e}");
}

#[tokio::test]
async fn delete_tenant_destroys_droplets_by_tag_then_snapshots_keys_and_the_tag() {
    let s = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/v2/droplets"))
        .and(query_param("tag_name", TAG))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/snapshots"))
        .respond_with(reply(200, "snapshots_droplet.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/snapshots/6372321"))
        .respond_with(reply(200, "snapshot.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v2/snapshots/6372321"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/account/keys"))
        .respond_with(reply(200, "ssh_keys.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/account/keys/512189"))
        .respond_with(reply(200, "ssh_key.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v2/account/keys/512189"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/v2/tags/{TAG}")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&s)
        .await;
    provider(&s).delete_tenant(&tenant()).await.unwrap();
    insta::assert_json_snapshot!("delete_tenant", recorded(&s).await);
}

#[tokio::test]
async fn deleting_an_absent_tenant_is_fine() {
    let s = MockServer::start().await;
    Mock::given(method("DELETE")).respond_with(reply(404, "error_not_found.json")).expect(2).mount(&s).await;
    Mock::given(method("GET"))
        .and(path("/v2/snapshots"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"snapshots":[],"links":{},"meta":{"total":0}}"#, "application/json"),
        )
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/account/keys"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"ssh_keys":[],"links":{},"meta":{"total":0}}"#, "application/json"),
        )
        .expect(1)
        .mount(&s)
        .await;
    provider(&s).delete_tenant(&tenant()).await.unwrap();
}
