//! `[expiry]` and `[limits]`: what happens when paid time runs out, and how much one wallet
//! may hold.

use serde::{Deserialize, Serialize};

/// `[expiry]`: the expiry worker's policy.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExpiryConfig {
    /// How long after its paid time ends a resource is kept before it is destroyed, in
    /// **hours** (default 72): a machine is stopped at once and destroyed after the grace
    /// period (a stopped Fly machine still bills its root filesystem); a volume is deleted and
    /// a dedicated IP released after it. Renewing within the grace period keeps the resource.
    pub grace_hours: u32,
    /// How long a snapshot taken when a server is deleted or lapses is kept, in **hours**
    /// (default 72, as SiloVPS publishes); it is deleted after that.
    pub snapshot_retention_hours: u32,
}

impl Default for ExpiryConfig {
    fn default() -> Self {
        ExpiryConfig { grace_hours: 72, snapshot_retention_hours: 72 }
    }
}

impl ExpiryConfig {
    /// The grace period.
    pub fn grace(&self) -> chrono::Duration {
        chrono::Duration::hours(i64::from(self.grace_hours))
    }

    /// How long snapshots are kept.
    pub fn snapshot_retention(&self) -> chrono::Duration {
        chrono::Duration::hours(i64::from(self.snapshot_retention_hours))
    }
}

/// `[secrets]`: keys of data the gateway keeps encrypted at rest.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecretsConfig {
    /// The key (at least 32 bytes) that seals the root passwords of servers the gateway
    /// generates, the same on every replica. Default: a key generated once and kept in the
    /// database, which protects a copy of the resource rows but not of the whole database.
    pub data_key: Option<secrecy::SecretString>,
}

/// `[limits]`: per-wallet caps on resources with a recurring provider cost. A purchase over
/// a cap is refused with 409 before anything is settled.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Most live volumes one wallet holds per provider (default 20).
    pub max_volumes_per_wallet: usize,
    /// Most dedicated IPv4 addresses one wallet holds per provider (default 5).
    pub max_dedicated_ips_per_wallet: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig { max_volumes_per_wallet: 20, max_dedicated_ips_per_wallet: 5 }
    }
}
