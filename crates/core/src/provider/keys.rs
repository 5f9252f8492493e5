//! Account SSH public keys (DigitalOcean account keys, Vultr SSH keys), installed on machines
//! created with their ids.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Tenant;
use crate::Result;

/// An SSH public key registered at the provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshKey {
    /// The provider's id (DigitalOcean: an integer, as text).
    pub id: String,
    /// Name.
    pub name: String,
    /// The provider's fingerprint of the key (MD5 hex pairs on DigitalOcean).
    pub fingerprint: String,
    /// The public key in OpenSSH format, e.g. `ssh-ed25519 AAAA… comment`.
    pub public_key: String,
    /// Creation time, when reported.
    pub created_at: Option<DateTime<Utc>>,
}

/// SSH public keys. Keys are account-wide at most providers: the adapter scopes them to the
/// tenant by name, and the gateway records their owner.
#[async_trait]
pub trait SshKeys: Send + Sync {
    /// Registers `public_key` under `name`.
    async fn create_key(&self, tenant: &Tenant, name: &str, public_key: &str) -> Result<SshKey>;
    /// Lists the tenant's keys.
    async fn list_keys(&self, tenant: &Tenant) -> Result<Vec<SshKey>>;
    /// Deletes a key; deleting an absent key is not an error.
    async fn delete_key(&self, tenant: &Tenant, id: &str) -> Result<()>;
}
