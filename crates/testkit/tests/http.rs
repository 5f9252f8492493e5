//! The fake over raw HTTP: Fly's shapes (checked against `fixtures/fly/`), wait semantics,
//! errors and the test hooks.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use compute_testkit::fly_fake::{FakeConfig, RunningFake, spawn};
use serde_json::{Value, json};

const TOKEN: &str = "tok";

struct Api {
    fake: RunningFake,
    http: reqwest::Client,
}

impl Api {
    async fn new() -> Api {
        Api { fake: spawn(FakeConfig::new(TOKEN)).await.unwrap(), http: reqwest::Client::new() }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{path}", self.fake.url())).bearer_auth(TOKEN);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap();
        (status, if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() })
    }

    async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method, path, body).await;
        assert!((200..300).contains(&status), "{method} {path}: {status} {v}");
        v
    }

    /// App `a1` with one started machine; returns its id.
    async fn machine(&self) -> String {
        self.ok("POST", "/v1/apps", Some(json!({"name": "a1", "org_slug": "org"}))).await;
        let body = json!({"name": "m", "config": {"image": "nginx:1.27", "services": [{"protocol": "tcp", "internal_port": 8080, "ports": []}]}});
        self.ok("POST", "/v1/apps/a1/machines", Some(body)).await["id"].as_str().unwrap().to_owned()
    }
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[tokio::test]
async fn answers_have_the_fixtures_shapes() {
    let api = Api::new().await;
    let created = api.ok("POST", "/v1/apps", Some(json!({"name": "a1", "org_slug": "org"}))).await;
    assert_eq!(keys(&created), keys(&fixture(include_str!("../../../fixtures/fly/app_created.json"))));
    assert!(created["created_at"].is_i64());
    let app = api.ok("GET", "/v1/apps/a1", None).await;
    assert_eq!(keys(&app), keys(&fixture(include_str!("../../../fixtures/fly/app.json"))));

    let id = {
        let body = json!({"name": "m", "region": "ams", "config": {"image": "nginx:1.27"}});
        api.ok("POST", "/v1/apps/a1/machines", Some(body)).await["id"].as_str().unwrap().to_owned()
    };
    let m = api.ok("GET", &format!("/v1/apps/a1/machines/{id}"), None).await;
    let mut want = fixture(include_str!("../../../fixtures/fly/machine.json"));
    want.as_object_mut().unwrap().remove("nonce");
    assert_eq!(keys(&m), keys(&want));
    assert_eq!(keys(&m["image_ref"]), keys(&want["image_ref"]));
    assert_eq!(m["image_ref"]["repository"], "library/nginx");
    assert_eq!((m["instance_id"].as_str().unwrap().len(), m["state"].as_str()), (26, Some("started")));
    assert!(chrono::DateTime::parse_from_rfc3339(m["created_at"].as_str().unwrap()).is_ok());

    let events = api.ok("GET", &format!("/v1/apps/a1/machines/{id}/events?limit=5"), None).await;
    let want = fixture(include_str!("../../../fixtures/fly/events.json"));
    assert_eq!(keys(&events[0]).len(), 6);
    assert!(keys(&events[0]).is_superset(&keys(&want[1])));
    assert!(events[0]["timestamp"].is_i64() && events[0]["request"].is_object());
    let exec = api.ok("POST", &format!("/v1/apps/a1/machines/{id}/exec"), Some(json!({"command": ["ls"]}))).await;
    assert_eq!(keys(&exec), keys(&fixture(include_str!("../../../fixtures/fly/exec.json"))));
    let ps = api.ok("GET", &format!("/v1/apps/a1/machines/{id}/ps"), None).await;
    assert_eq!(keys(&ps[1]), keys(&fixture(include_str!("../../../fixtures/fly/ps.json"))[1]));
    assert_eq!(ps[1]["command"], "nginx: master process nginx -g daemon off;");
    let wait = api.ok("GET", &format!("/v1/apps/a1/machines/{id}/wait?state=started"), None).await;
    assert_eq!(keys(&wait), keys(&fixture(include_str!("../../../fixtures/fly/wait_ok.json"))));
    api.ok("POST", &format!("/v1/apps/a1/machines/{id}/stop"), None).await;
    let start = api.ok("POST", &format!("/v1/apps/a1/machines/{id}/start"), None).await;
    assert_eq!(keys(&start), keys(&fixture(include_str!("../../../fixtures/fly/start.json"))));
    assert_eq!(start["previous_state"], "stopped");

    let vol =
        api.ok("POST", "/v1/apps/a1/volumes", Some(json!({"name": "data", "region": "ams", "size_gb": 10}))).await;
    assert_eq!(keys(&vol), keys(&fixture(include_str!("../../../fixtures/fly/volume.json"))));
    let path = format!("/v1/apps/a1/volumes/{}/extend", vol["id"].as_str().unwrap());
    let ext = api.ok("PUT", &path, Some(json!({"size_gb": 20}))).await;
    assert_eq!(keys(&ext), keys(&fixture(include_str!("../../../fixtures/fly/volume_extend.json"))));
    let ip = api.ok("POST", "/v1/apps/a1/ip_assignments", Some(json!({"type": "v4"}))).await;
    assert_eq!(keys(&ip), keys(&fixture(include_str!("../../../fixtures/fly/ip_allocated.json"))));
    let ips = api.ok("GET", "/v1/apps/a1/ip_assignments", None).await;
    assert_eq!(ips["ips"][0]["ip"], "137.66.0.1");
}

#[tokio::test]
async fn errors_use_flys_shape() {
    let api = Api::new().await;
    let resp = api.http.get(format!("{}/v1/apps/x", api.fake.url())).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert!(resp.headers().contains_key("fly-request-id"));
    assert_eq!(resp.text().await.unwrap(), r#"{"error":"Authenticate: token validation error"}"#);
    assert_eq!(api.call("GET", "/v1/apps/nope", None).await, (404, json!({"error": "app not found"})));

    let id = api.machine().await;
    let taken = api.call("POST", "/v1/apps", Some(json!({"name": "a1", "org_slug": "org"}))).await;
    assert_eq!(taken, (422, json!({"error": "Name has already been taken", "status": "name_taken"})));
    let keyed = json!({"name": "k1", "org_slug": "org", "idempotency_key": "x"});
    api.ok("POST", "/v1/apps", Some(keyed.clone())).await;
    assert_eq!(api.call("POST", "/v1/apps", Some(keyed)).await.0, 201);
    assert_eq!(api.call("GET", "/v1/apps/a1/machines/0000", None).await, (404, json!({"error": "machine not found"})));
    assert_eq!(api.call("GET", "/v1/apps/a1/volumes/vol_x", None).await.1["error"], "volume not found");
    let bad = json!({"config": {"image": "x", "guest": {"cpu_kind": "shared", "cpus": 1, "memory_mb": 300}}});
    let (status, body) = api.call("POST", "/v1/apps/a1/machines", Some(bad)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid config.guest.memory_mb: 300 must be a multiple of 256"))
    );
    let (status, _) = api.call("DELETE", &format!("/v1/apps/a1/machines/{id}"), None).await;
    assert_eq!(status, 412, "a started machine needs force");
    api.ok("POST", &format!("/v1/apps/a1/machines/{id}/stop"), None).await;
    let (status, body) =
        api.call("POST", &format!("/v1/apps/a1/machines/{id}/exec"), Some(json!({"command": ["ls"]}))).await;
    assert_eq!((status, body), (412, json!({"error": "machine not started"})));
    assert_eq!(api.call("DELETE", "/v1/apps/a1/ip_assignments/1.2.3.4", None).await.0, 404);
}

#[tokio::test]
async fn wait_long_polls_and_times_out() {
    let api = Api::new().await;
    let id = api.machine().await;
    let base = format!("/v1/apps/a1/machines/{id}");
    let started = Instant::now();
    let (status, body) = api.call("GET", &format!("{base}/wait?state=stopped&timeout=1"), None).await;
    assert_eq!(status, 408);
    assert!(body["error"].as_str().unwrap().starts_with("deadline_exceeded"), "{body}");
    assert!(started.elapsed() >= Duration::from_millis(900));

    let waiter = {
        let (http, url) = (
            api.http.clone(),
            format!("{}{base}/wait?state=suspended,destroyed&state=stopped&timeout=10", api.fake.url()),
        );
        tokio::spawn(async move { http.get(url).bearer_auth(TOKEN).send().await.unwrap().text().await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiter.is_finished());
    api.ok("POST", &format!("{base}/stop"), None).await;
    let answer: Value =
        serde_json::from_str(&tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap()).unwrap();
    assert_eq!((answer["ok"].as_bool(), answer["state"].as_str()), (Some(true), Some("stopped")));
    assert_eq!(api.call("GET", &format!("{base}/wait?state=bogus"), None).await.0, 400);
}

#[tokio::test]
async fn destroyed_machines_are_listed_on_request() {
    let api = Api::new().await;
    let id = api.machine().await;
    api.ok("DELETE", &format!("/v1/apps/a1/machines/{id}?kill=true"), None).await;
    assert_eq!(api.ok("GET", "/v1/apps/a1/machines", None).await, json!([]));
    let all = api.ok("GET", "/v1/apps/a1/machines?include_deleted=true", None).await;
    assert_eq!(all[0]["state"], "destroyed");
    assert_eq!(api.call("POST", &format!("/v1/apps/a1/machines/{id}/start"), None).await.0, 404);
    assert_eq!(api.call("DELETE", "/v1/apps/a1", None).await.0, 202);
    assert_eq!(api.call("GET", "/v1/apps/a1/machines", None).await.0, 404);
}

#[tokio::test]
async fn hooks_inject_faults_force_states_and_dump() {
    let api = Api::new().await;
    let id = api.machine().await;
    let fault = json!({"path_contains": "/v1/apps/a1/machines", "method": "GET", "status": 500, "count": 2});
    api.ok("POST", "/__fake/fail-next", Some(fault)).await;
    for _ in 0..2 {
        assert_eq!(
            api.call("GET", "/v1/apps/a1/machines", None).await,
            (500, json!({"error": "injected fault", "status": "unknown"}))
        );
    }
    api.ok("GET", "/v1/apps/a1/machines", None).await;

    let crash = json!({"app": "a1", "machine": id, "state": "failed"});
    assert_eq!(api.ok("POST", "/__fake/set-state", Some(crash)).await["state"], "failed");
    let events = api.ok("GET", &format!("/v1/apps/a1/machines/{id}/events"), None).await;
    assert_eq!((events[0]["type"].as_str(), events[0]["source"].as_str()), (Some("exit"), Some("flyd")));
    assert_eq!(events[0]["request"]["exit_event"]["exit_code"], 1);

    let state = api.ok("GET", "/__fake/state", None).await;
    assert_eq!(state["apps"][0]["machines"][0]["state"], "failed");
    assert!(state["requests"].as_array().unwrap().iter().any(|r| r == "POST /__fake/set-state"));
    api.ok("POST", "/__fake/reset", None).await;
    assert_eq!(api.call("GET", "/v1/apps/a1", None).await.0, 404);
}
