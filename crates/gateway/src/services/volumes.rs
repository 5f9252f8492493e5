//! Volumes on any provider with the [`Volumes`](compute_core::provider::Volumes) capability:
//! the provider's pure check and the catalog's default region and size limit before the 402,
//! then the payer's tenant, the provider call and the resource row.

use compute_core::WalletAddress;
use compute_core::provider::{ProviderHandle, Volume, VolumeSpec};
use compute_store::{NewResource, ResourceKind, ResourceState};

use super::resources::{Owned, Scope, capability, provider_problem};
use super::tenancy::{ensure, tenant_for};
use crate::payments::flow::Payer;
use crate::problem::Problem;
use crate::routes::Call;
use crate::state::AppState;

/// The volumes of one provider.
#[derive(Clone)]
pub struct VolumeService {
    scope: Scope,
    state: AppState,
    handle: ProviderHandle,
}

impl VolumeService {
    /// The volumes of the route's provider.
    ///
    /// # Errors
    /// 503 when the provider is not enabled.
    pub fn of(call: &Call) -> Result<Self, Problem> {
        let scope = Scope::of(call, ResourceKind::Volume)?;
        Ok(VolumeService { state: scope.state.clone(), handle: scope.handle.clone(), scope })
    }

    /// Ownership, rows and the paid by-id flow of these volumes.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Fills the default region and checks `spec` with the provider, before the 402.
    ///
    /// # Errors
    /// 400 naming the rule broken.
    pub async fn order(&self, mut spec: VolumeSpec) -> Result<VolumeSpec, Problem> {
        if spec.region.is_empty() {
            let catalog = self.state.catalogs().get(&self.handle).await.map_err(provider_problem)?;
            spec.region = catalog.default_region.clone().unwrap_or_default();
        }
        capability(self.handle.volumes())?.check_volume(&spec)?;
        Ok(spec)
    }

    /// Checks a new size for `extend` before the 402: at least 1 GB and within the catalog's
    /// largest volume.
    ///
    /// # Errors
    /// 400.
    pub async fn check_size(&self, size_gb: u32) -> Result<(), Problem> {
        let catalog = self.state.catalogs().get(&self.handle).await.map_err(provider_problem)?;
        let max = catalog.limits.max_volume_gb.unwrap_or(u32::MAX);
        if (1..=max).contains(&size_gb) {
            Ok(())
        } else {
            Err(Problem::from(compute_core::Error::new(
                compute_core::ErrorKind::InvalidInput,
                format!("size_gb must be 1–{max}"),
            )))
        }
    }

    /// Creates the volume in the payer's tenant and records it.
    ///
    /// # Errors
    /// The provider's error; database problems.
    pub async fn create(&self, payer: &Payer, spec: &VolumeSpec) -> Result<Volume, Problem> {
        let tenant = tenant_for(&payer.wallet)?;
        ensure(&self.handle, &tenant).await?;
        let v = capability(self.handle.volumes())?.create_volume(&tenant, spec).await.map_err(provider_problem)?;
        self.state
            .store()
            .insert_resource(NewResource {
                kind: ResourceKind::Volume,
                owner: payer.wallet.clone(),
                provider: self.handle.id(),
                provider_id: Some(v.id.clone()),
                tenant: Some(tenant.as_str().to_owned()),
                name: spec.name.clone(),
                region: Some(spec.region.clone()),
                state: ResourceState::Active,
                spec: serde_json::to_value(spec).unwrap_or_default(),
                price: payer.amount,
                paid_until: None,
            })
            .await?;
        Ok(v)
    }

    /// The owner's volumes at this provider, read live (rows the provider no longer shows are
    /// skipped).
    ///
    /// # Errors
    /// Database problems.
    pub async fn list(&self, owner: &WalletAddress) -> Result<Vec<Volume>, Problem> {
        let volumes = capability(self.handle.volumes())?;
        let mut out = Vec::new();
        for r in self.scope.rows(owner).await? {
            if let Ok(v) = volumes.get_volume(&r.tenant, r.provider_id()).await {
                out.push(v);
            }
        }
        Ok(out)
    }

    /// The volume as the provider reports it.
    ///
    /// # Errors
    /// The provider's error.
    pub async fn get(&self, v: &Owned) -> Result<Volume, Problem> {
        capability(self.handle.volumes())?.get_volume(&v.tenant, v.provider_id()).await.map_err(provider_problem)
    }

    /// Deletes a volume; its row becomes `destroyed`.
    ///
    /// # Errors
    /// The provider's error.
    pub async fn delete(&self, v: &Owned) -> Result<(), Problem> {
        capability(self.handle.volumes())?.delete_volume(&v.tenant, v.provider_id()).await.map_err(provider_problem)?;
        self.scope.mark(v, ResourceState::Destroyed).await
    }

    /// Grows a volume to `size_gb` GB; returns it and whether its machine needs a restart.
    ///
    /// # Errors
    /// The provider's error.
    pub async fn extend(&self, v: &Owned, size_gb: u32) -> Result<(Volume, bool), Problem> {
        capability(self.handle.volumes())?
            .extend_volume(&v.tenant, v.provider_id(), size_gb)
            .await
            .map_err(provider_problem)
    }
}
