//! Power actions and resize, each polled through `GET /v2/actions/{id}`.

use std::time::Duration;

use compute_core::ErrorKind;
use compute_core::provider::{MachineResize, MachineSize, Machines};
use compute_digitalocean::DoProvider;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer};

use crate::common::{DROPLET, action, config, fast_policy, json_reply, provider, recorded, reply, tenant};

const ACTION: &str = "/v2/actions/36804636";

fn actions_path() -> String {
    format!("/v2/droplets/{DROPLET}/actions")
}

async fn droplet(s: &MockServer, fixture: &str) {
    Mock::given(method("GET"))
        .and(path(format!("/v2/droplets/{DROPLET}")))
        .respond_with(reply(200, fixture))
        .mount(s)
        .await;
}

/// `POST …/actions {type}` answers in-progress; the action polls in-progress once, then `end`.
async fn action_flow(s: &MockServer, kind: &str, end: &str) {
    Mock::given(method("POST"))
        .and(path(actions_path()))
        .and(body_partial_json(serde_json::json!({"type": kind})))
        .respond_with(json_reply(201, &action(kind, "in-progress")))
        .expect(1)
        .mount(s)
        .await;
    Mock::given(method("GET"))
        .and(path(ACTION))
        .respond_with(json_reply(200, &action(kind, "in-progress")))
        .up_to_n_times(1)
        .expect(1)
        .mount(s)
        .await;
    Mock::given(method("GET"))
        .and(path(ACTION))
        .respond_with(json_reply(200, &action(kind, end)))
        .expect(1)
        .mount(s)
        .await;
}

#[tokio::test]
async fn stop_shuts_down_gracefully_and_polls_the_action_until_completed() {
    let s = MockServer::start().await;
    droplet(&s, "droplet.json").await;
    action_flow(&s, "shutdown", "completed").await;
    provider(&s).stop(&tenant(), DROPLET).await.unwrap();
    insta::assert_json_snapshot!("stop_droplet", recorded(&s).await);
}

#[tokio::test]
async fn a_shutdown_that_errors_falls_back_to_power_off() {
    let s = MockServer::start().await;
    droplet(&s, "droplet.json").await;
    Mock::given(method("POST"))
        .and(path(actions_path()))
        .and(body_partial_json(serde_json::json!({"type": "shutdown"})))
        .respond_with(json_reply(201, &action("shutdown", "errored")))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path(actions_path()))
        .and(body_partial_json(serde_json::json!({"type": "power_off"})))
        .respond_with(json_reply(201, &action("power_off", "completed")))
        .expect(1)
        .mount(&s)
        .await;
    provider(&s).stop(&tenant(), DROPLET).await.unwrap();
}

#[tokio::test]
async fn start_powers_on_an_off_droplet_and_leaves_an_active_one_alone() {
    let s = MockServer::start().await;
    droplet(&s, "droplet_off.json").await;
    action_flow(&s, "power_on", "completed").await;
    provider(&s).start(&tenant(), DROPLET).await.unwrap();
    insta::assert_json_snapshot!("start_droplet", recorded(&s).await);

    let active = MockServer::start().await;
    droplet(&active, "droplet.json").await;
    Mock::given(method("POST"))
        .respond_with(json_reply(201, &action("power_on", "completed")))
        .expect(0)
        .mount(&active)
        .await;
    provider(&active).start(&tenant(), DROPLET).await.unwrap();
}

#[tokio::test]
async fn reboot_is_sent_once_even_on_a_5xx() {
    let s = MockServer::start().await;
    droplet(&s, "droplet.json").await;
    Mock::given(method("POST"))
        .and(path(actions_path()))
        .respond_with(reply(500, "error_server.json"))
        .expect(1)
        .mount(&s)
        .await;
    let e = provider(&s).reboot(&tenant(), DROPLET).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Provider);
    assert!(e.is_temporary());
}

#[tokio::test]
async fn reboot_polls_and_an_errored_action_is_a_provider_error() {
    let s = MockServer::start().await;
    droplet(&s, "droplet.json").await;
    action_flow(&s, "reboot", "errored").await;
    let e = provider(&s).reboot(&tenant(), DROPLET).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Provider);
    assert!(e.message().contains("action 36804636 (reboot) errored"), "{e}");
}

#[tokio::test]
async fn an_action_still_running_after_the_total_timeout_is_a_timeout() {
    let s = MockServer::start().await;
    droplet(&s, "droplet.json").await;
    Mock::given(method("POST"))
        .respond_with(json_reply(201, &action("reboot", "in-progress")))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(ACTION))
        .respond_with(json_reply(200, &action("reboot", "in-progress")))
        .expect(1..)
        .mount(&s)
        .await;
    let short = config(&s)
        .with_retry(compute_core::http::RetryPolicy { total_timeout: Duration::from_millis(200), ..fast_policy() });
    let e = DoProvider::new(&short).unwrap().reboot(&tenant(), DROPLET).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.is_temporary());
    assert!(e.message().contains("still in-progress"), "{e}");
}

#[tokio::test]
async fn a_locked_droplet_is_a_temporary_conflict() {
    let s = MockServer::start().await;
    droplet(&s, "droplet_off.json").await;
    Mock::given(method("POST")).respond_with(reply(422, "error_unprocessable.json")).expect(1).mount(&s).await;
    let e = provider(&s).start(&tenant(), DROPLET).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(e.is_temporary());
    assert!(e.message().contains("[request-id 4d9d8375-3c56-4925-a3e7-eb137fed17e9]"), "{e}");
}

#[tokio::test]
async fn resize_shuts_down_resizes_without_disk_and_powers_on_again() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/droplets/{DROPLET}")))
        .respond_with(reply(200, "droplet.json"))
        .up_to_n_times(1)
        .mount(&s)
        .await;
    let mut resized = crate::common::fixture_json("droplet.json");
    resized["droplet"]["size_slug"] = "s-2vcpu-4gb".into();
    Mock::given(method("GET"))
        .and(path(format!("/v2/droplets/{DROPLET}")))
        .respond_with(json_reply(200, &resized))
        .mount(&s)
        .await;
    for kind in ["shutdown", "resize", "power_on"] {
        Mock::given(method("POST"))
            .and(path(actions_path()))
            .and(body_partial_json(serde_json::json!({"type": kind})))
            .respond_with(json_reply(201, &action(kind, "completed")))
            .expect(1)
            .mount(&s)
            .await;
    }
    let m = provider(&s).resize(&tenant(), DROPLET, &MachineSize::Plan("s-2vcpu-4gb".into())).await.unwrap();
    assert_eq!(m.size, Some(MachineSize::Plan("s-2vcpu-4gb".into())));
    insta::assert_json_snapshot!("resize_droplet", recorded(&s).await);
    let e = provider(&s).resize(&tenant(), DROPLET, &MachineSize::Plan("S 2".into())).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}
