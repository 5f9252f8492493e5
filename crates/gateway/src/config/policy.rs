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
    /// How often the expiry worker looks for due resources, in **milliseconds** (default 500,
    /// at least 10): a machine runs at most about this long past its paid time, plus the time
    /// to stop the backlog ahead of it. Each look is one indexed query per sweep.
    pub interval_ms: u64,
    /// Provider calls (stops, deletions) one gateway makes at once for due resources (default
    /// 16, 1 to 256). Replicas on one database add up: each claims its own rows.
    pub concurrency: usize,
}

impl Default for ExpiryConfig {
    fn default() -> Self {
        ExpiryConfig { grace_hours: 72, snapshot_retention_hours: 72, interval_ms: 500, concurrency: 16 }
    }
}

impl ExpiryConfig {
    /// How often the worker runs.
    pub fn interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.interval_ms)
    }

    /// `interval_ms` and `concurrency` are within their bounds.
    ///
    /// # Errors
    /// A message naming the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.interval_ms < 10 {
            return Err("expiry.interval_ms: must be at least 10".into());
        }
        if !(1..=256).contains(&self.concurrency) {
            return Err("expiry.concurrency: must be from 1 to 256".into());
        }
        Ok(())
    }

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
