//! Error mapping, secrecy of the token, path encoding and the handle.

use compute_core::ErrorKind;
use compute_core::http::SecretString;
use compute_core::provider::{Machines, Provider};
use compute_fly::{FlyConfig, FlyProvider};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{TOKEN, app_path, config, provider, recorded, recorded_with_auth, reply, tenant};

#[tokio::test]
async fn fly_error_bodies_map_to_kinds_and_never_show_the_token() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(app_path("/machines")))
        .respond_with(reply(401, "error_unauthorized.json").insert_header("fly-request-id", "01J-REQ-1"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST")).respond_with(reply(400, "error_invalid.json")).expect(1).mount(&s).await;
    let p = provider(&s);
    let e = p.list(&tenant()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated);
    assert!(!e.is_temporary());
    assert_eq!(e.component(), Some("fly"));
    assert!(e.message().contains("Authenticate: token validation error"), "{e}");
    assert!(e.message().contains("01J-REQ-1"), "the request id is kept for support: {e}");
    let e2 = p.start(&tenant(), "3d8d9016b11e89").await.unwrap_err();
    assert_eq!(e2.kind(), ErrorKind::InvalidInput);
    for shown in [
        format!("{e}"),
        format!("{e:?}"),
        format!("{e2}"),
        format!("{e2:?}"),
        format!("{p:?}"),
        format!("{:?}", config(&s)),
    ] {
        assert!(!shown.contains(TOKEN), "{shown}");
    }
}

#[tokio::test]
async fn connection_failures_never_show_the_token_either() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let c = FlyConfig::new(SecretString::from(TOKEN), "acme")
        .with_base_url(format!("http://127.0.0.1:{port}"))
        .with_retry(crate::common::fast_policy());
    let e = FlyProvider::new(&c).unwrap().list(&tenant()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
}

#[tokio::test]
async fn macaroon_tokens_are_sent_as_printed() {
    let s = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200).set_body_string("[]")).expect(1).mount(&s).await;
    let c = FlyConfig::new(SecretString::from("FlyV1 fm2_macaroon"), "acme")
        .with_base_url(s.uri())
        .with_retry(crate::common::fast_policy());
    assert!(FlyProvider::new(&c).unwrap().list(&tenant()).await.unwrap().is_empty());
    recorded_with_auth(&s, "FlyV1 fm2_macaroon").await;
}

#[tokio::test]
async fn ids_cannot_escape_their_path_segment() {
    let s = MockServer::start().await;
    Mock::given(method("GET")).respond_with(reply(404, "error_not_found.json")).expect(1).mount(&s).await;
    let p = provider(&s);
    assert_eq!(p.get(&tenant(), "../../other-app/machines/x?y=1").await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(p.get(&tenant(), "..").await.unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(p.get(&tenant(), "").await.unwrap_err().kind(), ErrorKind::InvalidInput);
    insta::assert_json_snapshot!("escaped_id", recorded(&s).await);
}

#[tokio::test]
async fn bad_configuration_is_refused_up_front() {
    let s = MockServer::start().await;
    assert_eq!(
        FlyProvider::new(&FlyConfig::new(SecretString::from(""), "acme")).unwrap_err().kind(),
        ErrorKind::Config
    );
    assert_eq!(
        FlyProvider::new(&FlyConfig::new(SecretString::from("a\nb"), "acme")).unwrap_err().kind(),
        ErrorKind::Config
    );
    assert_eq!(FlyProvider::new(&config(&s).with_base_url("ftp://x")).unwrap_err().kind(), ErrorKind::Config);
}

#[tokio::test]
async fn the_handle_registers_every_capability_and_a_static_catalog() {
    let s = MockServer::start().await;
    let h = compute_fly::handle(config(&s)).unwrap();
    let caps = h.capabilities();
    let m = caps.machines.unwrap();
    assert!(m.exec && m.events && m.suspend && m.resize);
    assert!(caps.tenancy && caps.ips && caps.volumes);
    assert!(!caps.snapshots && !caps.hosting && !caps.key_value);
    let catalog = h.provider().catalog().await.unwrap();
    assert_eq!(catalog.sizes.len(), 8);
    assert_eq!(catalog.regions.len(), 35);
    assert!(recorded(&s).await.as_array().unwrap().is_empty(), "the catalog makes no call");
    let p: &dyn Provider = h.provider().as_ref();
    assert_eq!(p.id().as_str(), "fly");
}
