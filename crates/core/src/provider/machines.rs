//! Machines (Fly machines, DigitalOcean droplets, Vultr instances) and their optional extras.
//!
//! [`Machines`] holds what every compute provider can do; exec, events, suspend and resize are
//! separate traits so a provider that lacks them simply does not register them.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{CpuKind, Tenant};
use crate::Result;

/// How big a machine is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MachineSize {
    /// An explicit guest (Fly): CPU kind, vCPUs and memory in **MB**.
    Guest {
        /// CPU class.
        cpu_kind: CpuKind,
        /// vCPUs.
        cpus: u32,
        /// Memory in **MB**.
        memory_mb: u32,
    },
    /// A provider plan or size slug (DigitalOcean `s-1vcpu-1gb`, Vultr `vc2-1c-1gb`).
    Plan(String),
}

impl MachineSize {
    /// The key price books list this size under: `shared/1/256` (CPU kind, vCPUs, memory in
    /// MB) for a guest, the slug itself for a plan.
    pub fn key(&self) -> String {
        match self {
            MachineSize::Guest { cpu_kind, cpus, memory_mb } => format!("{}/{cpus}/{memory_mb}", cpu_kind.as_str()),
            MachineSize::Plan(slug) => slug.clone(),
        }
    }
}

/// Transport protocol of an exposed service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportProtocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// A public port of a service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortSpec {
    /// The public port.
    pub port: u16,
    /// Edge handlers, e.g. `["tls", "http"]`; empty for raw TCP/UDP.
    pub handlers: Vec<String>,
}

/// A service the machine exposes (Fly `services[]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    /// Protocol.
    pub protocol: TransportProtocol,
    /// Port inside the machine.
    pub internal_port: u16,
    /// Public ports.
    pub ports: Vec<PortSpec>,
}

/// A volume mounted into the machine. The caller has already checked the volume's owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountSpec {
    /// The provider's volume id.
    pub volume_id: String,
    /// Absolute mount path inside the machine.
    pub path: String,
}

/// Restart policy (Fly `restart.policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    /// Never restart.
    No,
    /// Always restart.
    Always,
    /// Restart when the main process fails.
    OnFailure,
}

/// A validated machine to create. The gateway builds it from an allow-listed request body;
/// adapters map it onto their provider's create call and add nothing the caller did not ask for.
/// `Debug` redacts `user_data` and `env` values (they may carry passwords and tokens).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineSpec {
    /// Name, unique within the tenant.
    pub name: String,
    /// Region id.
    pub region: String,
    /// Image: a container image reference (Fly) or an image slug/id (DigitalOcean, Vultr).
    pub image: String,
    /// Size.
    pub size: MachineSize,
    /// Environment variables.
    pub env: BTreeMap<String, String>,
    /// Command replacing the image's default (`init.cmd` on Fly).
    pub command: Option<Vec<String>>,
    /// Exposed services.
    pub services: Vec<ServiceSpec>,
    /// Mounted volumes.
    pub mounts: Vec<MountSpec>,
    /// Restart policy.
    pub restart: Option<RestartPolicy>,
    /// Destroy the machine when it exits (Fly `auto_destroy`).
    pub auto_destroy: bool,
    /// SSH public keys or provider key ids (VM providers).
    pub ssh_keys: Vec<String>,
    /// Cloud-init user data (VM providers), at most 64 KiB.
    pub user_data: Option<String>,
    /// Labels the adapter stores on the resource (Fly metadata, tags) so a create whose answer
    /// was lost can be found again.
    pub labels: BTreeMap<String, String>,
}

impl MachineSpec {
    /// A VM of provider plan `plan` (DigitalOcean `s-1vcpu-1gb`, Vultr `vc2-1c-1gb`) from
    /// `image` in `region`, with nothing else set: no env, command, services, mounts, keys or
    /// user data.
    pub fn of_plan(
        name: impl Into<String>,
        region: impl Into<String>,
        image: impl Into<String>,
        plan: impl Into<String>,
    ) -> Self {
        MachineSpec {
            name: name.into(),
            region: region.into(),
            image: image.into(),
            size: MachineSize::Plan(plan.into()),
            env: BTreeMap::new(),
            command: None,
            services: vec![],
            mounts: vec![],
            restart: None,
            auto_destroy: false,
            ssh_keys: vec![],
            user_data: None,
            labels: BTreeMap::new(),
        }
    }
}

impl std::fmt::Debug for MachineSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MachineSpec")
            .field("name", &self.name)
            .field("region", &self.region)
            .field("image", &self.image)
            .field("size", &self.size)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("command", &self.command)
            .field("services", &self.services)
            .field("mounts", &self.mounts)
            .field("restart", &self.restart)
            .field("auto_destroy", &self.auto_destroy)
            .field("ssh_keys", &self.ssh_keys)
            .field("user_data", &self.user_data.as_ref().map(|u| format!("<{} bytes redacted>", u.len())))
            .field("labels", &self.labels)
            .finish()
    }
}

/// Lifecycle state, normalised across providers. Unknown provider states are kept verbatim.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MachineState {
    /// Being created (Fly `created`/`creating`, DigitalOcean `new`, Vultr `pending`).
    Creating,
    /// Booting.
    Starting,
    /// Running (Fly `started`, DigitalOcean `active`, Vultr `running`).
    Started,
    /// Shutting down.
    Stopping,
    /// Stopped (Fly `stopped`, DigitalOcean `off`, Vultr `stopped`).
    Stopped,
    /// Being suspended.
    Suspending,
    /// Suspended to a snapshot of memory (Fly).
    Suspended,
    /// Restarting or rebooting.
    Restarting,
    /// Being replaced by an update or resize.
    Updating,
    /// Being destroyed.
    Destroying,
    /// Gone.
    Destroyed,
    /// Failed.
    Failed,
    /// Any other provider state, verbatim.
    Other(String),
}

/// A machine as the provider reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// The provider's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Normalised state.
    pub state: MachineState,
    /// Region id.
    pub region: String,
    /// Size, when reported.
    pub size: Option<MachineSize>,
    /// Public IP addresses.
    pub public_ips: Vec<String>,
    /// Private IP address.
    pub private_ip: Option<String>,
    /// Creation time.
    pub created_at: Option<DateTime<Utc>>,
    /// The provider's own object, for API surfaces that mirror it. Never holds secrets.
    pub raw: serde_json::Value,
}

/// A command to run in a machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecRequest {
    /// argv, e.g. `["ls", "-la"]`.
    pub command: Vec<String>,
    /// Timeout in **seconds** (1–60 on Fly).
    pub timeout_secs: u32,
    /// Optional standard input.
    pub stdin: Option<String>,
}

/// What a command produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecResult {
    /// Exit code.
    pub exit_code: i32,
    /// Signal that ended the process, if any.
    pub exit_signal: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// A lifecycle event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MachineEvent {
    /// Event id.
    pub id: String,
    /// Type, e.g. `launch`, `start`, `stop`, `exit`.
    pub kind: String,
    /// Status, e.g. `started`.
    pub status: String,
    /// Who caused it, e.g. `user`, `flyd`.
    pub source: String,
    /// When.
    pub timestamp: DateTime<Utc>,
    /// The provider's own object.
    pub raw: serde_json::Value,
}

/// The capability every compute provider has. Ids are the provider's; `tenant` scopes them.
#[async_trait]
pub trait Machines: Send + Sync {
    /// Checks `spec` against the provider's own rules **without calling the provider** (pure,
    /// network-free): size rules, the offered limits, image references, region ids. The gateway
    /// calls it before it prices a request, so a spec the provider would refuse is a 400 and
    /// never a paid failure.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] naming the field and the rule broken.
    fn check(&self, spec: &MachineSpec) -> Result<()>;
    /// Creates and boots a machine. Not retried blindly: on an ambiguous failure the adapter
    /// looks the machine up by name/labels before giving up.
    async fn create(&self, tenant: &Tenant, spec: &MachineSpec) -> Result<Machine>;
    /// Gets one machine. [`crate::ErrorKind::NotFound`] when absent.
    async fn get(&self, tenant: &Tenant, id: &str) -> Result<Machine>;
    /// Lists the tenant's machines.
    async fn list(&self, tenant: &Tenant) -> Result<Vec<Machine>>;
    /// Starts (or resumes) a stopped machine.
    async fn start(&self, tenant: &Tenant, id: &str) -> Result<()>;
    /// Stops a machine.
    async fn stop(&self, tenant: &Tenant, id: &str) -> Result<()>;
    /// Restarts (reboots) a machine.
    async fn reboot(&self, tenant: &Tenant, id: &str) -> Result<()>;
    /// Destroys a machine. Destroying an absent machine is not an error.
    async fn destroy(&self, tenant: &Tenant, id: &str) -> Result<()>;
    /// Waits until the machine reaches `state` or `timeout` passes
    /// ([`crate::ErrorKind::Timeout`]); adapters loop over provider long-poll limits.
    async fn wait(&self, tenant: &Tenant, id: &str, state: &MachineState, timeout: Duration) -> Result<Machine>;
}

/// Running commands inside a machine (Fly `exec`, `ps`).
#[async_trait]
pub trait MachineExec: Send + Sync {
    /// Runs a command and returns its output.
    async fn exec(&self, tenant: &Tenant, id: &str, request: &ExecRequest) -> Result<ExecResult>;
    /// Lists processes (provider JSON).
    async fn processes(&self, tenant: &Tenant, id: &str) -> Result<serde_json::Value>;
}

/// Reading lifecycle events.
#[async_trait]
pub trait MachineEvents: Send + Sync {
    /// The most recent events, newest first, at most `limit`.
    async fn events(&self, tenant: &Tenant, id: &str, limit: u32) -> Result<Vec<MachineEvent>>;
}

/// Suspending a machine to a memory snapshot.
#[async_trait]
pub trait MachineSuspend: Send + Sync {
    /// Suspends the machine.
    async fn suspend(&self, tenant: &Tenant, id: &str) -> Result<()>;
}

/// Changing a machine's size in place.
#[async_trait]
pub trait MachineResize: Send + Sync {
    /// Resizes to `size` (may restart the machine).
    async fn resize(&self, tenant: &Tenant, id: &str, size: &MachineSize) -> Result<Machine>;
}

/// The tenant's isolation unit at the provider (a Fly app per tenant).
#[async_trait]
pub trait Tenancy: Send + Sync {
    /// The provider's name for the tenant's space (the Fly app name, prefix included), as the
    /// tenant sees it in the provider's API. Pure.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] when the name would break the provider's rules.
    fn space_name(&self, tenant: &Tenant) -> Result<String>;
    /// Creates the tenant's space if it does not exist (idempotent).
    async fn ensure_tenant(&self, tenant: &Tenant) -> Result<()>;
    /// Deletes the tenant's space and everything in it.
    async fn delete_tenant(&self, tenant: &Tenant) -> Result<()>;
}

/// Kind of public IP address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpKind {
    /// Dedicated IPv4 (billed monthly).
    V4,
    /// Dedicated IPv6.
    V6,
    /// Shared IPv4 (free on Fly).
    SharedV4,
}

/// A public IP address of a tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpAssignment {
    /// The address.
    pub ip: String,
    /// Kind.
    pub kind: IpKind,
    /// Region, or `global`.
    pub region: Option<String>,
    /// Creation time.
    pub created_at: Option<DateTime<Utc>>,
}

/// Public IP addresses of a tenant (Fly IP assignments).
#[async_trait]
pub trait IpAddresses: Send + Sync {
    /// Lists the tenant's addresses.
    async fn list_ips(&self, tenant: &Tenant) -> Result<Vec<IpAssignment>>;
    /// Allocates an address.
    async fn allocate_ip(&self, tenant: &Tenant, kind: IpKind, region: Option<&str>) -> Result<IpAssignment>;
    /// Releases an address.
    async fn release_ip(&self, tenant: &Tenant, ip: &str) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_specs_do_not_show_user_data_or_env_values_in_debug() {
        let spec = MachineSpec {
            env: BTreeMap::from([("TOKEN".into(), "env-secret".into())]),
            user_data: Some("password: hunter2".into()),
            ..MachineSpec::of_plan("m", "nyc1", "ubuntu-24-04-x64", "s-1vcpu-1gb")
        };
        let shown = format!("{spec:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("env-secret"), "{shown}");
        assert!(shown.contains("TOKEN") && shown.contains("redacted"));
    }
}
