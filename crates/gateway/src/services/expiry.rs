//! The expiry worker: stops machines whose paid time ran out. It reads its schedule from the
//! database (`resources.paid_until`), so it survives restarts, and takes a short lease per
//! resource (an atomic replay marker) so several replicas never act on one resource together.

use std::time::Duration;

use chrono::Utc;
use compute_core::ErrorKind;
use compute_core::provider::{ProviderId, Tenant};

use crate::state::AppState;

/// Resource states the worker stops when paid time is over.
pub const RUNNING_STATES: [&str; 2] = ["running", "starting"];

/// How long one replica holds a resource while stopping it.
const LEASE: Duration = Duration::from_secs(120);

/// One pass: stops every running machine whose `paid_until` is past; returns how many.
///
/// # Errors
/// Database errors.
pub async fn run_once(state: &AppState) -> compute_core::Result<usize> {
    let store = state.store();
    let mut stopped = 0;
    for r in store.resources_due(Utc::now(), &RUNNING_STATES, 100).await? {
        let lease_until = Utc::now() + chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::minutes(2));
        if !store.claim_marker(&format!("expiry-lease:{}", r.id), None, lease_until).await? {
            continue; // Another replica has it.
        }
        let provider: Option<ProviderId> = serde_json::from_value(serde_json::Value::String(r.provider.clone())).ok();
        let machines = provider.and_then(|p| state.providers().get(&p)).and_then(|h| h.machines().cloned());
        let (Some(machines), Some(pid), Some(tenant)) = (machines, r.provider_id.as_deref(), r.tenant.as_deref())
        else {
            continue;
        };
        let tenant = Tenant::new(tenant)?;
        match machines.stop(&tenant, pid).await {
            Ok(()) => {
                store.update_resource(&r.id, Some("stopped"), None, None).await?;
                stopped += 1;
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                store.update_resource(&r.id, Some("destroyed"), None, None).await?;
            }
            Err(e) => tracing::warn!(resource = %r.id, error = %e, "could not stop an expired machine; will retry"),
        }
        store.delete_marker(&format!("expiry-lease:{}", r.id)).await?;
    }
    Ok(stopped)
}
