//! Repositories: `impl Store` blocks, one file per table.

pub(crate) mod api_keys;
pub(crate) mod credits;
pub(crate) mod due;
pub(crate) mod idempotency;
pub(crate) mod kinds;
pub(crate) mod leases;
pub(crate) mod markers;
pub(crate) mod paid;
pub(crate) mod payments;
pub(crate) mod resources;
pub(crate) mod secrets;

use chrono::{DateTime, SubsecRound, Utc};

/// Now, truncated to microseconds (what PostgreSQL keeps), so values round-trip exactly.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A new random id (UUID v4, hyphenated).
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
