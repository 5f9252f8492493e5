use std::sync::{Arc, Mutex};
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
    c.execute("test op", req, i).await
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

/// Keeps every call it observes.
#[derive(Default)]
struct Recorder(Mutex<Vec<ProviderCall>>);

impl CallObserver for Recorder {
    fn observe(&self, call: &ProviderCall) {
        self.0.lock().unwrap().push(*call);
    }
}

fn observed() -> (HttpClient, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    (client().with_observer(recorder.clone()), recorder)
}

#[tokio::test]
async fn the_observer_sees_the_final_status_and_the_operation_once_per_call() {
    let s = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(503)).up_to_n_times(1).mount(&s).await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200)).mount(&s).await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(422)).mount(&s).await;
    let (c, seen) = observed();
    let req = c.reqwest().get(format!("{}/x", s.uri())).build().unwrap();
    assert_eq!(c.execute("list machines", req, Idempotency::Idempotent).await.unwrap().status(), 200);
    let req = c.reqwest().post(format!("{}/x", s.uri())).build().unwrap();
    assert_eq!(c.execute("create machine", req, Idempotency::NotIdempotent).await.unwrap().status(), 422);
    let calls = seen.0.lock().unwrap().clone();
    let summary: Vec<_> = calls.iter().map(|c| (c.provider, c.operation, c.status.label().into_owned())).collect();
    assert_eq!(
        summary,
        [("test", "list machines", "200".to_owned()), ("test", "create machine", "422".to_owned())],
        "one report per call, with the final status after the retried 503"
    );
    assert!(calls[0].elapsed > Duration::ZERO);
}

#[tokio::test]
async fn the_observer_sees_connect_errors_and_timeouts_as_such() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (c, seen) = observed();
    let req = c.reqwest().get(format!("http://127.0.0.1:{port}/x")).build().unwrap();
    assert!(c.execute("get machine", req, Idempotency::Idempotent).await.is_err());

    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&s)
        .await;
    let req = c.reqwest().post(format!("{}/x", s.uri())).build().unwrap();
    let e = c.execute("exec", req, Idempotency::NotIdempotent).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);

    let calls = seen.0.lock().unwrap().clone();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!((calls[0].operation, calls[0].status), ("get machine", CallStatus::Error));
    assert_eq!(calls[0].status.label(), "error");
    assert_eq!((calls[1].operation, calls[1].status), ("exec", CallStatus::Timeout));
    assert_eq!(calls[1].status.label(), "timeout");
    assert!(calls[1].elapsed >= Duration::from_millis(300), "the attempt timeout elapsed: {:?}", calls[1].elapsed);
}

#[test]
fn debug_shows_whether_a_client_is_observed() {
    let (c, _) = observed();
    assert!(format!("{c:?}").contains("observed: true"), "{c:?}");
    assert!(format!("{:?}", client()).contains("observed: false"));
}

/// Records the name and fields of every span opened while it is the default subscriber.
#[derive(Default)]
struct Spans(Mutex<Vec<String>>);

impl tracing::Subscriber for Spans {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        struct Fields(String);
        impl tracing::field::Visit for Fields {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.push_str(&format!(" {}={value:?}", field.name()));
            }
        }
        let mut fields = Fields(span.metadata().name().to_owned());
        span.record(&mut fields);
        let mut spans = self.0.lock().unwrap();
        spans.push(fields.0);
        tracing::span::Id::from_u64(spans.len() as u64)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn every_call_runs_in_a_provider_call_span() {
    let s = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200)).mount(&s).await;
    let c = client();
    // Register the span's callsite before the subscriber, so the interest the subscriber adds
    // is rebuilt for it whatever other tests do at the same time.
    let req = c.reqwest().get(format!("{}/x", s.uri())).build().unwrap();
    c.execute("warm up", req, Idempotency::Idempotent).await.unwrap();
    let spans = Arc::new(Spans::default());
    let _default = tracing::subscriber::set_default(spans.clone());
    let req = c.reqwest().get(format!("{}/x", s.uri())).build().unwrap();
    c.execute("list machines", req, Idempotency::Idempotent).await.unwrap();
    let seen = spans.0.lock().unwrap().clone();
    assert!(seen.contains(&r#"provider_call provider="test" operation="list machines""#.to_owned()), "{seen:?}");
}
