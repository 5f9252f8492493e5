//! Error mapping, rate limits, secrecy of the token, path safety, configuration and the handle.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use compute_core::ErrorKind;
use compute_core::http::{RetryPolicy, SecretString};
use compute_core::provider::{Machines, Provider, ProviderId};
use compute_digitalocean::{DoConfig, DoProvider};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::common::{DROPLET, TOKEN, config, fast_policy, provider, recorded, reply, tenant};

fn droplet_path() -> String {
    format!("/v2/droplets/{DROPLET}")
}

#[tokio::test]
async fn error_bodies_map_to_kinds_and_never_show_the_token() {
    let cases = [
        (401, "error_unauthorized.json", ErrorKind::Unauthenticated, "Unable to authenticate you."),
        (403, "error_unauthorized.json", ErrorKind::PermissionDenied, "Unable to authenticate you."),
        (422, "error_key_in_use.json", ErrorKind::AlreadyExists, "already in use"),
        (500, "error_server.json", ErrorKind::Provider, "Unexpected server-side error"),
    ];
    for (status, fixture, kind, text) in cases {
        let s = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(droplet_path()))
            .respond_with(reply(status, fixture).insert_header("x-request-id", "req-7f3a"))
            .mount(&s)
            .await;
        let p = provider(&s);
        let e = p.get(&tenant(), DROPLET).await.unwrap_err();
        assert_eq!(e.kind(), kind, "{status}: {e}");
        assert_eq!(e.is_temporary(), status >= 500, "{status}");
        assert_eq!(e.component(), Some("digitalocean"));
        assert!(e.message().contains(text) && e.message().contains("req-7f3a"), "{e}");
        for shown in [format!("{e}"), format!("{e:?}"), format!("{p:?}"), format!("{:?}", config(&s))] {
            assert!(!shown.contains(TOKEN), "{shown}");
        }
    }
}

#[tokio::test]
async fn a_500_on_a_read_is_retried_and_a_404_is_not() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(droplet_path()))
        .respond_with(reply(500, "error_server.json"))
        .up_to_n_times(2)
        .expect(2)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(droplet_path()))
        .respond_with(reply(200, "droplet.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/droplets/9"))
        .respond_with(reply(404, "error_not_found.json"))
        .expect(1)
        .mount(&s)
        .await;
    let p = provider(&s);
    assert_eq!(p.get(&tenant(), DROPLET).await.unwrap().id, DROPLET);
    assert_eq!(p.get(&tenant(), "9").await.unwrap_err().kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_by_the_shared_policy() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(droplet_path()))
        .respond_with(reply(429, "error_too_many_requests.json").insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(droplet_path()))
        .respond_with(reply(200, "droplet.json"))
        .expect(1)
        .mount(&s)
        .await;
    assert_eq!(provider(&s).get(&tenant(), DROPLET).await.unwrap().id, DROPLET);
}

#[tokio::test]
async fn a_429_that_persists_is_rate_limited_with_when_to_retry() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(droplet_path()))
        .respond_with(reply(429, "error_too_many_requests.json").insert_header("retry-after", "1"))
        .expect(4)
        .mount(&s)
        .await;
    let e = provider(&s).get(&tenant(), DROPLET).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert!(e.is_temporary());
    assert!(e.message().contains("API rate limit exceeded.") && e.message().contains("retry in 1 s"), "{e}");
    assert_eq!(e.fields(), [("retry_after_secs", "1".to_owned())]);
}

fn epoch() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test]
async fn a_used_up_hourly_budget_fails_fast_without_sending() {
    let s = MockServer::start().await;
    let reset = (epoch() + 3600).to_string();
    Mock::given(method("GET"))
        .and(path(droplet_path()))
        .respond_with(
            reply(200, "droplet.json")
                .insert_header("ratelimit-limit", "5000")
                .insert_header("ratelimit-remaining", "0")
                .insert_header("ratelimit-reset", reset.as_str()),
        )
        .expect(1)
        .mount(&s)
        .await;
    let p = provider(&s);
    p.get(&tenant(), DROPLET).await.unwrap();
    let e = p.get(&tenant(), DROPLET).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
    assert!(e.message().contains("hourly API rate limit is used up"), "{e}");
    let wait: u64 = e.fields()[0].1.parse().unwrap();
    assert!(e.fields()[0].0 == "retry_after_secs" && (3590..=3600).contains(&wait), "{:?}", e.fields());
}

#[tokio::test]
async fn a_budget_that_resets_soon_is_waited_for() {
    let s = MockServer::start().await;
    let reset = (epoch() + 1).to_string();
    Mock::given(method("GET"))
        .and(path(droplet_path()))
        .respond_with(
            reply(200, "droplet.json")
                .insert_header("ratelimit-remaining", "0")
                .insert_header("ratelimit-reset", reset.as_str()),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(droplet_path()))
        .respond_with(reply(200, "droplet.json").insert_header("ratelimit-remaining", "4999"))
        .expect(1)
        .mount(&s)
        .await;
    let patient = config(&s).with_retry(RetryPolicy { max_backoff: Duration::from_secs(3), ..fast_policy() });
    let p = DoProvider::new(&patient).unwrap();
    p.get(&tenant(), DROPLET).await.unwrap();
    p.get(&tenant(), DROPLET).await.unwrap();
}

#[tokio::test]
async fn ids_cannot_escape_their_path_segment() {
    let s = MockServer::start().await;
    let p = provider(&s);
    for id in ["../../account/keys", "..", "", "1/actions", "1?x=y", "%31"] {
        assert_eq!(p.get(&tenant(), id).await.unwrap_err().kind(), ErrorKind::NotFound, "{id:?}");
    }
    assert!(recorded(&s).await.as_array().unwrap().is_empty(), "no call for an id that cannot be a droplet");
}

#[tokio::test]
async fn connection_failures_never_show_the_token_either() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let c = DoConfig::new(SecretString::from(TOKEN))
        .with_base_url(format!("http://127.0.0.1:{port}"))
        .with_retry(fast_policy());
    let e = DoProvider::new(&c).unwrap().list(&tenant()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
}

#[tokio::test]
async fn bad_configuration_is_refused_up_front() {
    let s = MockServer::start().await;
    for token in ["", "  ", "a\nb"] {
        assert_eq!(DoProvider::new(&DoConfig::new(SecretString::from(token))).unwrap_err().kind(), ErrorKind::Config);
    }
    assert_eq!(DoProvider::new(&config(&s).with_base_url("ftp://x")).unwrap_err().kind(), ErrorKind::Config);
    assert_eq!(DoProvider::new(&config(&s).with_tag_prefix("UPPER")).unwrap_err().kind(), ErrorKind::Config);
}

#[tokio::test]
async fn the_handle_registers_machines_resize_tenancy_snapshots_and_keys() {
    let s = MockServer::start().await;
    let h = compute_digitalocean::handle(config(&s)).unwrap();
    let caps = h.capabilities();
    let m = caps.machines.unwrap();
    assert!(m.resize && !m.exec && !m.events && !m.suspend);
    assert!(caps.tenancy && caps.snapshots && caps.ssh_keys);
    assert!(!caps.ips && !caps.volumes && !caps.hosting && !caps.key_value);
    let p: &dyn Provider = h.provider().as_ref();
    assert_eq!(p.id(), ProviderId::Digitalocean);
    assert!(recorded(&s).await.as_array().unwrap().is_empty(), "building the handle makes no call");
}
