//! Acting on one due row at its provider: stopping or removing a claimed row, retiring a
//! lapsed machine (snapshot, then destroy), and starting again a machine renewed meanwhile.

use chrono::Utc;
use compute_core::provider::{ProviderHandle, Tenant};
use compute_core::{Error, ErrorKind, Result};
use compute_store::{ResourceKind, ResourceRecord, ResourceState, ResourceUpdate};

use crate::state::AppState;

/// What a sweep does to a due row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Action {
    /// Stop the machine (the row is claimed to `stopped` first).
    Stop,
    /// Destroy the machine, delete the volume, release the address, delete the snapshot (the
    /// row is claimed to `destroyed` first).
    Remove,
    /// Snapshot, then destroy the machine ([`crate::services::snapshots::retire`] claims the
    /// row itself).
    Retire,
}

impl Action {
    /// The state a row is claimed to before its provider call (`None`: not claimed in a batch).
    pub(super) fn claimed_state(self) -> Option<ResourceState> {
        match self {
            Action::Stop => Some(ResourceState::Stopped),
            Action::Remove => Some(ResourceState::Destroyed),
            Action::Retire => None,
        }
    }
}

/// Acts on row `r`, which this caller claimed from `r.state` to `to`. On a provider error
/// other than "not found" the row is given back to `r.state`, so a later pass retries it; a
/// resource the provider no longer has is recorded destroyed.
///
/// # Errors
/// The provider's error (after the row was given back); database errors.
pub(super) async fn claimed(state: &AppState, action: Action, to: ResourceState, r: &ResourceRecord) -> Result<()> {
    let store = state.store();
    let Some(pid) = r.provider_id.as_deref() else {
        return Ok(()); // Nothing at the provider to act on.
    };
    let (handle, tenant) = match handle_and_tenant(state, r) {
        Ok(found) => found,
        Err(e) => {
            store.transition_resource(&r.id, r.paid_until, &[to], r.state).await?;
            return Err(e);
        }
    };
    match call(handle, action, r.kind, &tenant, pid).await {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {
            store.update_resource(&r.id, ResourceUpdate::state(ResourceState::Destroyed)).await?;
            return Ok(());
        }
        Err(e) => {
            store.transition_resource(&r.id, r.paid_until, &[to], r.state).await?;
            return Err(e);
        }
    }
    Ok(())
}

/// Retires lapsed machine `r` ([`crate::services::snapshots::retire`] claims the row first);
/// whether this caller did it.
///
/// # Errors
/// The provider's errors; database errors.
pub(super) async fn retire(state: &AppState, r: &ResourceRecord) -> Result<bool> {
    let (handle, tenant) = handle_and_tenant(state, r)?;
    match crate::services::snapshots::retire(state, handle, r, &tenant).await {
        Ok(Some((snapshot, _))) => {
            tracing::info!(resource = %r.id, snapshot = %snapshot.id, "lapsed machine snapshotted and destroyed");
            Ok(true)
        }
        Ok(None) => Ok(false),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            state.store().update_resource(&r.id, ResourceUpdate::state(ResourceState::Destroyed)).await?;
            Ok(true)
        }
        Err(e) => Err(e),
    }
}

/// Whether lapsed machines of `handle` are retired (snapshot, destroy) rather than stopped.
pub(super) async fn retires(state: &AppState, handle: &ProviderHandle) -> bool {
    handle.snapshots().is_some() && state.catalogs().get(handle).await.is_ok_and(|c| c.stopped_machines_billed)
}

/// The enabled provider of row `r` and the row's tenant there.
fn handle_and_tenant<'a>(state: &'a AppState, r: &ResourceRecord) -> Result<(&'a ProviderHandle, Tenant)> {
    let handle = state.providers().get(&r.provider).ok_or_else(|| {
        Error::new(ErrorKind::Unavailable, format!("provider {} is not enabled here", r.provider.as_str()))
    })?;
    Ok((handle, Tenant::new(r.tenant.clone().unwrap_or_default())?))
}

/// Machines of `stopped` (rows as claimed, before the stop) whose owner paid for more time
/// while they were being stopped are started again; one read for the whole batch.
///
/// # Errors
/// Database errors reading the batch; a failed start is logged (the owner can start it).
pub(super) async fn restart_renewed(state: &AppState, stopped: &[&ResourceRecord]) -> Result<()> {
    let ids: Vec<String> = stopped.iter().map(|r| r.id.clone()).collect();
    let now: std::collections::HashMap<String, ResourceRecord> =
        state.store().resources_by_ids(&ids).await?.into_iter().map(|r| (r.id.clone(), r)).collect();
    for before in stopped {
        let Some(r) = now.get(&before.id) else { continue };
        let renewed = r.paid_until > before.paid_until && r.paid_until.is_some_and(|t| t > Utc::now());
        if !(renewed && r.state == ResourceState::Running) {
            continue;
        }
        tracing::info!(resource = %r.id, "renewed while being stopped; starting it again");
        let started = match (handle_and_tenant(state, r), r.provider_id.as_deref()) {
            (Ok((handle, tenant)), Some(pid)) => match machines(handle) {
                Ok(m) => m.start(&tenant, pid).await,
                Err(e) => Err(e),
            },
            (Err(e), _) => Err(e),
            (_, None) => Ok(()),
        };
        if let Err(e) = started {
            tracing::warn!(resource = %r.id, error = %e, "could not start a machine renewed while being stopped");
        }
    }
    Ok(())
}

/// The provider call of `action` on resource `pid`.
async fn call(handle: &ProviderHandle, action: Action, kind: ResourceKind, tenant: &Tenant, pid: &str) -> Result<()> {
    match action {
        Action::Stop => machines(handle)?.stop(tenant, pid).await,
        Action::Remove => remove(handle, kind, tenant, pid).await,
        Action::Retire => Err(Error::new(ErrorKind::Internal, "a retired row is not claimed in a batch")),
    }
}

async fn remove(handle: &ProviderHandle, kind: ResourceKind, tenant: &Tenant, pid: &str) -> Result<()> {
    match kind {
        ResourceKind::Machine => machines(handle)?.destroy(tenant, pid).await,
        ResourceKind::Volume => missing(handle.volumes(), "volumes")?.delete_volume(tenant, pid).await,
        ResourceKind::Ip => missing(handle.ips(), "ip addresses")?.release_ip(tenant, pid).await,
        ResourceKind::Snapshot => missing(handle.snapshots(), "snapshots")?.delete_snapshot(tenant, pid).await,
        other => Err(Error::new(ErrorKind::Internal, format!("expiry does not remove {}", other.as_str()))),
    }
}

fn machines(handle: &ProviderHandle) -> Result<&std::sync::Arc<dyn compute_core::provider::Machines>> {
    missing(handle.machines(), "machines")
}

fn missing<'a, T: ?Sized>(c: Option<&'a std::sync::Arc<T>>, what: &str) -> Result<&'a std::sync::Arc<T>> {
    c.ok_or_else(|| Error::new(ErrorKind::Unavailable, format!("the provider no longer offers {what}")))
}
