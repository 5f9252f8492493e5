//! The provider conformance suite (feature `testing`): one behaviour every provider adapter
//! must show through the compute-core traits, run by each provider crate against its fake
//! (or, with credentials, against the real API).
//!
//! [`run`] exercises every capability the handle registers and skips the others, so a new
//! provider runs the same suite as Fly. Failures panic with the step that broke, like the
//! asserts of an ordinary test.
//!
//! ```ignore
//! compute_core::conformance::run(&handle, compute_core::conformance::Fixture::new(tenant, spec)).await;
//! ```

use std::time::Duration;

use crate::ErrorKind;
use crate::provider::{
    Capability, IpKind, Machine, MachineSpec, MachineState, ProviderHandle, SnapshotSpec, Tenant, VolumeSpec,
};

/// What the suite creates.
#[derive(Clone, Debug)]
pub struct Fixture {
    /// The tenant everything is created in.
    pub tenant: Tenant,
    /// A second tenant, which must see none of the first tenant's resources.
    pub other_tenant: Tenant,
    /// A machine the provider accepts (it passes [`crate::provider::Machines::check`]).
    pub machine: MachineSpec,
    /// A volume, when the provider has volumes.
    pub volume: Option<VolumeSpec>,
    /// An SSH public key, when the provider has SSH keys.
    pub ssh_public_key: Option<String>,
    /// The IP kind to allocate, when the provider has IP addresses.
    pub ip_kind: IpKind,
    /// How long to wait for a state change.
    pub wait: Duration,
}

impl Fixture {
    /// A fixture for `tenant` and `machine`; the other fields have usable defaults.
    ///
    /// # Panics
    /// Never for the built-in second tenant name.
    pub fn new(tenant: Tenant, machine: MachineSpec) -> Self {
        Fixture {
            other_tenant: Tenant::new(format!("{}-other", tenant.as_str())).unwrap_or_else(|_| tenant.clone()),
            tenant,
            machine,
            volume: None,
            ssh_public_key: None,
            ip_kind: IpKind::SharedV4,
            wait: Duration::from_secs(30),
        }
    }
}

/// Runs every check for the capabilities `handle` registers.
///
/// # Panics
/// On the first behaviour that breaks the contract, naming it.
pub async fn run(handle: &ProviderHandle, fixture: Fixture) {
    catalog(handle).await;
    if handle.has(Capability::Tenancy) {
        tenancy(handle, &fixture).await;
    }
    if handle.has(Capability::Machines) {
        let machine = machines(handle, &fixture).await;
        if handle.has(Capability::Snapshots) {
            snapshots(handle, &fixture, &machine).await;
        }
        destroy(handle, &fixture, &machine).await;
    }
    if handle.has(Capability::Volumes) {
        volumes(handle, &fixture).await;
    }
    if handle.has(Capability::Ips) {
        ips(handle, &fixture).await;
    }
    if handle.has(Capability::SshKeys) {
        ssh_keys(handle, &fixture).await;
    }
}

/// The catalog: unique region and size ids, a default region that is offered, and sizes whose
/// provider cost is not negative.
pub async fn catalog(handle: &ProviderHandle) {
    let c = handle.provider().catalog().await.expect("catalog() answers");
    let mut regions: Vec<&str> = c.regions.iter().map(|r| r.id.as_str()).collect();
    regions.sort_unstable();
    regions.dedup();
    assert_eq!(regions.len(), c.regions.len(), "catalog region ids are unique");
    let mut sizes: Vec<&str> = c.sizes.iter().map(|s| s.id.as_str()).collect();
    sizes.sort_unstable();
    sizes.dedup();
    assert_eq!(sizes.len(), c.sizes.len(), "catalog size ids are unique");
    if let Some(d) = &c.default_region {
        assert!(c.region(d).is_some(), "the default region {d} is in the catalog");
    }
    for s in &c.sizes {
        assert!(s.vcpus > 0 && s.memory_mb > 0, "size {} has vCPUs and memory", s.id);
        assert!(!s.cost.rate.amount.as_decimal().is_sign_negative(), "size {} has a cost", s.id);
    }
}

async fn tenancy(handle: &ProviderHandle, f: &Fixture) {
    let t = handle.tenancy().expect("registered");
    let name = t.space_name(&f.tenant).expect("space_name of a valid tenant");
    assert!(!name.is_empty(), "the tenant space has a name");
    assert_eq!(name, t.space_name(&f.tenant).expect("stable"), "space_name is stable");
    assert_ne!(name, t.space_name(&f.other_tenant).expect("other"), "tenants get distinct spaces");
    t.ensure_tenant(&f.tenant).await.expect("ensure_tenant creates the space");
    t.ensure_tenant(&f.tenant).await.expect("ensure_tenant is idempotent");
    t.ensure_tenant(&f.other_tenant).await.expect("a second tenant");
}

async fn wait_for(handle: &ProviderHandle, f: &Fixture, id: &str, state: MachineState) -> Machine {
    let m = handle.machines().expect("registered");
    m.wait(&f.tenant, id, &state, f.wait).await.unwrap_or_else(|e| panic!("machine {id} reaches {state:?}: {e}"))
}

async fn machines(handle: &ProviderHandle, f: &Fixture) -> Machine {
    let m = handle.machines().expect("registered");
    m.check(&f.machine).expect("the fixture machine passes check()");
    let created = m.create(&f.tenant, &f.machine).await.expect("create");
    assert!(!created.id.is_empty(), "a created machine has an id");
    assert_eq!(created.name, f.machine.name, "the machine keeps its name");
    let got = m.get(&f.tenant, &created.id).await.expect("get a created machine");
    assert_eq!(got.id, created.id, "get returns the same machine");
    let listed = m.list(&f.tenant).await.expect("list");
    assert!(listed.iter().any(|x| x.id == created.id), "list shows the machine");
    let foreign = m.get(&f.other_tenant, &created.id).await;
    assert!(
        matches!(&foreign, Err(e) if e.kind() == ErrorKind::NotFound),
        "another tenant cannot get the machine: {foreign:?}"
    );
    let other_list = m.list(&f.other_tenant).await.unwrap_or_default();
    assert!(other_list.iter().all(|x| x.id != created.id), "another tenant's list does not show it");
    wait_for(handle, f, &created.id, MachineState::Started).await;
    m.stop(&f.tenant, &created.id).await.expect("stop");
    wait_for(handle, f, &created.id, MachineState::Stopped).await;
    m.start(&f.tenant, &created.id).await.expect("start");
    wait_for(handle, f, &created.id, MachineState::Started).await;
    m.reboot(&f.tenant, &created.id).await.expect("reboot");
    wait_for(handle, f, &created.id, MachineState::Started).await;
    assert!(m.stop(&f.other_tenant, &created.id).await.is_err(), "another tenant cannot stop the machine");
    created
}

async fn destroy(handle: &ProviderHandle, f: &Fixture, machine: &Machine) {
    let m = handle.machines().expect("registered");
    m.destroy(&f.tenant, &machine.id).await.expect("destroy");
    m.destroy(&f.tenant, &machine.id).await.expect("destroying an absent machine is not an error");
    match m.get(&f.tenant, &machine.id).await {
        Err(e) => assert_eq!(e.kind(), ErrorKind::NotFound, "a destroyed machine is not found: {e}"),
        Ok(g) => assert!(
            matches!(g.state, MachineState::Destroyed | MachineState::Destroying),
            "a destroyed machine is gone or destroyed: {:?}",
            g.state
        ),
    }
}

async fn snapshots(handle: &ProviderHandle, f: &Fixture, machine: &Machine) {
    let s = handle.snapshots().expect("registered");
    let spec = SnapshotSpec { source_id: machine.id.clone(), name: Some(format!("{}-snap", f.machine.name)) };
    let snap = s.create_snapshot(&f.tenant, &spec).await.expect("create_snapshot");
    assert!(!snap.id.is_empty(), "a snapshot has an id");
    let listed = s.list_snapshots(&f.tenant).await.expect("list_snapshots");
    assert!(listed.iter().any(|x| x.id == snap.id), "list_snapshots shows it");
    assert!(
        s.list_snapshots(&f.other_tenant).await.unwrap_or_default().iter().all(|x| x.id != snap.id),
        "another tenant does not see the snapshot"
    );
    s.get_snapshot(&f.tenant, &snap.id).await.expect("get_snapshot");
    s.delete_snapshot(&f.tenant, &snap.id).await.expect("delete_snapshot");
    let gone = s.get_snapshot(&f.tenant, &snap.id).await;
    assert!(matches!(&gone, Err(e) if e.kind() == ErrorKind::NotFound), "a deleted snapshot is gone: {gone:?}");
}

async fn volumes(handle: &ProviderHandle, f: &Fixture) {
    let Some(spec) = &f.volume else { return };
    let v = handle.volumes().expect("registered");
    v.check_volume(spec).expect("the fixture volume passes check_volume()");
    let created = v.create_volume(&f.tenant, spec).await.expect("create_volume");
    assert_eq!(created.size_gb, spec.size_gb, "the volume has the asked size");
    assert_eq!(v.get_volume(&f.tenant, &created.id).await.expect("get_volume").id, created.id);
    assert!(v.list_volumes(&f.tenant).await.expect("list").iter().any(|x| x.id == created.id), "listed");
    assert!(v.get_volume(&f.other_tenant, &created.id).await.is_err(), "another tenant cannot get the volume");
    let (grown, _) = v.extend_volume(&f.tenant, &created.id, spec.size_gb + 1).await.expect("extend_volume");
    assert_eq!(grown.size_gb, spec.size_gb + 1, "extend grows the volume");
    v.delete_volume(&f.tenant, &created.id).await.expect("delete_volume");
}

async fn ips(handle: &ProviderHandle, f: &Fixture) {
    let i = handle.ips().expect("registered");
    let ip = i.allocate_ip(&f.tenant, f.ip_kind, None).await.expect("allocate_ip");
    assert!(i.list_ips(&f.tenant).await.expect("list_ips").iter().any(|x| x.ip == ip.ip), "listed");
    i.release_ip(&f.tenant, &ip.ip).await.expect("release_ip");
    assert!(i.list_ips(&f.tenant).await.expect("list_ips").iter().all(|x| x.ip != ip.ip), "released");
}

async fn ssh_keys(handle: &ProviderHandle, f: &Fixture) {
    let Some(public) = &f.ssh_public_key else { return };
    let k = handle.ssh_keys().expect("registered");
    let key = k.create_key(&f.tenant, "conformance", public).await.expect("create_key");
    assert!(!key.id.is_empty() && !key.fingerprint.is_empty(), "a key has an id and a fingerprint");
    assert!(k.list_keys(&f.tenant).await.expect("list_keys").iter().any(|x| x.id == key.id), "listed");
    assert!(
        k.list_keys(&f.other_tenant).await.unwrap_or_default().iter().all(|x| x.id != key.id),
        "another tenant does not see the key"
    );
    k.delete_key(&f.tenant, &key.id).await.expect("delete_key");
    k.delete_key(&f.tenant, &key.id).await.expect("deleting an absent key is not an error");
    assert!(k.list_keys(&f.tenant).await.expect("list_keys").iter().all(|x| x.id != key.id), "deleted");
}
