//! Wire types of the Fly Machines API, shaped from Fly's documented requests and responses
//! (`superfly/fly-go` and the Machines API docs).
//!
//! Response types accept unknown fields and default missing ones, so new Fly fields never break
//! decoding. Request types serialise only what is set: an adapter never sends a field its
//! caller did not ask for.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `ErrorResponse`: `{error, status?, message?}` (`details` is deprecated and ignored).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ErrorBody {
    /// Human-readable error.
    pub error: Option<String>,
    /// Machine-readable code: `unknown`, `insufficient_capacity`, `volume_placement_capacity`,
    /// `name_taken`.
    pub status: Option<String>,
    /// Alternative message field (fly-go reads it too).
    pub message: Option<String>,
}

/// `POST /v1/apps` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CreateAppRequest {
    /// App name (global across Fly).
    pub name: String,
    /// Organisation slug.
    pub org_slug: String,
    /// The app's private network (6PN). Without one, an app joins the organisation's default
    /// network and reaches every other app of the organisation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// A repeat with the same key and name returns the first app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// The organisation an app belongs to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppOrganization {
    /// Name.
    pub name: String,
    /// Slug.
    pub slug: String,
}

/// An app (`GET /v1/apps/{app}`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct App {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Status, e.g. `deployed`, `pending`, `suspended`.
    pub status: Option<String>,
    /// Machines in the app.
    pub machine_count: Option<u64>,
    /// Volumes in the app.
    pub volume_count: Option<u64>,
    /// 6PN network.
    pub network: Option<String>,
    /// Owning organisation.
    pub organization: Option<AppOrganization>,
}

/// `config.guest`: CPU kind, vCPUs and memory in **MB**.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Guest {
    /// `shared` or `performance`.
    pub cpu_kind: String,
    /// vCPUs.
    pub cpus: u32,
    /// Memory in **MB**.
    pub memory_mb: u32,
}

/// `config.init`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Init {
    /// Command replacing the image's `CMD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
}

/// A public port of a service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Port {
    /// The public port.
    pub port: u16,
    /// Edge handlers (`tls`, `http`, …); omitted when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub handlers: Vec<String>,
}

/// `config.services[]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Service {
    /// `tcp` or `udp`.
    pub protocol: String,
    /// Port inside the machine.
    pub internal_port: u16,
    /// Public ports.
    pub ports: Vec<Port>,
}

/// `config.mounts[]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Mount {
    /// Volume id (`vol_…`).
    pub volume: String,
    /// Absolute path in the machine.
    pub path: String,
}

/// `config.restart`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Restart {
    /// `no`, `always` or `on-failure`.
    pub policy: String,
}

/// The part of `MachineConfig` the adapter sets when it creates a machine.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MachineConfig {
    /// Container image.
    pub image: String,
    /// Environment variables.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Guest size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guest: Option<Guest>,
    /// Init overrides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<Init>,
    /// Exposed services.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
    /// Mounted volumes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<Mount>,
    /// Restart policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<Restart>,
    /// Destroy the machine when it exits; sent only when `true`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub auto_destroy: bool,
    /// Metadata (the caller's labels).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// `POST /v1/apps/{app}/machines` body (`CreateMachineRequest`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CreateMachineRequest {
    /// Name, unique within the app.
    pub name: String,
    /// Region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Configuration.
    pub config: MachineConfig,
}

/// A machine as Fly reports it. The `config` is kept as JSON so an update can send it back
/// whole (Fly has no partial updates).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct FlyMachine {
    /// 14 hex characters.
    pub id: String,
    /// Name.
    pub name: String,
    /// Fly state, verbatim.
    pub state: String,
    /// Region.
    pub region: String,
    /// Version id; changes on every update.
    pub instance_id: Option<String>,
    /// Version id (newer field name).
    pub version: Option<String>,
    /// 6PN IPv6 address.
    pub private_ip: Option<String>,
    /// RFC 3339.
    pub created_at: Option<String>,
    /// RFC 3339.
    pub updated_at: Option<String>,
    /// `ok`, `unknown` or `unreachable`.
    pub host_status: Option<String>,
    /// Full configuration.
    pub config: Option<serde_json::Value>,
}

impl FlyMachine {
    /// The guest in `config.guest`, when present and complete.
    pub fn guest(&self) -> Option<Guest> {
        let g = self.config.as_ref()?.get("guest")?;
        let guest: Guest = serde_json::from_value(g.clone()).ok()?;
        (guest.cpus > 0 && guest.memory_mb > 0).then_some(guest)
    }

    /// The version id to wait on: `version`, else `instance_id`.
    pub fn version_id(&self) -> Option<&str> {
        self.version.as_deref().or(self.instance_id.as_deref()).filter(|v| !v.is_empty())
    }
}

/// `GET …/wait` answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct WaitResponse {
    /// Whether the state was reached.
    pub ok: bool,
    /// The state reached.
    pub state: Option<String>,
    /// Version id.
    pub version: Option<String>,
    /// Event id, for `from_event_id`.
    pub event_id: Option<String>,
}

/// A lifecycle event (`GET …/events`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct FlyEvent {
    /// Event id (missing in some older answers).
    pub id: Option<String>,
    /// `launch`, `start`, `stop`, `exit`, `update`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Status, e.g. `started`.
    pub status: String,
    /// `user` or `flyd`.
    pub source: String,
    /// Unix time in **milliseconds**.
    pub timestamp: i64,
}

/// `POST …/exec` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExecBody {
    /// argv.
    pub command: Vec<String>,
    /// Timeout in **seconds**.
    pub timeout: u32,
    /// Standard input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdin: Option<String>,
}

/// `POST …/exec` answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ExecResponse {
    /// Exit code.
    pub exit_code: i32,
    /// Signal number, `0` or absent when none.
    pub exit_signal: Option<i32>,
    /// Standard output.
    pub stdout: Option<String>,
    /// Standard error.
    pub stderr: Option<String>,
}

/// `POST /v1/apps/{app}/volumes` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CreateVolumeRequest {
    /// Name.
    pub name: String,
    /// Region.
    pub region: String,
    /// Size in **GB**.
    pub size_gb: u32,
    /// Restore from this snapshot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
}

/// A volume.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct FlyVolume {
    /// `vol_…`.
    pub id: String,
    /// Name.
    pub name: String,
    /// `created`, `scheduling_destroy`, `pending_destroy`, `destroying`, …
    pub state: String,
    /// Size in **GB**.
    pub size_gb: u32,
    /// Region.
    pub region: String,
    /// Zone (host group).
    pub zone: Option<String>,
    /// Whether it is encrypted.
    pub encrypted: Option<bool>,
    /// The machine it is attached to.
    pub attached_machine_id: Option<String>,
    /// RFC 3339.
    pub created_at: Option<String>,
}

/// `PUT …/volumes/{vol}/extend` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExtendVolumeRequest {
    /// New size in **GB**.
    pub size_gb: u32,
}

/// `PUT …/volumes/{vol}/extend` answer.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ExtendVolumeResponse {
    /// Whether the attached machine must restart to see the new size.
    pub needs_restart: bool,
    /// The volume.
    pub volume: serde_json::Value,
}

/// `GET /v1/apps/{app}/ip_assignments` answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct IpAssignmentList {
    /// Addresses.
    pub ips: Vec<FlyIpAssignment>,
}

/// An IP assignment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct FlyIpAssignment {
    /// The address.
    pub ip: String,
    /// Region or `global`.
    pub region: Option<String>,
    /// Shared IPv4.
    pub shared: bool,
    /// Egress-only address.
    pub egress: bool,
    /// Service name.
    pub service_name: Option<String>,
    /// RFC 3339.
    pub created_at: Option<String>,
}

/// `POST /v1/apps/{app}/ip_assignments` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AssignIpRequest {
    /// `v4`, `v6` or `shared_v4` (the adapter allocates only public addresses).
    #[serde(rename = "type")]
    pub kind: String,
    /// Region, when the caller gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}
