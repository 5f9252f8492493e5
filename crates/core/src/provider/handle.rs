//! [`ProviderHandle`]: one provider plus the capability traits it registered.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use super::{
    Dns, Domains, Hosting, IpAddresses, KeyValue, MachineEvents, MachineExec, MachineResize, MachineSuspend, Machines,
    Provider, ProviderId, Snapshots, SshKeys, Tenancy, Volumes,
};

/// A provider and the capabilities it implements, each as `Arc<dyn …>`.
///
/// Built by the provider crate (`compute_fly::handle(...)`, …) with the `with_*` methods;
/// [`ProviderHandle::capabilities`] is derived from what was registered.
#[derive(Clone)]
pub struct ProviderHandle {
    provider: Arc<dyn Provider>,
    machines: Option<Arc<dyn Machines>>,
    exec: Option<Arc<dyn MachineExec>>,
    events: Option<Arc<dyn MachineEvents>>,
    suspend: Option<Arc<dyn MachineSuspend>>,
    resize: Option<Arc<dyn MachineResize>>,
    tenancy: Option<Arc<dyn Tenancy>>,
    ips: Option<Arc<dyn IpAddresses>>,
    volumes: Option<Arc<dyn Volumes>>,
    snapshots: Option<Arc<dyn Snapshots>>,
    ssh_keys: Option<Arc<dyn SshKeys>>,
    hosting: Option<Arc<dyn Hosting>>,
    domains: Option<Arc<dyn Domains>>,
    dns: Option<Arc<dyn Dns>>,
    key_value: Option<Arc<dyn KeyValue>>,
}

macro_rules! capability {
    ($($field:ident: $trait:ident, $with:ident;)*) => {
        impl ProviderHandle {
            $(
                #[doc = concat!("Registers the [`", stringify!($trait), "`] capability.")]
                pub fn $with(mut self, imp: Arc<dyn $trait>) -> Self {
                    self.$field = Some(imp);
                    self
                }

                #[doc = concat!("The [`", stringify!($trait), "`] capability, when registered.")]
                pub fn $field(&self) -> Option<&Arc<dyn $trait>> {
                    self.$field.as_ref()
                }
            )*
        }
    };
}

capability! {
    machines: Machines, with_machines;
    exec: MachineExec, with_exec;
    events: MachineEvents, with_events;
    suspend: MachineSuspend, with_suspend;
    resize: MachineResize, with_resize;
    tenancy: Tenancy, with_tenancy;
    ips: IpAddresses, with_ips;
    volumes: Volumes, with_volumes;
    snapshots: Snapshots, with_snapshots;
    ssh_keys: SshKeys, with_ssh_keys;
    hosting: Hosting, with_hosting;
    domains: Domains, with_domains;
    dns: Dns, with_dns;
    key_value: KeyValue, with_key_value;
}

impl ProviderHandle {
    /// A handle with no capability registered yet.
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        ProviderHandle {
            provider,
            machines: None,
            exec: None,
            events: None,
            suspend: None,
            resize: None,
            tenancy: None,
            ips: None,
            volumes: None,
            snapshots: None,
            ssh_keys: None,
            hosting: None,
            domains: None,
            dns: None,
            key_value: None,
        }
    }

    /// The base provider.
    pub fn provider(&self) -> &Arc<dyn Provider> {
        &self.provider
    }

    /// The provider's id.
    pub fn id(&self) -> ProviderId {
        self.provider.id()
    }

    /// Whether `capability` is registered.
    pub fn has(&self, capability: Capability) -> bool {
        match capability {
            Capability::Machines => self.machines.is_some(),
            Capability::Exec => self.exec.is_some(),
            Capability::Events => self.events.is_some(),
            Capability::Suspend => self.suspend.is_some(),
            Capability::Resize => self.resize.is_some(),
            Capability::Tenancy => self.tenancy.is_some(),
            Capability::Ips => self.ips.is_some(),
            Capability::Volumes => self.volumes.is_some(),
            Capability::Snapshots => self.snapshots.is_some(),
            Capability::SshKeys => self.ssh_keys.is_some(),
            Capability::Hosting => self.hosting.is_some(),
            Capability::Domains => self.domains.is_some(),
            Capability::Dns => self.dns.is_some(),
            Capability::KeyValue => self.key_value.is_some(),
        }
    }

    /// What this provider can do, derived from the registered capabilities.
    pub fn capabilities(&self) -> Capabilities {
        Capabilities {
            machines: self.machines.as_ref().map(|_| MachineCapabilities {
                exec: self.exec.is_some(),
                events: self.events.is_some(),
                suspend: self.suspend.is_some(),
                resize: self.resize.is_some(),
            }),
            tenancy: self.tenancy.is_some(),
            ips: self.ips.is_some(),
            volumes: self.volumes.is_some(),
            snapshots: self.snapshots.is_some(),
            ssh_keys: self.ssh_keys.is_some(),
            hosting: self.hosting.is_some(),
            domains: self.domains.is_some(),
            dns: self.dns.is_some(),
            key_value: self.key_value.is_some(),
        }
    }
}

impl fmt::Debug for ProviderHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderHandle")
            .field("provider", &self.provider)
            .field("capabilities", &self.capabilities())
            .finish()
    }
}

/// One capability trait, named, so a caller (a route) can declare what it needs and check it
/// before any work starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// [`Machines`].
    Machines,
    /// [`MachineExec`].
    Exec,
    /// [`MachineEvents`].
    Events,
    /// [`MachineSuspend`].
    Suspend,
    /// [`MachineResize`].
    Resize,
    /// [`Tenancy`].
    Tenancy,
    /// [`IpAddresses`].
    Ips,
    /// [`Volumes`].
    Volumes,
    /// [`Snapshots`].
    Snapshots,
    /// [`SshKeys`].
    SshKeys,
    /// [`Hosting`].
    Hosting,
    /// [`Domains`].
    Domains,
    /// [`Dns`].
    Dns,
    /// [`KeyValue`].
    KeyValue,
}

impl Capability {
    /// The `snake_case` name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Capability::Machines => "machines",
            Capability::Exec => "exec",
            Capability::Events => "events",
            Capability::Suspend => "suspend",
            Capability::Resize => "resize",
            Capability::Tenancy => "tenancy",
            Capability::Ips => "ips",
            Capability::Volumes => "volumes",
            Capability::Snapshots => "snapshots",
            Capability::SshKeys => "ssh_keys",
            Capability::Hosting => "hosting",
            Capability::Domains => "domains",
            Capability::Dns => "dns",
            Capability::KeyValue => "key_value",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a provider can do. Serialised in `/health` and the catalog endpoints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    /// Machines, with their optional extras; `None` when the provider has no machines.
    pub machines: Option<MachineCapabilities>,
    /// Per-tenant isolation spaces (Fly apps).
    pub tenancy: bool,
    /// Public IP management.
    pub ips: bool,
    /// Block volumes.
    pub volumes: bool,
    /// Snapshots.
    pub snapshots: bool,
    /// Account SSH keys.
    pub ssh_keys: bool,
    /// Projects and deployments.
    pub hosting: bool,
    /// Domain registration.
    pub domains: bool,
    /// DNS records.
    pub dns: bool,
    /// Key-value databases.
    pub key_value: bool,
}

/// Optional machine operations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MachineCapabilities {
    /// `exec` and `ps`.
    pub exec: bool,
    /// Lifecycle events.
    pub events: bool,
    /// Suspend to memory snapshot.
    pub suspend: bool,
    /// Resize in place.
    pub resize: bool,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use async_trait::async_trait;

    use super::*;
    use crate::Result;
    use crate::provider::{Catalog, Machine, MachineSpec, MachineState, Tenant};

    #[derive(Debug)]
    struct Fake;

    #[async_trait]
    impl Provider for Fake {
        fn id(&self) -> ProviderId {
            ProviderId::Fly
        }
        async fn catalog(&self) -> Result<Catalog> {
            Ok(Catalog::default())
        }
    }

    #[async_trait]
    impl Machines for Fake {
        fn check(&self, _: &MachineSpec) -> Result<()> {
            Ok(())
        }
        async fn create(&self, _: &Tenant, _: &MachineSpec) -> Result<Machine> {
            Err(crate::Error::new(crate::ErrorKind::Internal, "not used"))
        }
        async fn get(&self, _: &Tenant, _: &str) -> Result<Machine> {
            Err(crate::Error::new(crate::ErrorKind::NotFound, "none"))
        }
        async fn list(&self, _: &Tenant) -> Result<Vec<Machine>> {
            Ok(vec![])
        }
        async fn start(&self, _: &Tenant, _: &str) -> Result<()> {
            Ok(())
        }
        async fn stop(&self, _: &Tenant, _: &str) -> Result<()> {
            Ok(())
        }
        async fn reboot(&self, _: &Tenant, _: &str) -> Result<()> {
            Ok(())
        }
        async fn destroy(&self, _: &Tenant, _: &str) -> Result<()> {
            Ok(())
        }
        async fn wait(&self, _: &Tenant, _: &str, _: &MachineState, _: Duration) -> Result<Machine> {
            Err(crate::Error::new(crate::ErrorKind::Timeout, "never"))
        }
    }

    #[test]
    fn capabilities_follow_what_was_registered() {
        let fake = Arc::new(Fake);
        let bare = ProviderHandle::new(fake.clone());
        assert_eq!(bare.capabilities(), Capabilities::default());
        let h = ProviderHandle::new(fake.clone()).with_machines(fake);
        let caps = h.capabilities();
        assert_eq!(caps.machines, Some(MachineCapabilities::default()));
        assert!(!caps.volumes && !caps.key_value);
        assert!(h.machines().is_some() && h.exec().is_none());
        assert!(h.has(Capability::Machines) && !h.has(Capability::Exec) && !h.has(Capability::SshKeys));
        assert_eq!(h.id(), ProviderId::Fly);
    }

    /// Compile-time check that every trait is object safe.
    #[allow(dead_code)]
    struct ObjectSafe(
        Box<dyn Provider>,
        Box<dyn Machines>,
        Box<dyn MachineExec>,
        Box<dyn MachineEvents>,
        Box<dyn MachineSuspend>,
        Box<dyn MachineResize>,
        Box<dyn Tenancy>,
        Box<dyn IpAddresses>,
        Box<dyn Volumes>,
        Box<dyn Snapshots>,
        Box<dyn SshKeys>,
        Box<dyn Hosting>,
        Box<dyn Domains>,
        Box<dyn Dns>,
        Box<dyn KeyValue>,
    );
}
