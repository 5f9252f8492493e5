//! The expiry worker: stops machines whose paid time ran out, on any provider. It reads its
//! schedule from the database (`resources.paid_until`), so it survives restarts, and takes a
//! short lease per resource (the `leases` table) so several replicas never act on one resource
//! together.

use std::sync::LazyLock;
use std::time::Duration;

use chrono::Utc;
use compute_core::ErrorKind;
use compute_core::provider::Tenant;
use compute_store::{ResourceKind, ResourceState, ResourceUpdate};

use crate::state::AppState;

/// Rows the worker stops when their paid time is over.
pub const RUNNING_STATES: [ResourceState; 1] = [ResourceState::Running];

/// How long one replica holds a resource while stopping it.
const LEASE: Duration = Duration::from_secs(120);

/// Most rows looked at per pass.
const BATCH: u64 = 100;

/// This process's lease holder id.
static HOLDER: LazyLock<String> = LazyLock::new(|| uuid::Uuid::new_v4().to_string());

/// One pass: stops every running machine whose `paid_until` is past; returns how many.
///
/// # Errors
/// Database errors.
pub async fn run_once(state: &AppState) -> compute_core::Result<usize> {
    let store = state.store();
    let mut stopped = 0;
    for r in store.resources_due(Utc::now(), &RUNNING_STATES, BATCH).await? {
        if r.kind != ResourceKind::Machine {
            continue;
        }
        let key = format!("expiry:{}", r.id);
        if !store.try_lease(&key, &HOLDER, LEASE).await? {
            continue; // Another replica has it.
        }
        let machines = state.providers().get(&r.provider).and_then(|h| h.machines().cloned());
        let (Some(machines), Some(pid), Some(tenant)) = (machines, r.provider_id.as_deref(), r.tenant.as_deref())
        else {
            store.release_lease(&key, &HOLDER).await?;
            continue;
        };
        match machines.stop(&Tenant::new(tenant)?, pid).await {
            Ok(()) => {
                store.update_resource(&r.id, ResourceUpdate::state(ResourceState::Stopped)).await?;
                stopped += 1;
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                store.update_resource(&r.id, ResourceUpdate::state(ResourceState::Destroyed)).await?;
            }
            Err(e) => tracing::warn!(resource = %r.id, error = %e, "could not stop an expired machine; will retry"),
        }
        store.release_lease(&key, &HOLDER).await?;
    }
    Ok(stopped)
}
