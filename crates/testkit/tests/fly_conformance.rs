//! The compute-core conformance suite, run by the real `compute-fly` adapter against the Fly
//! fake: the same behaviour every provider crate must show.

use std::collections::BTreeMap;
use std::time::Duration;

use compute_core::conformance::{Fixture, run};
use compute_core::http::{RetryPolicy, SecretString};
use compute_core::provider::{CpuKind, IpKind, MachineSize, MachineSpec, Tenant, VolumeSpec};
use compute_fly::FlyConfig;
use compute_testkit::fly_fake::{FakeConfig, spawn};

#[tokio::test]
async fn the_fly_adapter_passes_the_conformance_suite() {
    let fake = spawn(FakeConfig::new("fo1_conformance")).await.unwrap();
    let retry = RetryPolicy { initial_backoff: Duration::from_millis(5), ..RetryPolicy::default() };
    let config = FlyConfig::new(SecretString::from("fo1_conformance"), "org")
        .with_base_url(fake.url())
        .with_retry(retry)
        .with_app_prefix("cg-");
    let handle = compute_fly::handle(config).unwrap();
    let machine = MachineSpec {
        name: "conformance-1".into(),
        region: "sjc".into(),
        image: "ubuntu:latest".into(),
        size: MachineSize::Guest { cpu_kind: CpuKind::Shared, cpus: 1, memory_mb: 256 },
        env: BTreeMap::new(),
        command: Some(vec!["sleep".into(), "infinity".into()]),
        services: vec![],
        mounts: vec![],
        restart: None,
        auto_destroy: false,
        ssh_keys: vec![],
        user_data: None,
        labels: BTreeMap::new(),
    };
    let mut fixture = Fixture::new(Tenant::new("conformance").unwrap(), machine);
    fixture.volume = Some(VolumeSpec { name: "conf_data".into(), region: "sjc".into(), size_gb: 1, snapshot_id: None });
    fixture.ip_kind = IpKind::SharedV4;
    fixture.wait = Duration::from_secs(10);
    run(&handle, fixture).await;
}
