//! The real `compute-fly` adapter, driven through the compute-core traits against the fake.

use std::collections::BTreeMap;
use std::time::Duration;

use compute_core::ErrorKind;
use compute_core::http::{RetryPolicy, SecretString};
use compute_core::provider::{
    CpuKind, ExecRequest, IpKind, MachineSize, MachineSpec, MachineState, MountSpec, ProviderHandle, Tenant, VolumeSpec,
};
use compute_fly::FlyConfig;
use compute_testkit::fly_fake::{FakeConfig, RunningFake, SHARED_V4, spawn};

const TOKEN: &str = "fo1_fake_token";

fn fast() -> RetryPolicy {
    RetryPolicy {
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

fn handle(fake: &RunningFake, token: &str) -> ProviderHandle {
    let config = FlyConfig::new(SecretString::from(token), "org").with_base_url(fake.url()).with_retry(fast());
    compute_fly::handle(config).unwrap()
}

fn tenant() -> Tenant {
    Tenant::new("tenant-a").unwrap()
}

fn spec(name: &str) -> MachineSpec {
    MachineSpec {
        name: name.into(),
        region: String::new(),
        image: "ubuntu:latest".into(),
        size: MachineSize::Plan("shared-cpu-1x".into()),
        env: BTreeMap::new(),
        command: Some(vec!["sleep".into(), "infinity".into()]),
        services: vec![],
        mounts: vec![],
        restart: None,
        auto_destroy: false,
        ssh_keys: vec![],
        user_data: None,
        labels: BTreeMap::from([("cg_owner".to_owned(), "0xabc".to_owned())]),
    }
}

fn exec(argv: &[&str]) -> ExecRequest {
    ExecRequest { command: argv.iter().map(|s| (*s).to_owned()).collect(), timeout_secs: 10, stdin: None }
}

const SECS5: Duration = Duration::from_secs(5);

#[tokio::test]
async fn machine_lifecycle_through_the_adapter() {
    let fake = spawn(FakeConfig::new(TOKEN)).await.unwrap();
    let h = handle(&fake, TOKEN);
    let (t, machines) = (tenant(), h.machines().unwrap());
    let tenancy = h.tenancy().unwrap();
    tenancy.ensure_tenant(&t).await.unwrap();
    tenancy.ensure_tenant(&t).await.unwrap();

    let m = machines.create(&t, &spec("box-1")).await.unwrap();
    assert_eq!(m.state, MachineState::Started);
    assert_eq!(m.region, "sjc");
    assert!(m.id.len() == 14 && m.id.bytes().all(|b| b.is_ascii_hexdigit()), "{}", m.id);
    assert_eq!(m.size, Some(MachineSize::Guest { cpu_kind: CpuKind::Shared, cpus: 1, memory_mb: 256 }));
    assert!(m.private_ip.as_deref().is_some_and(|ip| ip.starts_with("fdaa:")));
    assert_eq!(m.raw["config"]["init"]["cmd"], serde_json::json!(["sleep", "infinity"]));
    let again = machines.create(&t, &spec("box-1")).await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::AlreadyExists, "{again}");

    let list = machines.list(&t).await.unwrap();
    assert_eq!(list.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(), [m.id.as_str()]);
    assert_eq!(machines.get(&t, &m.id).await.unwrap().name, "box-1");

    let x = h.exec().unwrap();
    let ls = x.exec(&t, &m.id, &exec(&["ls", "-la"])).await.unwrap();
    assert_eq!(ls.exit_code, 0);
    for dir in ["bin", "dev", "etc", "home", "root", "tmp", "usr", "var"] {
        assert!(ls.stdout.lines().any(|l| l.starts_with("drwx") && l.ends_with(&format!(" {dir}"))), "{}", ls.stdout);
    }
    assert_eq!(x.exec(&t, &m.id, &exec(&["echo", "hello", "world"])).await.unwrap().stdout, "hello world\n");
    assert_eq!(x.exec(&t, &m.id, &exec(&["cat", "/etc/hostname"])).await.unwrap().stdout, format!("{}\n", m.id));
    assert_eq!(x.exec(&t, &m.id, &exec(&["hostname"])).await.unwrap().stdout.trim(), m.id);
    assert!(x.exec(&t, &m.id, &exec(&["uname", "-a"])).await.unwrap().stdout.starts_with("Linux "));
    let missing = x.exec(&t, &m.id, &exec(&["frobnicate", "-x"])).await.unwrap();
    assert_eq!((missing.exit_code, missing.stderr.as_str()), (127, "sh: frobnicate: not found\n"));
    let ps = x.processes(&t, &m.id).await.unwrap();
    assert_eq!(ps[0]["pid"], 1);
    assert_eq!(ps[1]["command"], "sleep infinity");

    machines.stop(&t, &m.id).await.unwrap();
    let stopped = machines.wait(&t, &m.id, &MachineState::Stopped, SECS5).await.unwrap();
    assert_eq!(stopped.state, MachineState::Stopped);
    let refused = x.exec(&t, &m.id, &exec(&["ls"])).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Conflict, "{refused}");
    machines.start(&t, &m.id).await.unwrap();
    assert_eq!(machines.wait(&t, &m.id, &MachineState::Started, SECS5).await.unwrap().state, MachineState::Started);
    machines.reboot(&t, &m.id).await.unwrap();

    h.suspend().unwrap().suspend(&t, &m.id).await.unwrap();
    assert_eq!(machines.wait(&t, &m.id, &MachineState::Suspended, SECS5).await.unwrap().state, MachineState::Suspended);
    machines.start(&t, &m.id).await.unwrap();
    assert_eq!(machines.get(&t, &m.id).await.unwrap().state, MachineState::Started);

    let size = MachineSize::Guest { cpu_kind: CpuKind::Performance, cpus: 1, memory_mb: 2048 };
    let resized = h.resize().unwrap().resize(&t, &m.id, &size).await.unwrap();
    assert_eq!(resized.size, Some(size));
    assert_ne!(resized.raw["instance_id"], m.raw["instance_id"]);

    let events = h.events().unwrap().events(&t, &m.id, 50).await.unwrap();
    assert!(events.windows(2).all(|w| w[0].timestamp >= w[1].timestamp), "newest first");
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    for kind in ["launch", "start", "stop", "exit", "restart", "suspend", "update"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    assert_eq!(events.last().map(|e| (e.kind.as_str(), e.source.as_str())), Some(("launch", "user")));
    assert_eq!(h.events().unwrap().events(&t, &m.id, 2).await.unwrap().len(), 2);

    machines.destroy(&t, &m.id).await.unwrap();
    let gone = machines.wait(&t, &m.id, &MachineState::Destroyed, SECS5).await.unwrap();
    assert_eq!(gone.state, MachineState::Destroyed);
    assert!(machines.list(&t).await.unwrap().is_empty());
    machines.destroy(&t, &m.id).await.unwrap();

    tenancy.delete_tenant(&t).await.unwrap();
    let err = machines.list(&t).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    tenancy.delete_tenant(&t).await.unwrap();
}

#[tokio::test]
async fn volumes_through_the_adapter() {
    let fake = spawn(FakeConfig::new(TOKEN)).await.unwrap();
    let h = handle(&fake, TOKEN);
    let t = tenant();
    h.tenancy().unwrap().ensure_tenant(&t).await.unwrap();
    let vols = h.volumes().unwrap();
    let spec_v = VolumeSpec { name: "data".into(), region: "ams".into(), size_gb: 10, snapshot_id: None };
    let v = vols.create_volume(&t, &spec_v).await.unwrap();
    assert!(v.id.starts_with("vol_"), "{}", v.id);
    assert_eq!((v.state.as_str(), v.size_gb, v.region.as_str()), ("created", 10, "ams"));
    assert_eq!(vols.list_volumes(&t).await.unwrap().len(), 1);

    let (grown, restart) = vols.extend_volume(&t, &v.id, 20).await.unwrap();
    assert_eq!((grown.size_gb, restart), (20, false));
    let shrink = vols.extend_volume(&t, &v.id, 5).await.unwrap_err();
    assert_eq!(shrink.kind(), ErrorKind::InvalidInput, "{shrink}");

    let mut s = spec("with-disk");
    s.mounts = vec![MountSpec { volume_id: v.id.clone(), path: "/data".into() }];
    let machines = h.machines().unwrap();
    let m = machines.create(&t, &s).await.unwrap();
    assert_eq!(m.region, "ams", "a machine follows its volume");
    assert_eq!(vols.get_volume(&t, &v.id).await.unwrap().attached_machine_id.as_deref(), Some(m.id.as_str()));
    let ls = h.exec().unwrap().exec(&t, &m.id, &exec(&["ls", "/"])).await.unwrap();
    assert!(ls.stdout.lines().any(|l| l == "data"), "{}", ls.stdout);
    let attached = vols.delete_volume(&t, &v.id).await.unwrap_err();
    assert_eq!(attached.kind(), ErrorKind::Conflict, "{attached}");

    machines.destroy(&t, &m.id).await.unwrap();
    vols.delete_volume(&t, &v.id).await.unwrap();
    assert_eq!(vols.get_volume(&t, &v.id).await.unwrap().state, "destroyed");
    assert!(vols.list_volumes(&t).await.unwrap().is_empty());
    vols.delete_volume(&t, &v.id).await.unwrap();
}

#[tokio::test]
async fn ips_through_the_adapter() {
    let fake = spawn(FakeConfig::new(TOKEN)).await.unwrap();
    let h = handle(&fake, TOKEN);
    let t = tenant();
    h.tenancy().unwrap().ensure_tenant(&t).await.unwrap();
    let ips = h.ips().unwrap();
    let v4 = ips.allocate_ip(&t, IpKind::V4, Some("ams")).await.unwrap();
    assert_eq!((v4.ip.as_str(), v4.kind, v4.region.as_deref()), ("137.66.0.1", IpKind::V4, Some("ams")));
    let v6 = ips.allocate_ip(&t, IpKind::V6, None).await.unwrap();
    assert_eq!((v6.ip.as_str(), v6.kind), ("2a09:8280:1::1", IpKind::V6));
    let shared = ips.allocate_ip(&t, IpKind::SharedV4, None).await.unwrap();
    assert_eq!((shared.ip.as_str(), shared.kind), (SHARED_V4, IpKind::SharedV4));
    assert!(v4.created_at.is_some());

    let listed = ips.list_ips(&t).await.unwrap();
    assert_eq!(listed.iter().map(|a| a.kind).collect::<Vec<_>>(), [IpKind::V4, IpKind::V6, IpKind::SharedV4]);
    ips.release_ip(&t, &v6.ip).await.unwrap();
    ips.release_ip(&t, &v4.ip).await.unwrap();
    ips.release_ip(&t, &v4.ip).await.unwrap();
    assert_eq!(ips.list_ips(&t).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_wrong_token_is_unauthenticated() {
    let fake = spawn(FakeConfig::new(TOKEN)).await.unwrap();
    let err = handle(&fake, "fo1_wrong").tenancy().unwrap().ensure_tenant(&tenant()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    assert!(err.message().contains("Authenticate: token validation error"), "{err}");
    assert!(err.message().contains("fly-request-id"), "{err}");
    let ok = handle(&fake, &format!("FlyV1 {TOKEN}")).tenancy().unwrap().ensure_tenant(&tenant()).await;
    assert!(ok.is_ok(), "{ok:?}");
}

#[tokio::test]
async fn a_lost_create_answer_is_reconciled_by_name() {
    let fake = spawn(FakeConfig::new(TOKEN)).await.unwrap();
    let h = handle(&fake, TOKEN);
    let t = tenant();
    h.tenancy().unwrap().ensure_tenant(&t).await.unwrap();
    let url = format!("{}/__fake/fail-next", fake.url());
    let body = r#"{"path_contains":"/machines","method":"POST","status":503,"apply":true}"#;
    let r = reqwest::Client::new().post(url).bearer_auth(TOKEN).body(body).send().await.unwrap();
    assert!(r.status().is_success());
    let m = h.machines().unwrap().create(&t, &spec("lost")).await.unwrap();
    assert_eq!(m.name, "lost");
    let log = fake.state().dump()["requests"].clone();
    let posts = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.as_str().is_some_and(|r| r.starts_with("POST /v1/apps/tenant-a/machines")))
        .count();
    assert_eq!(posts, 1, "{log}");
}

#[tokio::test]
async fn delayed_transitions_are_waited_for() {
    let fake = spawn(FakeConfig::new(TOKEN).with_transition_delay(Duration::from_millis(300))).await.unwrap();
    let h = handle(&fake, TOKEN);
    let t = tenant();
    h.tenancy().unwrap().ensure_tenant(&t).await.unwrap();
    let machines = h.machines().unwrap();
    let m = machines.create(&t, &spec("slow")).await.unwrap();
    assert_eq!(m.state, MachineState::Creating);
    assert_eq!(machines.wait(&t, &m.id, &MachineState::Started, SECS5).await.unwrap().state, MachineState::Started);
    machines.stop(&t, &m.id).await.unwrap();
    assert_eq!(machines.get(&t, &m.id).await.unwrap().state, MachineState::Stopping);
    assert_eq!(machines.wait(&t, &m.id, &MachineState::Stopped, SECS5).await.unwrap().state, MachineState::Stopped);
    let short = machines.wait(&t, &m.id, &MachineState::Started, Duration::from_secs(1)).await.unwrap_err();
    assert_eq!(short.kind(), ErrorKind::Timeout, "{short}");
}
