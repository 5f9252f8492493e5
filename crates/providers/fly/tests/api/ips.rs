//! IP assignments.

use compute_core::provider::{IpAddresses, IpKind};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{app_path, provider, recorded, reply, tenant};

#[tokio::test]
async fn ip_assignments_are_listed_allocated_and_released() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(app_path("/ip_assignments")))
        .respond_with(reply(200, "ip_assignments.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path(app_path("/ip_assignments")))
        .respond_with(reply(200, "ip_allocated.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .and(path(app_path("/ip_assignments/2a09:8280:1::3a:8b21:0")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&s)
        .await;
    let p = provider(&s);
    let ips = p.list_ips(&tenant()).await.unwrap();
    let kinds: Vec<_> = ips.iter().map(|i| (i.ip.as_str(), i.kind)).collect();
    assert_eq!(
        kinds,
        [("66.241.124.17", IpKind::SharedV4), ("2a09:8280:1::3a:8b21:0", IpKind::V6), ("137.66.1.20", IpKind::V4)],
        "private (fdaa:) and egress addresses are left out"
    );
    assert_eq!(ips[2].region.as_deref(), Some("ams"));
    let a = p.allocate_ip(&tenant(), IpKind::V4, Some("ams")).await.unwrap();
    assert_eq!((a.ip.as_str(), a.kind, a.region.as_deref()), ("137.66.1.21", IpKind::V4, Some("ams")));
    p.release_ip(&tenant(), "2a09:8280:1::3a:8b21:0").await.unwrap();
    insta::assert_json_snapshot!("ip_assignments", recorded(&s).await);
}

#[tokio::test]
async fn shared_v4_is_allocated_without_a_region() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(r#"{"ip":"66.241.124.17","region":"global","shared":true}"#),
        )
        .expect(1)
        .mount(&s)
        .await;
    let a = provider(&s).allocate_ip(&tenant(), IpKind::SharedV4, None).await.unwrap();
    assert_eq!(a.region.as_deref(), Some("global"));
    insta::assert_json_snapshot!("ip_allocate_shared", recorded(&s).await);
}
