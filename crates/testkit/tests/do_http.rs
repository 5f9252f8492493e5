//! The DigitalOcean fake over raw HTTP: every answer checked against the official spec's
//! response schemas (objects closed: no field the spec does not have), pagination, the
//! transitions, DigitalOcean's refusals, and the test hooks.

#[path = "../../providers/digitalocean/tests/support/openapi.rs"]
mod openapi;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use compute_testkit::do_fake::{FakeConfig, RunningFake, spawn};
use openapi::OpenApi;
use serde_json::{Value, json};

const TOKEN: &str = "tok";
const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@example";

fn spec() -> &'static OpenApi {
    static DOC: OnceLock<OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/digitalocean/openapi-subset.json");
        OpenApi::load(&path).unwrap()
    })
}

struct Api {
    fake: RunningFake,
    http: reqwest::Client,
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Api {
    async fn new(config: FakeConfig) -> Api {
        Api { fake: spawn(config).await.unwrap(), http: reqwest::Client::new() }
    }

    /// Sends a request and checks it (request schemas) and the answer (response schemas)
    /// against the spec.
    async fn call(&self, method: &str, path_and_query: &str, body: Option<Value>) -> Answer {
        let url = reqwest::Url::parse(&format!("{}{path_and_query}", self.fake.url())).unwrap();
        let query: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let sent = spec().check_request(method, url.path(), &query, body.as_ref());
        assert!(sent.is_empty(), "the test's own request is off-spec: {sent:?}");
        let mut req = self.http.request(method.parse().unwrap(), url.clone()).bearer_auth(TOKEN);
        if let Some(b) = &body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap();
        let body: Value = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
        let errors = spec().check_response(method, url.path(), status, (!body.is_null()).then_some(&body));
        assert!(errors.is_empty(), "{method} {path_and_query} answered off-spec:\n{}\n{body}", errors.join("\n"));
        for h in ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "x-request-id"] {
            assert!(headers.contains_key(h), "{method} {path_and_query} lacks {h}");
        }
        Answer { status, headers, body }
    }

    async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let a = self.call(method, path, body).await;
        assert!((200..300).contains(&a.status), "{method} {path}: {} {}", a.status, a.body);
        a.body
    }

    async fn hook(&self, name: &str, body: Value) {
        let r = self
            .http
            .post(format!("{}/__fake/{name}", self.fake.url()))
            .bearer_auth(TOKEN)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{name}: {}", r.status());
    }
}

#[tokio::test]
async fn every_answer_follows_the_spec() {
    let api = Api::new(FakeConfig::new(TOKEN)).await;
    let tag = api.ok("POST", "/v2/tags", Some(json!({"name": "cg-t1"}))).await;
    assert_eq!(tag["tag"]["name"], "cg-t1");
    api.ok("POST", "/v2/tags", Some(json!({"name": "cg-t1"}))).await;
    let key = api.ok("POST", "/v2/account/keys", Some(json!({"name": "cg-t1:laptop", "public_key": KEY}))).await;
    assert_eq!(key["ssh_key"]["fingerprint"], "65:96:2d:fc:e8:d5:a9:11:64:0c:0f:ea:00:6e:5b:bd");
    let key_id = key["ssh_key"]["id"].as_u64().unwrap();
    api.ok("GET", "/v2/account/keys?per_page=200", None).await;
    api.ok("GET", &format!("/v2/account/keys/{key_id}"), None).await;
    api.ok("GET", "/v2/account/keys/65:96:2d:fc:e8:d5:a9:11:64:0c:0f:ea:00:6e:5b:bd", None).await;
    api.ok("PUT", &format!("/v2/account/keys/{key_id}"), Some(json!({"name": "cg-t1:renamed"}))).await;
    let body = json!({"name": "web-1", "region": "nyc1", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64",
                      "ssh_keys": [key_id], "user_data": "#cloud-config\n", "tags": ["cg-t1"]});
    let created = api.call("POST", "/v2/droplets", Some(body)).await;
    assert_eq!(created.status, 202);
    assert_eq!(created.body["droplet"]["status"], "new");
    assert_eq!(created.body["links"]["actions"][0]["rel"], "create");
    let id = created.body["droplet"]["id"].as_u64().unwrap();
    api.ok("GET", "/v2/droplets?tag_name=cg-t1&per_page=200", None).await;
    api.ok("GET", "/v2/droplets?name=web-1", None).await;
    let d = api.ok("GET", &format!("/v2/droplets/{id}"), None).await;
    assert_eq!(d["droplet"]["status"], "active");
    assert_eq!(d["droplet"]["networks"]["v4"][1]["type"], "public");
    let off = api.call("POST", &format!("/v2/droplets/{id}/actions"), Some(json!({"type": "power_off"}))).await;
    assert_eq!((off.status, off.body["action"]["status"].as_str()), (201, Some("in-progress")));
    let aid = off.body["action"]["id"].as_u64().unwrap();
    assert_eq!(api.ok("GET", &format!("/v2/actions/{aid}"), None).await["action"]["status"], "completed");
    api.ok("GET", &format!("/v2/droplets/{id}/actions/{aid}"), None).await;
    api.ok("GET", &format!("/v2/droplets/{id}/actions"), None).await;
    api.ok(
        "POST",
        &format!("/v2/droplets/{id}/actions"),
        Some(json!({"type": "resize", "size": "s-2vcpu-4gb", "disk": false})),
    )
    .await;
    api.ok("POST", &format!("/v2/droplets/{id}/actions"), Some(json!({"type": "snapshot", "name": "cg-t1:nightly"})))
        .await;
    let listed = api.ok("GET", &format!("/v2/droplets/{id}/snapshots"), None).await;
    let sid = listed["snapshots"][0]["id"].as_u64().unwrap();
    api.ok("GET", "/v2/snapshots?resource_type=droplet", None).await;
    api.ok("GET", "/v2/snapshots?resource_type=volume", None).await;
    api.ok("GET", &format!("/v2/snapshots/{sid}"), None).await;
    let img = api.ok("GET", &format!("/v2/images/{sid}"), None).await;
    assert_eq!((img["image"]["type"].as_str(), img["image"]["public"].as_bool()), (Some("snapshot"), Some(false)));
    api.ok("GET", "/v2/images/ubuntu-24-04-x64", None).await;
    api.ok("GET", "/v2/images?type=distribution&per_page=200", None).await;
    api.ok("GET", "/v2/images?private=true", None).await;
    api.ok("GET", "/v2/sizes?per_page=200", None).await;
    api.ok("GET", "/v2/regions", None).await;
    api.ok("GET", "/v2/tags/cg-t1", None).await;
    api.ok("GET", "/v2/tags", None).await;
    for (status, method, path) in [
        (204, "DELETE", format!("/v2/snapshots/{sid}")),
        (204, "DELETE", format!("/v2/droplets/{id}")),
        (204, "DELETE", format!("/v2/account/keys/{key_id}")),
        (204, "DELETE", "/v2/droplets?tag_name=cg-t1".to_owned()),
        (204, "DELETE", "/v2/tags/cg-t1".to_owned()),
        (404, "GET", format!("/v2/droplets/{id}")),
        (404, "DELETE", "/v2/tags/cg-t1".to_owned()),
        (404, "GET", "/v2/actions/1".to_owned()),
    ] {
        let a = api.call(method, &path, None).await;
        assert_eq!(a.status, status, "{method} {path}: {}", a.body);
    }
    let unauthorized = api.http.get(format!("{}/v2/droplets", api.fake.url())).send().await.unwrap();
    assert_eq!(unauthorized.status(), 401);
    let body: Value = unauthorized.json().await.unwrap();
    assert!(spec().check_response("GET", "/v2/droplets", 401, Some(&body)).is_empty(), "{body}");
}

#[tokio::test]
async fn lists_paginate_with_full_links() {
    let api = Api::new(FakeConfig::new(TOKEN)).await;
    let mut slugs = Vec::new();
    let mut next = Some("/v2/sizes?per_page=3".to_owned());
    let mut pages = 0;
    while let Some(path) = next.take() {
        let page = api.ok("GET", &path, None).await;
        pages += 1;
        slugs.extend(page["sizes"].as_array().unwrap().iter().map(|s| s["slug"].as_str().unwrap().to_owned()));
        if pages == 2 {
            assert!(page["links"]["pages"]["prev"].as_str().unwrap().ends_with("/v2/sizes?page=1&per_page=3"));
        }
        let total = page["meta"]["total"].as_u64().unwrap();
        assert_eq!(total, 10);
        next = page["links"]["pages"]["next"]
            .as_str()
            .map(|u| u.split_once("/v2/").map(|(_, p)| format!("/v2/{p}")).unwrap());
    }
    assert_eq!((pages, slugs.len()), (4, 10));
    assert!(slugs.contains(&"s-1vcpu-512mb-10gb".to_owned()) && slugs.contains(&"gpu-h100x1-80gb".to_owned()));
    let a = api.call("GET", "/v2/regions?per_page=200&page=9", None).await;
    assert_eq!(a.body["regions"], json!([]));
    assert_eq!(
        api.http
            .get(format!("{}/v2/sizes?per_page=201", api.fake.url()))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
}

#[tokio::test]
async fn transitions_take_the_configured_delay() {
    let api = Api::new(FakeConfig::new(TOKEN).with_transition_delay(Duration::from_millis(200))).await;
    let body = json!({"name": "slow", "size": "s-1vcpu-1gb", "image": "debian-12-x64", "user_data": "echo hi"});
    let id = api.ok("POST", "/v2/droplets", Some(body)).await["droplet"]["id"].as_u64().unwrap();
    let d = api.ok("GET", &format!("/v2/droplets/{id}"), None).await;
    assert_eq!((d["droplet"]["status"].as_str(), d["droplet"]["region"]["slug"].as_str()), (Some("new"), Some("nyc1")));
    assert_eq!(d["droplet"]["networks"]["v4"], json!([]));
    let busy = api.call("POST", &format!("/v2/droplets/{id}/actions"), Some(json!({"type": "reboot"}))).await;
    assert_eq!((busy.status, busy.body["message"].as_str()), (422, Some("Droplet already has a pending event.")));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(api.ok("GET", &format!("/v2/droplets/{id}"), None).await["droplet"]["status"], "active");
    let a = api.ok("POST", &format!("/v2/droplets/{id}/actions"), Some(json!({"type": "shutdown"}))).await;
    assert_eq!(api.ok("GET", &format!("/v2/droplets/{id}"), None).await["droplet"]["locked"], true);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let aid = a["action"]["id"].as_u64().unwrap();
    assert_eq!(api.ok("GET", &format!("/v2/actions/{aid}"), None).await["action"]["status"], "completed");
    let d = api.ok("GET", &format!("/v2/droplets/{id}"), None).await;
    assert_eq!((d["droplet"]["status"].as_str(), d["droplet"]["locked"].as_bool()), (Some("off"), Some(false)));
    assert_eq!(api.fake.state().dump()["droplets"][0]["user_data"], "echo hi");
}

#[tokio::test]
async fn digitalocean_refusals_are_reproduced() {
    let api = Api::new(FakeConfig::new(TOKEN)).await;
    let base = json!({"name": "r", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    for (body, needle) in [
        (with("size", json!("s-99vcpu")), "invalid size"),
        (with("size", json!("s-8vcpu-16gb")), "invalid size"),
        (with("region", json!("mars1")), "invalid region"),
        (with("size", json!("gpu-h100x1-80gb")), "not available in region"),
        (with("image", json!(12)), "invalid image"),
        (with("ssh_keys", json!([99])), "invalid SSH key"),
        (with("user_data", json!("x".repeat(64 * 1024 + 1))), "64 KiB"),
        (with("name", json!("bad_name")), "Name is invalid"),
    ] {
        let r = api
            .http
            .post(format!("{}/v2/droplets", api.fake.url()))
            .bearer_auth(TOKEN)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["id"], "unprocessable_entity");
        assert!(v["message"].as_str().unwrap().contains(needle), "{needle}: {v}");
    }
    let r = api
        .http
        .post(format!("{}/v2/droplets", api.fake.url()))
        .bearer_auth(TOKEN)
        .body(with("labels", json!({})).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "the fake refuses fields the spec does not have");
    let id = api.ok("POST", "/v2/droplets", Some(base.clone())).await["droplet"]["id"].as_u64().unwrap();
    let actions = format!("/v2/droplets/{id}/actions");
    for (body, message) in [
        (json!({"type": "resize", "size": "s-2vcpu-4gb"}), "Droplet must be powered off before it can be resized."),
        (json!({"type": "power_on"}), "Droplet is already powered on."),
        (json!({"type": "rebuild", "image": 1}), "the fake does not model the rebuild action"),
    ] {
        let a = api.call("POST", &actions, Some(body)).await;
        assert_eq!((a.status, a.body["message"].as_str()), (422, Some(message)));
    }
    api.ok("POST", "/v2/account/keys", Some(json!({"name": "a", "public_key": KEY}))).await;
    let dup = api.call("POST", "/v2/account/keys", Some(json!({"name": "b", "public_key": KEY}))).await;
    assert_eq!((dup.status, dup.body["message"].as_str()), (422, Some("SSH Key is already in use on your account")));
    let bad_tag = api.call("POST", "/v2/tags", Some(json!({"name": "cg:ok"}))).await;
    assert_eq!(bad_tag.status, 201);
    let r = api
        .http
        .post(format!("{}/v2/tags", api.fake.url()))
        .bearer_auth(TOKEN)
        .body(r#"{"name":"a b"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(spec().check_response("POST", "/v2/tags", 400, Some(&v)).is_empty(), "{v}");
}

#[tokio::test]
async fn hooks_inject_faults_errored_actions_and_rate_limits() {
    let api = Api::new(FakeConfig::new(TOKEN)).await;
    api.hook("fail-next", json!({"path_contains": "/v2/sizes", "status": 429, "headers": {"retry-after": "3"}, "body": {"id": "too_many_requests", "message": "API rate limit exceeded."}})).await;
    let a = api.call("GET", "/v2/sizes", None).await;
    assert_eq!((a.status, a.headers.get("retry-after").and_then(|v| v.to_str().ok())), (429, Some("3")));
    assert_eq!(api.call("GET", "/v2/sizes", None).await.status, 200, "one fault, one failure");
    let id = api
        .ok("POST", "/v2/droplets", Some(json!({"name": "f", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64"})))
        .await["droplet"]["id"]
        .as_u64()
        .unwrap();
    api.hook("fail-action", json!({"type": "shutdown"})).await;
    let aid = api.ok("POST", &format!("/v2/droplets/{id}/actions"), Some(json!({"type": "shutdown"}))).await["action"]
        ["id"]
        .as_u64()
        .unwrap();
    assert_eq!(api.ok("GET", &format!("/v2/actions/{aid}"), None).await["action"]["status"], "errored");
    assert_eq!(
        api.ok("GET", &format!("/v2/droplets/{id}"), None).await["droplet"]["status"],
        "active",
        "an errored action changes nothing"
    );
    api.hook("rate-limit", json!({"remaining": 1, "reset_in_secs": 60})).await;
    let last = api.call("GET", "/v2/regions", None).await;
    assert_eq!((last.status, last.headers["ratelimit-remaining"].to_str().unwrap()), (200, "0"));
    let refused = api.call("GET", "/v2/regions", None).await;
    assert_eq!((refused.status, refused.body["id"].as_str()), (429, Some("too_many_requests")));
    api.hook("reset", json!({})).await;
    let state = api.fake.state().dump();
    assert!(state["droplets"].as_array().unwrap().is_empty());
    assert_eq!(state["rate_limit"]["remaining"], 5000);
}
