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
}

impl Default for ExpiryConfig {
    fn default() -> Self {
        ExpiryConfig { grace_hours: 72 }
    }
}

impl ExpiryConfig {
    /// The grace period.
    pub fn grace(&self) -> chrono::Duration {
        chrono::Duration::hours(i64::from(self.grace_hours))
    }
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
