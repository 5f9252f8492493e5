//! Snapshots on any provider with the [`Snapshots`](compute_core::provider::Snapshots)
//! capability, and **retiring** a machine: snapshot it, then destroy it (SiloVPS's delete, and
//! what expiry does on providers that bill stopped machines). A snapshot is recorded with its
//! owner and kept `[expiry] snapshot_retention_hours` (its row's `paid_until`), after which the
//! expiry worker deletes it; until then the owner may create a machine from it.

use chrono::{DateTime, Utc};
use compute_core::WalletAddress;
use compute_core::provider::{ProviderHandle, Snapshot, SnapshotSpec, Tenant};
use compute_store::{NewResource, ResourceKind, ResourceRecord, ResourceState};

use super::resources::{Owned, Scope, provider_problem};
use crate::problem::Problem;
use crate::routes::Call;
use crate::state::AppState;

fn missing(what: &str) -> compute_core::Error {
    compute_core::Error::new(compute_core::ErrorKind::Unavailable, format!("the provider offers no {what}"))
}

/// Retires machine row `machine` (its provider id, in `tenant`): claims the row by
/// compare-and-set to `destroyed` (one caller wins, and an owner who renewed since the row was
/// read wins), snapshots the machine, records the snapshot for the machine's owner, kept for
/// the configured retention, and destroys the machine. Returns the snapshot and until when it
/// is kept, or `None` when the claim was lost. When the snapshot fails nothing is destroyed and
/// the row is given back.
///
/// # Errors
/// The provider's errors; database errors.
pub async fn retire(
    state: &AppState,
    handle: &ProviderHandle,
    machine: &ResourceRecord,
    tenant: &Tenant,
) -> compute_core::Result<Option<(Snapshot, DateTime<Utc>)>> {
    let store = state.store();
    let snapshots = handle.snapshots().ok_or_else(|| missing("snapshots"))?;
    let machines = handle.machines().ok_or_else(|| missing("machines"))?;
    if !store.transition_resource(&machine.id, machine.paid_until, &[machine.state], ResourceState::Destroyed).await? {
        return Ok(None);
    }
    let pid = machine.provider_id.as_deref().unwrap_or_default();
    let spec = SnapshotSpec { source_id: pid.to_owned(), name: Some(format!("{}-final", machine.name)) };
    let snapshot = match snapshots.create_snapshot(tenant, &spec).await {
        Ok(s) => s,
        Err(e) => {
            store
                .transition_resource(&machine.id, machine.paid_until, &[ResourceState::Destroyed], machine.state)
                .await?;
            return Err(e);
        }
    };
    let kept_until = Utc::now() + state.config().expiry.snapshot_retention();
    store
        .insert_resource(NewResource {
            kind: ResourceKind::Snapshot,
            owner: machine.owner.clone(),
            provider: handle.id(),
            provider_id: Some(snapshot.id.clone()),
            tenant: Some(tenant.as_str().to_owned()),
            name: snapshot.name.clone().unwrap_or_else(|| spec.name.clone().unwrap_or_default()),
            region: machine.region.clone(),
            state: ResourceState::Active,
            spec: serde_json::json!({"snapshot": snapshot, "of": machine.spec}),
            price: compute_core::Usd::ZERO,
            paid_until: Some(kept_until),
            payment_id: None,
        })
        .await?;
    match machines.destroy(tenant, pid).await {
        Ok(()) => {}
        Err(e) if e.kind() == compute_core::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    Ok(Some((snapshot, kept_until)))
}

/// The snapshots of one provider.
#[derive(Clone)]
pub struct SnapshotService {
    scope: Scope,
    state: AppState,
    handle: ProviderHandle,
}

impl SnapshotService {
    /// The snapshots of the route's provider.
    ///
    /// # Errors
    /// 503 when the provider is not enabled.
    pub fn of(call: &Call) -> Result<Self, Problem> {
        let scope = Scope::of(call, ResourceKind::Snapshot)?;
        Ok(SnapshotService { state: scope.state.clone(), handle: scope.handle.clone(), scope })
    }

    /// Ownership and rows of these snapshots.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Retires the caller's machine `m` (see [`retire`]).
    ///
    /// # Errors
    /// 404 when it is already being retired or destroyed; the provider's errors.
    pub async fn retire(&self, m: &Owned) -> Result<(Snapshot, DateTime<Utc>), Problem> {
        retire(&self.state, &self.handle, &m.record, &m.tenant)
            .await
            .map_err(provider_problem)?
            .ok_or_else(|| super::resources::not_found(m.provider_id()))
    }

    /// The owner's snapshots that are still kept, as recorded, oldest first.
    ///
    /// # Errors
    /// Database problems.
    pub async fn list(&self, owner: &WalletAddress) -> Result<Vec<(Snapshot, ResourceRecord)>, Problem> {
        let now = Utc::now();
        Ok(self
            .scope
            .rows(owner)
            .await?
            .into_iter()
            .filter(|r| r.record.state == ResourceState::Active && r.record.paid_until.is_some_and(|t| t > now))
            .filter_map(|r| {
                let snapshot = serde_json::from_value::<Snapshot>(r.record.spec.get("snapshot")?.clone()).ok()?;
                Some((snapshot, r.record))
            })
            .collect())
    }

    /// The caller's kept snapshot `id` (the provider's id), e.g. to restore from it.
    ///
    /// # Errors
    /// 404 for an unknown, expired or another wallet's snapshot.
    pub async fn owned_kept(&self, owner: &WalletAddress, id: &str) -> Result<Owned, Problem> {
        let s = self.scope.owned(owner, id).await?;
        if s.record.paid_until.is_some_and(|t| t > Utc::now()) { Ok(s) } else { Err(super::resources::not_found(id)) }
    }
}
