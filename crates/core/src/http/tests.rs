use std::time::Duration;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(20),
        attempt_timeout: Duration::from_millis(300),
        total_timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_millis(300),
    }
}

fn client() -> HttpClient {
    HttpClient::new("test", fast_policy()).unwrap()
}

async fn send(c: &HttpClient, m: &str, url: String, i: Idempotency) -> Result<reqwest::Response> {
    let req = c.reqwest().request(m.parse().unwrap(), url).bearer_auth("tok_secret").body("{}").build().unwrap();
    c.execute(req, i).await
}

#[tokio::test]
async fn retries_5xx_for_idempotent_requests_then_succeeds() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/x"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .mount(&s)
        .await;
    Mock::given(method("GET")).and(path("/x")).respond_with(ResponseTemplate::new(200)).expect(1).mount(&s).await;
    let r = send(&client(), "GET", format!("{}/x", s.uri()), Idempotency::Idempotent).await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn does_not_retry_5xx_for_non_idempotent_requests() {
    let s = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(500)).expect(1).mount(&s).await;
    let r = send(&client(), "POST", format!("{}/create", s.uri()), Idempotency::NotIdempotent).await.unwrap();
    assert_eq!(r.status(), 500);
}

#[tokio::test]
async fn retries_429_even_for_posts_and_honours_retry_after() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(201)).expect(1).mount(&s).await;
    let r = send(&client(), "POST", format!("{}/c", s.uri()), Idempotency::NotIdempotent).await.unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn gives_back_the_last_response_when_retries_run_out() {
    let s = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(502)).expect(4).mount(&s).await;
    let r = send(&client(), "GET", format!("{}/x", s.uri()), Idempotency::Idempotent).await.unwrap();
    assert_eq!(r.status(), 502);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let s = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(404)).expect(1).mount(&s).await;
    let r = send(&client(), "GET", format!("{}/x", s.uri()), Idempotency::Idempotent).await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(kind_for_status(r.status()), ErrorKind::NotFound);
}

#[tokio::test]
async fn timeouts_are_retried_only_when_idempotent() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .up_to_n_times(1)
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200)).expect(1).mount(&s).await;
    let ok = send(&client(), "GET", format!("{}/x", s.uri()), Idempotency::Idempotent).await.unwrap();
    assert_eq!(ok.status(), 200);

    let s2 = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .expect(1)
        .mount(&s2)
        .await;
    let e = send(&client(), "POST", format!("{}/x", s2.uri()), Idempotency::NotIdempotent).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(e.to_string().contains("not idempotent"), "{e}");
}

#[tokio::test]
async fn connect_errors_are_retried_and_never_show_the_url_or_token() {
    // Bind then drop a listener so the port is closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/v1/x?_token=tok_in_query");
    let e = send(&client(), "GET", url, Idempotency::Idempotent).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(e.is_temporary());
    let shown = format!("{e} {e:?}");
    assert!(shown.contains("4 attempt(s)"), "{shown}");
    assert!(!shown.contains("tok_"), "{shown}");
    assert!(!shown.contains(&port.to_string()), "{shown}");
}
