//! Volumes and snapshots.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Tenant;
use crate::Result;

/// A volume to create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeSpec {
    /// Name (Fly: lowercase letters, digits and `_`).
    pub name: String,
    /// Region id.
    pub region: String,
    /// Size in **GB**.
    pub size_gb: u32,
    /// Restore from this snapshot, if set.
    pub snapshot_id: Option<String>,
}

/// A volume as the provider reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    /// The provider's id (`vol_…` on Fly).
    pub id: String,
    /// Name.
    pub name: String,
    /// Region id.
    pub region: String,
    /// Size in **GB**.
    pub size_gb: u32,
    /// Provider state, verbatim (`created`, `destroying`, …).
    pub state: String,
    /// The machine it is attached to, if any.
    pub attached_machine_id: Option<String>,
    /// Creation time.
    pub created_at: Option<DateTime<Utc>>,
    /// The provider's own object.
    pub raw: serde_json::Value,
}

/// Block volumes.
#[async_trait]
pub trait Volumes: Send + Sync {
    /// Checks `spec` against the provider's rules without calling it (pure): name format,
    /// size bounds in **GB**, region id.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] naming the field and the rule broken.
    fn check_volume(&self, spec: &VolumeSpec) -> Result<()>;
    /// Creates a volume.
    async fn create_volume(&self, tenant: &Tenant, spec: &VolumeSpec) -> Result<Volume>;
    /// Gets one volume.
    async fn get_volume(&self, tenant: &Tenant, id: &str) -> Result<Volume>;
    /// Lists the tenant's volumes.
    async fn list_volumes(&self, tenant: &Tenant) -> Result<Vec<Volume>>;
    /// Deletes a volume.
    async fn delete_volume(&self, tenant: &Tenant, id: &str) -> Result<()>;
    /// Grows a volume to `size_gb` **GB** (never shrinks). Returns the volume and whether the
    /// attached machine needs a restart to see the new size.
    async fn extend_volume(&self, tenant: &Tenant, id: &str, size_gb: u32) -> Result<(Volume, bool)>;
}

/// A snapshot to take of a machine or volume.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotSpec {
    /// The machine (droplet, instance) or volume id.
    pub source_id: String,
    /// Name, when the provider names snapshots.
    pub name: Option<String>,
}

/// A snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The provider's id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// What it was taken of.
    pub source_id: String,
    /// Size in **GB**, when reported.
    pub size_gb: Option<u32>,
    /// Provider status, verbatim (`complete`, `pending`, …).
    pub status: String,
    /// Creation time.
    pub created_at: Option<DateTime<Utc>>,
}

/// Snapshots of machines or volumes.
#[async_trait]
pub trait Snapshots: Send + Sync {
    /// Takes a snapshot (may complete asynchronously: see [`Snapshot::status`]).
    async fn create_snapshot(&self, tenant: &Tenant, spec: &SnapshotSpec) -> Result<Snapshot>;
    /// Gets one snapshot.
    async fn get_snapshot(&self, tenant: &Tenant, id: &str) -> Result<Snapshot>;
    /// Lists the tenant's snapshots.
    async fn list_snapshots(&self, tenant: &Tenant) -> Result<Vec<Snapshot>>;
    /// Deletes a snapshot.
    async fn delete_snapshot(&self, tenant: &Tenant, id: &str) -> Result<()>;
}
