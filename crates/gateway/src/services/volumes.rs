//! Volumes on any provider with the [`Volumes`](compute_core::provider::Volumes) capability:
//! the provider's pure check and the catalog's default region and size limit before the 402,
//! then the payer's tenant, the provider call and the resource row.
//!
//! Storage is a recurring provider cost, so it is sold per paid period: by **GB × days** of a
//! metered book item priced at the provider's storage cost plus margin, with a `paid_until`
//! the expiry worker enforces (the volume is deleted after the grace period unless renewed),
//! growth priced by the GB added over the days left, and a per-wallet cap.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use compute_core::WalletAddress;
use compute_core::billing::Quote;
use compute_core::provider::{ProviderHandle, Volume, VolumeSpec};
use compute_store::{NewResource, ResourceKind, ResourceState, ResourceUpdate};

use super::periods::{days_left, renewal_end, under_cap};
use super::resources::{Owned, Scope, capability, provider_problem, update};
use super::tenancy::{ensure, tenant_for};
use crate::payments::flow::{ForWallet, Payer, Pricing, Terms};
use crate::problem::Problem;
use crate::routes::{Call, Metered};
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

    /// The price of `size_gb` GB for `days` days of the metered storage `item` of the route's
    /// book (with its one-off fee when `setup`), at the provider's storage cost.
    ///
    /// # Errors
    /// 400 when the provider publishes no storage cost or the book does not sell the days.
    pub async fn storage_quote(
        &self,
        call: &Call,
        item: &str,
        setup: bool,
        size_gb: u64,
        days: u64,
    ) -> Result<Quote, Problem> {
        let catalog = self.state.catalogs().get(&self.handle).await.map_err(provider_problem)?;
        let cost = catalog.storage_per_gb.ok_or_else(|| {
            Problem::from(compute_core::Error::new(
                compute_core::ErrorKind::InvalidInput,
                "this provider sells no storage",
            ))
        })?;
        call.quote_metered(&Metered { item, setup, size: "gb", units: days, quantity: size_gb, cost: Some(cost) })
    }

    /// The terms of a new volume: `quote`, and the payer under the per-wallet volume cap.
    pub fn create_terms(&self, quote: Quote) -> Terms {
        let cap = self.state.config().limits.max_volumes_per_wallet;
        Terms { pricing: Pricing::Fixed(quote), check: Some(under_cap(&self.scope, cap, "volumes")) }
    }

    /// The terms of growing the payer's volume `id` to `size_gb` GB: the storage `item`'s fee
    /// plus the GB added × the whole days its period has left (the item's default days for a
    /// volume recorded without a period), priced for the verified payer only (another wallet's
    /// id is a 404 with nothing charged, like an unknown one).
    pub fn extend_terms(&self, call: &Call, item: &'static str, id: &str, size_gb: u32) -> Terms {
        let (service, call, id) = (self.clone(), call.clone(), id.to_owned());
        let price: ForWallet<Quote> = Arc::new(move |wallet| {
            let (service, call, id) = (service.clone(), call.clone(), id.clone());
            Box::pin(async move {
                let v = service.scope.owned(&wallet, &id).await?;
                let current = recorded_size(&v)?;
                if size_gb <= current {
                    return Err(invalid(format!("size_gb must be larger than the current {current} GB")));
                }
                let days = match days_left(v.record.paid_until) {
                    Some(d) => d,
                    None => call.units_of(item, None, "days")?,
                };
                service.storage_quote(&call, item, true, u64::from(size_gb - current), days).await
            })
        });
        Terms { pricing: Pricing::ForPayer(price), check: None }
    }

    /// The terms of renewing the payer's volume `id` for `days` more days of the route's
    /// renewal item (no fee), by its recorded size.
    ///
    /// # Errors
    /// 500 when the route is not a renewal.
    pub fn renew_terms(&self, call: &Call, id: &str, days: u64) -> Result<Terms, Problem> {
        let (item, _) = call.metered_item()?;
        let (service, call, id) = (self.clone(), call.clone(), id.to_owned());
        let price: ForWallet<Quote> = Arc::new(move |wallet| {
            let (service, call, id) = (service.clone(), call.clone(), id.clone());
            Box::pin(async move {
                let v = service.scope.owned(&wallet, &id).await?;
                renewal_end(&call, v.record.paid_until, days)?;
                service.storage_quote(&call, item, false, u64::from(recorded_size(&v)?), days).await
            })
        });
        Ok(Terms { pricing: Pricing::ForPayer(price), check: None })
    }

    /// Renews `v` until `until`; returns the volume.
    ///
    /// # Errors
    /// The provider's error; database problems.
    pub async fn renew(&self, v: &Owned, until: DateTime<Utc>) -> Result<Volume, Problem> {
        update(&self.state, &v.record.id, ResourceUpdate::default().paid_until(until)).await?;
        self.get(v).await
    }

    /// Creates the volume in the payer's tenant, paid for `paid_for`, and records it.
    ///
    /// # Errors
    /// The provider's error; database problems.
    pub async fn create(
        &self,
        payer: &Payer,
        spec: &VolumeSpec,
        paid_for: Duration,
    ) -> Result<(Volume, DateTime<Utc>), Problem> {
        let tenant = tenant_for(&self.state, &payer.wallet).await?;
        ensure(&self.handle, &tenant).await?;
        let v = capability(self.handle.volumes())?.create_volume(&tenant, spec).await.map_err(provider_problem)?;
        let paid_until = Utc::now() + chrono::Duration::from_std(paid_for).unwrap_or_default();
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
                paid_until: Some(paid_until),
                payment_id: Some(payer.payment_id.clone()),
            })
            .await?;
        Ok((v, paid_until))
    }

    /// The owner's volumes at this provider, read live, each with the end of its paid period
    /// (rows the provider no longer shows are skipped).
    ///
    /// # Errors
    /// Database problems.
    pub async fn list(&self, owner: &WalletAddress) -> Result<Vec<(Volume, Option<DateTime<Utc>>)>, Problem> {
        let volumes = capability(self.handle.volumes())?;
        let mut out = Vec::new();
        for r in self.scope.rows(owner).await? {
            if let Ok(v) = volumes.get_volume(&r.tenant, r.provider_id()).await {
                out.push((v, r.record.paid_until));
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
        let grown = capability(self.handle.volumes())?
            .extend_volume(&v.tenant, v.provider_id(), size_gb)
            .await
            .map_err(provider_problem)?;
        let mut spec = v.record.spec.clone();
        spec["size_gb"] = serde_json::Value::from(size_gb);
        update(&self.state, &v.record.id, ResourceUpdate::default().spec(spec)).await?;
        Ok(grown)
    }
}

/// The size the volume was bought (or last grown) at, in **GB**.
fn recorded_size(v: &Owned) -> Result<u32, Problem> {
    serde_json::from_value::<VolumeSpec>(v.record.spec.clone()).map(|s| s.size_gb).map_err(|_| {
        Problem::from_status(axum::http::StatusCode::INTERNAL_SERVER_ERROR)
            .with_detail("the recorded volume has no size")
    })
}

fn invalid(detail: String) -> Problem {
    Problem::from(compute_core::Error::new(compute_core::ErrorKind::InvalidInput, detail))
}
