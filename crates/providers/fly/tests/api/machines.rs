//! Machines, exec, events, suspend and resize.

use std::collections::BTreeMap;
use std::time::Duration;

use compute_core::ErrorKind;
use compute_core::provider::{
    CpuKind, ExecRequest, MachineEvents, MachineExec, MachineResize, MachineSize, MachineSpec, MachineState,
    MachineSuspend, Machines, MountSpec, PortSpec, RestartPolicy, ServiceSpec, TransportProtocol,
};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{app_path, fixture_json, provider, recorded, reply, tenant};

const ID: &str = "3d8d9016b11e89";

fn spec() -> MachineSpec {
    MachineSpec {
        name: "web-1".into(),
        region: "ams".into(),
        image: "registry-1.docker.io/library/nginx:1.27".into(),
        size: MachineSize::Guest { cpu_kind: CpuKind::Shared, cpus: 1, memory_mb: 256 },
        env: BTreeMap::from([("APP_ENV".into(), "production".into())]),
        command: Some(vec!["nginx".into(), "-g".into(), "daemon off;".into()]),
        services: vec![ServiceSpec {
            protocol: TransportProtocol::Tcp,
            internal_port: 8080,
            ports: vec![
                PortSpec { port: 443, handlers: vec!["tls".into(), "http".into()] },
                PortSpec { port: 80, handlers: vec!["http".into()] },
            ],
        }],
        mounts: vec![MountSpec { volume_id: "vol_4y5l0k8n9m7r3q1p".into(), path: "/data".into() }],
        restart: Some(RestartPolicy::OnFailure),
        auto_destroy: false,
        ssh_keys: vec![],
        user_data: None,
        labels: BTreeMap::from([("cg_owner".into(), "0xabc".into())]),
    }
}

#[tokio::test]
async fn create_maps_the_spec_and_the_answer() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(app_path("/machines")))
        .respond_with(reply(200, "machine.json"))
        .expect(1)
        .mount(&s)
        .await;
    let m = provider(&s).create(&tenant(), &spec()).await.unwrap();
    assert_eq!(m.id, ID);
    assert_eq!(m.state, MachineState::Started);
    assert_eq!(m.region, "ams");
    assert_eq!(m.size, Some(MachineSize::Guest { cpu_kind: CpuKind::Shared, cpus: 1, memory_mb: 256 }));
    assert!(m.public_ips.is_empty());
    assert_eq!(m.private_ip.as_deref(), Some("fdaa:0:18:a7b:7d:f066:b83b:2"));
    assert_eq!(m.created_at.unwrap().to_rfc3339(), "2024-06-20T11:21:04+00:00");
    assert_eq!(m.raw["image_ref"]["tag"], "1.27");
    assert!(m.raw.get("nonce").is_none(), "the lease nonce is dropped from raw");
    insta::assert_json_snapshot!("create_machine", recorded(&s).await);
}

#[tokio::test]
async fn create_on_5xx_is_not_retried_and_is_reconciled_by_name() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(app_path("/machines")))
        .respond_with(reply(500, "error_internal.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(app_path("/machines")))
        .respond_with(reply(200, "machine_list.json"))
        .expect(1)
        .mount(&s)
        .await;
    let m = provider(&s).create(&tenant(), &spec()).await.unwrap();
    assert_eq!((m.id.as_str(), m.name.as_str()), (ID, "web-1"));
    insta::assert_json_snapshot!("create_machine_reconciled", recorded(&s).await);
}

#[tokio::test]
async fn create_on_5xx_returns_the_error_when_the_machine_is_not_there() {
    let s = MockServer::start().await;
    Mock::given(method("POST")).respond_with(reply(502, "error_internal.json")).expect(1).mount(&s).await;
    Mock::given(method("GET"))
        .and(path(app_path("/machines")))
        .respond_with(reply(200, "machine_list.json"))
        .expect(1)
        .mount(&s)
        .await;
    let mut other = spec();
    other.name = "web-2".into();
    let e = provider(&s).create(&tenant(), &other).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Provider);
    assert!(e.is_temporary());
    // A machine with the right name but other labels is not ours either.
    let mut relabelled = spec();
    relabelled.labels.insert("cg_owner".into(), "0xdef".into());
    let s2 = MockServer::start().await;
    Mock::given(method("POST")).respond_with(reply(503, "error_internal.json")).expect(1).mount(&s2).await;
    Mock::given(method("GET")).respond_with(reply(200, "machine_list.json")).expect(1).mount(&s2).await;
    assert_eq!(provider(&s2).create(&tenant(), &relabelled).await.unwrap_err().kind(), ErrorKind::Unavailable);
}

#[tokio::test]
async fn create_that_times_out_is_reconciled_without_a_second_post() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(reply(200, "machine.json").set_delay(Duration::from_secs(6)))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(app_path("/machines")))
        .respond_with(reply(200, "machine_list.json"))
        .expect(1)
        .mount(&s)
        .await;
    let m = provider(&s).create(&tenant(), &spec()).await.unwrap();
    assert_eq!(m.id, ID);
}

#[tokio::test]
async fn insufficient_capacity_is_unavailable_and_not_reconciled() {
    let s = MockServer::start().await;
    Mock::given(method("POST")).respond_with(reply(422, "error_insufficient_capacity.json")).expect(1).mount(&s).await;
    Mock::given(method("GET")).respond_with(reply(200, "machine_list.json")).expect(0).mount(&s).await;
    let e = provider(&s).create(&tenant(), &spec()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(e.is_temporary());
    assert!(e.message().contains("insufficient_capacity"), "{e}");
}

#[tokio::test]
async fn a_spec_fly_cannot_take_is_refused_before_any_call() {
    let s = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).expect(0).mount(&s).await;
    let mut bad = spec();
    bad.size = MachineSize::Guest { cpu_kind: CpuKind::Performance, cpus: 1, memory_mb: 1024 };
    let e = provider(&s).create(&tenant(), &bad).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.message().contains("multiple of 2048"), "{e}");
}

#[tokio::test]
async fn list_and_get_map_fly_machines() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(app_path("/machines")))
        .respond_with(reply(200, "machine_list.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(app_path(&format!("/machines/{ID}"))))
        .respond_with(reply(200, "machine.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(app_path("/machines/00000000000000")))
        .respond_with(reply(404, "error_not_found.json"))
        .expect(1)
        .mount(&s)
        .await;
    let p = provider(&s);
    let list = p.list(&tenant()).await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].state, MachineState::Stopped);
    assert_eq!(list[1].size, Some(MachineSize::Guest { cpu_kind: CpuKind::Performance, cpus: 2, memory_mb: 4096 }));
    assert_eq!(p.get(&tenant(), ID).await.unwrap().name, "web-1");
    let e = p.get(&tenant(), "00000000000000").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    insta::assert_json_snapshot!("list_and_get_machines", recorded(&s).await);
}

#[tokio::test]
async fn lifecycle_calls_hit_the_documented_paths_once_each() {
    let s = MockServer::start().await;
    for action in ["start", "stop", "restart", "suspend"] {
        let body = if action == "start" { reply(200, "start.json") } else { ResponseTemplate::new(200) };
        Mock::given(method("POST"))
            .and(path(app_path(&format!("/machines/{ID}/{action}"))))
            .respond_with(body)
            .expect(1)
            .mount(&s)
            .await;
    }
    Mock::given(method("DELETE"))
        .and(path(app_path(&format!("/machines/{ID}"))))
        .and(query_param("force", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"ok":true}"#))
        .expect(1)
        .mount(&s)
        .await;
    let p = provider(&s);
    p.start(&tenant(), ID).await.unwrap();
    p.stop(&tenant(), ID).await.unwrap();
    p.reboot(&tenant(), ID).await.unwrap();
    p.suspend(&tenant(), ID).await.unwrap();
    p.destroy(&tenant(), ID).await.unwrap();
    insta::assert_json_snapshot!("machine_lifecycle", recorded(&s).await);
}

#[tokio::test]
async fn destroying_an_absent_machine_is_not_an_error() {
    let s = MockServer::start().await;
    Mock::given(method("DELETE")).respond_with(reply(404, "error_not_found.json")).expect(1).mount(&s).await;
    provider(&s).destroy(&tenant(), ID).await.unwrap();
}

#[tokio::test]
async fn restart_on_5xx_is_not_retried_but_stop_is() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(app_path(&format!("/machines/{ID}/restart"))))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path(app_path(&format!("/machines/{ID}/stop"))))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path(app_path(&format!("/machines/{ID}/stop"))))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&s)
        .await;
    let p = provider(&s);
    assert_eq!(p.reboot(&tenant(), ID).await.unwrap_err().kind(), ErrorKind::Provider);
    p.stop(&tenant(), ID).await.unwrap();
}

#[tokio::test]
async fn exec_sends_command_and_timeout_and_maps_the_result() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(app_path(&format!("/machines/{ID}/exec"))))
        .respond_with(reply(200, "exec.json"))
        .expect(1)
        .mount(&s)
        .await;
    let request = ExecRequest { command: vec!["ls".into(), "-la".into()], timeout_secs: 10, stdin: None };
    let r = provider(&s).exec(&tenant(), ID, &request).await.unwrap();
    assert_eq!(r.exit_code, 0);
    assert_eq!(r.exit_signal, None);
    assert!(r.stdout.starts_with("total 4"));
    assert_eq!(r.stderr, "");
    insta::assert_json_snapshot!("exec", recorded(&s).await);
}

#[tokio::test]
async fn exec_is_validated_and_never_retried() {
    let s = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(502)).expect(1).mount(&s).await;
    let p = provider(&s);
    for bad in [
        ExecRequest { command: vec![], timeout_secs: 10, stdin: None },
        ExecRequest { command: vec!["ls".into()], timeout_secs: 0, stdin: None },
        ExecRequest { command: vec!["ls".into()], timeout_secs: 61, stdin: None },
    ] {
        assert_eq!(p.exec(&tenant(), ID, &bad).await.unwrap_err().kind(), ErrorKind::InvalidInput);
    }
    let ok = ExecRequest { command: vec!["ls".into()], timeout_secs: 5, stdin: Some("input".into()) };
    assert_eq!(p.exec(&tenant(), ID, &ok).await.unwrap_err().kind(), ErrorKind::Provider);
}

#[tokio::test]
async fn events_come_back_newest_first_and_capped() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(app_path(&format!("/machines/{ID}/events"))))
        .and(query_param("limit", "50"))
        .respond_with(reply(200, "events.json"))
        .expect(1)
        .mount(&s)
        .await;
    let events = provider(&s).events(&tenant(), ID, 500).await.unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["exit", "stop", "start", "launch"]);
    assert_eq!(events[0].timestamp.timestamp_millis(), 1_718_882_500_000);
    assert_eq!(events[0].raw["request"]["exit_event"]["requested_stop"], true);
    assert_eq!(events[3].id, "1718882464000-launch", "an event without id gets one");
    assert!(provider(&s).events(&tenant(), ID, 0).await.unwrap().is_empty());
    insta::assert_json_snapshot!("events", recorded(&s).await);
}

#[tokio::test]
async fn ps_returns_fly_json() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(app_path(&format!("/machines/{ID}/ps"))))
        .respond_with(reply(200, "ps.json"))
        .expect(1)
        .mount(&s)
        .await;
    let ps = provider(&s).processes(&tenant(), ID).await.unwrap();
    assert_eq!(ps, fixture_json("ps.json"));
    insta::assert_json_snapshot!("ps", recorded(&s).await);
}

#[tokio::test]
async fn resize_sends_the_full_config_with_only_the_guest_changed() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(app_path(&format!("/machines/{ID}"))))
        .respond_with(reply(200, "machine.json"))
        .expect(1)
        .mount(&s)
        .await;
    let mut resized = fixture_json("machine.json");
    resized["config"]["guest"] = serde_json::json!({"cpu_kind": "performance", "cpus": 2, "memory_mb": 4096});
    resized["state"] = "replacing".into();
    Mock::given(method("POST"))
        .and(path(app_path(&format!("/machines/{ID}"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(resized))
        .expect(1)
        .mount(&s)
        .await;
    let m = provider(&s).resize(&tenant(), ID, &MachineSize::Plan("performance-2x".into())).await.unwrap();
    assert_eq!(m.state, MachineState::Updating);
    assert_eq!(m.size, Some(MachineSize::Guest { cpu_kind: CpuKind::Performance, cpus: 2, memory_mb: 4096 }));
    let requests = recorded(&s).await;
    let mut expected = fixture_json("machine.json")["config"].clone();
    expected["guest"] = serde_json::json!({"cpu_kind": "performance", "cpus": 2, "memory_mb": 4096});
    assert_eq!(requests[1]["body"]["config"], expected, "every other config field is sent back unchanged");
    insta::assert_json_snapshot!("resize", requests);
}

#[tokio::test]
async fn wait_loops_over_fly_408_answers() {
    let s = MockServer::start().await;
    let mut starting = fixture_json("machine.json");
    starting["state"] = "starting".into();
    Mock::given(method("GET"))
        .and(path(app_path(&format!("/machines/{ID}"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(starting))
        .up_to_n_times(1)
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(app_path(&format!("/machines/{ID}"))))
        .respond_with(reply(200, "machine.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(app_path(&format!("/machines/{ID}/wait"))))
        .respond_with(reply(408, "error_wait_timeout.json"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(app_path(&format!("/machines/{ID}/wait"))))
        .respond_with(reply(200, "wait_ok.json"))
        .expect(1)
        .mount(&s)
        .await;
    let m = provider(&s).wait(&tenant(), ID, &MachineState::Started, Duration::from_secs(30)).await.unwrap();
    assert_eq!(m.state, MachineState::Started);
    let mut requests = recorded(&s).await;
    for r in requests.as_array_mut().unwrap() {
        if let Some(q) = r["query"].as_str() {
            // The per-call timeout is the time left, which can tick down between calls.
            let secs: u64 = q.split("timeout=").nth(1).unwrap().split('&').next().unwrap().parse().unwrap();
            assert!((1..=30).contains(&secs), "{q}");
            r["query"] = q.replace(&format!("timeout={secs}"), "timeout=[secs]").into();
        }
    }
    insta::assert_json_snapshot!("wait_started", requests);
}

#[tokio::test]
async fn wait_for_stopped_passes_the_version_and_caps_each_call_at_60_s() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(app_path(&format!("/machines/{ID}"))))
        .respond_with(reply(200, "machine.json"))
        .expect(2)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(app_path(&format!("/machines/{ID}/wait"))))
        .and(query_param("state", "stopped"))
        .and(query_param("timeout", "60"))
        .and(query_param("version", "01J1B2C3D4E5F6G7H8J9K0MNPQ"))
        .respond_with(reply(200, "wait_ok.json"))
        .expect(1)
        .mount(&s)
        .await;
    provider(&s).wait(&tenant(), ID, &MachineState::Stopped, Duration::from_secs(600)).await.unwrap();
}

#[tokio::test]
async fn wait_gives_up_with_timeout_after_the_callers_budget() {
    let s = MockServer::start().await;
    let mut starting = fixture_json("machine.json");
    starting["state"] = "starting".into();
    Mock::given(method("GET"))
        .and(path(app_path(&format!("/machines/{ID}"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(starting))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(app_path(&format!("/machines/{ID}/wait"))))
        .respond_with(reply(408, "error_wait_timeout.json"))
        .mount(&s)
        .await;
    let e = provider(&s).wait(&tenant(), ID, &MachineState::Started, Duration::from_millis(200)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(e.message().contains("did not reach started"), "{e}");
}

#[tokio::test]
async fn wait_returns_at_once_when_the_state_is_already_reached_and_refuses_transient_targets() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(app_path(&format!("/machines/{ID}"))))
        .respond_with(reply(200, "machine.json"))
        .expect(1)
        .mount(&s)
        .await;
    let p = provider(&s);
    assert_eq!(p.wait(&tenant(), ID, &MachineState::Started, Duration::from_secs(5)).await.unwrap().id, ID);
    let e = p.wait(&tenant(), ID, &MachineState::Starting, Duration::from_secs(5)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn reads_are_retried_on_5xx_and_on_429_with_retry_after() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(app_path("/machines")))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(app_path("/machines")))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(app_path("/machines")))
        .respond_with(reply(200, "machine_list.json"))
        .expect(1)
        .mount(&s)
        .await;
    assert_eq!(provider(&s).list(&tenant()).await.unwrap().len(), 2);
}
