//! One Fly app per tenant: get-or-create, name_taken races, delete.

use compute_core::ErrorKind;
use compute_core::provider::Tenancy;
use compute_fly::FlyProvider;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{app_path, config, provider, recorded, reply, tenant};

#[tokio::test]
async fn an_existing_app_is_not_created_again() {
    let s = MockServer::start().await;
    Mock::given(method("GET")).and(path(app_path(""))).respond_with(reply(200, "app.json")).expect(1).mount(&s).await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(201)).expect(0).mount(&s).await;
    provider(&s).ensure_tenant(&tenant()).await.unwrap();
    insta::assert_json_snapshot!("ensure_tenant_existing", recorded(&s).await);
}

#[tokio::test]
async fn a_missing_app_is_created_with_an_idempotency_key() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(app_path("")))
        .respond_with(reply(404, "error_app_not_found.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/apps"))
        .respond_with(reply(201, "app_created.json"))
        .expect(1)
        .mount(&s)
        .await;
    provider(&s).ensure_tenant(&tenant()).await.unwrap();
    insta::assert_json_snapshot!("ensure_tenant_created", recorded(&s).await);
}

#[tokio::test]
async fn name_taken_on_create_is_settled_by_reading_again() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(app_path("")))
        .respond_with(reply(404, "error_app_not_found.json"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET")).and(path(app_path(""))).respond_with(reply(200, "app.json")).expect(1).mount(&s).await;
    Mock::given(method("POST"))
        .and(path("/v1/apps"))
        .respond_with(reply(422, "error_name_taken.json"))
        .expect(1)
        .mount(&s)
        .await;
    provider(&s).ensure_tenant(&tenant()).await.unwrap();
    insta::assert_json_snapshot!("ensure_tenant_name_taken", recorded(&s).await);
}

#[tokio::test]
async fn a_name_held_outside_the_organisation_is_already_exists() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(app_path("")))
        .respond_with(reply(404, "error_app_not_found.json"))
        .expect(2)
        .mount(&s)
        .await;
    Mock::given(method("POST")).respond_with(reply(422, "error_name_taken.json")).expect(1).mount(&s).await;
    let e = provider(&s).ensure_tenant(&tenant()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
    assert!(e.message().contains("global"), "{e}");
}

#[tokio::test]
async fn delete_tenant_forces_and_tolerates_absence() {
    let s = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(app_path("")))
        .and(query_param("force", "true"))
        .respond_with(ResponseTemplate::new(202))
        .up_to_n_times(1)
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .and(path(app_path("")))
        .respond_with(reply(404, "error_app_not_found.json"))
        .expect(1)
        .mount(&s)
        .await;
    let p = provider(&s);
    p.delete_tenant(&tenant()).await.unwrap();
    p.delete_tenant(&tenant()).await.unwrap();
    insta::assert_json_snapshot!("delete_tenant", recorded(&s).await);
}

#[tokio::test]
async fn the_app_prefix_is_part_of_every_path() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/apps/acme-cg-0a1b2c"))
        .respond_with(reply(200, "app.json"))
        .expect(1)
        .mount(&s)
        .await;
    let p = FlyProvider::new(&config(&s).with_app_prefix("acme-")).unwrap();
    p.ensure_tenant(&tenant()).await.unwrap();
    let long = FlyProvider::new(&config(&s).with_app_prefix("p".repeat(40))).unwrap();
    let t = compute_core::provider::Tenant::new("t".repeat(30)).unwrap();
    assert_eq!(long.ensure_tenant(&t).await.unwrap_err().kind(), ErrorKind::InvalidInput);
}
