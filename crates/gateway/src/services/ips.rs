//! Public IP addresses of a wallet's tenant space, on any provider with the
//! [`IpAddresses`](compute_core::provider::IpAddresses) capability.
//!
//! A dedicated IPv4 is a recurring provider cost, so it is sold per paid period (days of a
//! metered book item at the provider's cost plus margin) and recorded as a resource row with a
//! `paid_until` the expiry worker enforces (released after the grace period unless renewed),
//! under a per-wallet cap. Shared IPv4 and IPv6 addresses cost the provider nothing and are
//! sold once.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use compute_core::WalletAddress;
use compute_core::billing::Quote;
use compute_core::provider::{IpAssignment, IpKind, ProviderHandle};
use compute_store::{NewResource, ResourceKind, ResourceState, ResourceUpdate};
use serde_json::Value;

use super::periods::{under_cap, with_paid_until};
use super::resources::{Owned, Scope, capability, provider_problem, update};
use super::tenancy::own_space;
use crate::payments::flow::{ForWallet, Payer, Pricing, Terms};
use crate::problem::Problem;
use crate::routes::{Call, Metered};
use crate::state::AppState;

/// The IP addresses of one provider.
#[derive(Clone)]
pub struct IpService {
    scope: Scope,
    state: AppState,
    handle: ProviderHandle,
}

impl IpService {
    /// The addresses of the route's provider.
    ///
    /// # Errors
    /// 503 when the provider is not enabled.
    pub fn of(call: &Call) -> Result<Self, Problem> {
        let scope = Scope::of(call, ResourceKind::Ip)?;
        Ok(IpService { state: scope.state.clone(), handle: scope.handle.clone(), scope })
    }

    /// Ownership, rows and the paid by-id flow of dedicated addresses.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The name of `wallet`'s space at this provider (its Fly app).
    ///
    /// # Errors
    /// Database errors reading the tenancy secret; the provider's naming error.
    pub async fn space_of(&self, wallet: &WalletAddress) -> Result<String, Problem> {
        crate::services::tenancy::space_name(&self.state, &self.handle, wallet).await
    }

    /// The addresses of `wallet`'s space `space`, each dedicated one bought here with its
    /// `paid_until`.
    ///
    /// # Errors
    /// 404 for a space that is not the wallet's; the provider's error.
    pub async fn list(&self, wallet: &WalletAddress, space: &str) -> Result<Vec<Value>, Problem> {
        let tenant = own_space(&self.state, &self.handle, wallet, space).await?;
        let list = capability(self.handle.ips())?.list_ips(&tenant).await.map_err(provider_problem)?;
        let rows = self.scope.rows(wallet).await?;
        Ok(list
            .into_iter()
            .map(|ip| {
                let until = rows.iter().find(|r| r.provider_id() == ip.ip).and_then(|r| r.record.paid_until);
                let raw = serde_json::to_value(&ip).unwrap_or_default();
                until.map_or(raw.clone(), |t| with_paid_until(raw, t))
            })
            .collect())
    }

    /// The price of `days` days of the dedicated-IPv4 `item` of the route's book (with its
    /// one-off fee when `setup`), at the provider's cost.
    ///
    /// # Errors
    /// 400 when the provider publishes no dedicated-IPv4 cost or the book does not sell the days.
    pub async fn dedicated_quote(&self, call: &Call, item: &str, setup: bool, days: u64) -> Result<Quote, Problem> {
        let catalog = self.state.catalogs().get(&self.handle).await.map_err(provider_problem)?;
        let cost = catalog.dedicated_ipv4.ok_or_else(|| {
            Problem::from(compute_core::Error::new(
                compute_core::ErrorKind::InvalidInput,
                "this provider sells no dedicated IPv4 addresses",
            ))
        })?;
        call.quote_metered(&Metered { item, setup, size: "ipv4", units: days, quantity: 1, cost: Some(cost) })
    }

    /// The terms of an allocation in `space`: `quote`; the verified payer must own the space,
    /// and, for a dedicated IPv4, hold fewer than the per-wallet cap.
    pub fn allocate_terms(&self, quote: Quote, space: &str, dedicated: bool) -> Terms {
        let (state, handle, space) = (self.state.clone(), self.handle.clone(), space.to_owned());
        let cap = dedicated.then(|| {
            under_cap(&self.scope, self.state.config().limits.max_dedicated_ips_per_wallet, "dedicated IPv4 addresses")
        });
        let check: ForWallet<()> = Arc::new(move |wallet| {
            let (state, handle, space, cap) = (state.clone(), handle.clone(), space.clone(), cap.clone());
            Box::pin(async move {
                own_space(&state, &handle, &wallet, &space).await?;
                match cap {
                    Some(cap) => cap(wallet).await,
                    None => Ok(()),
                }
            })
        });
        Terms { pricing: Pricing::Fixed(quote), check: Some(check) }
    }

    /// Allocates an address of `kind` in the payer's space `space`; a dedicated IPv4 is
    /// recorded, paid for `paid_for`, and returned with its `paid_until`.
    ///
    /// # Errors
    /// 404 for a space that is not the payer's; the provider's error; database problems.
    pub async fn allocate(
        &self,
        payer: &Payer,
        space: &str,
        kind: IpKind,
        region: Option<&str>,
        paid_for: Option<Duration>,
    ) -> Result<Value, Problem> {
        let tenant = own_space(&self.state, &self.handle, &payer.wallet, space).await?;
        let ip = capability(self.handle.ips())?.allocate_ip(&tenant, kind, region).await.map_err(provider_problem)?;
        let raw = serde_json::to_value(&ip).unwrap_or_default();
        let Some(paid_for) = paid_for else { return Ok(raw) };
        let paid_until = Utc::now() + chrono::Duration::from_std(paid_for).unwrap_or_default();
        self.record(payer, &tenant, &ip, paid_until).await?;
        Ok(with_paid_until(raw, paid_until))
    }

    async fn record(
        &self,
        payer: &Payer,
        tenant: &compute_core::provider::Tenant,
        ip: &IpAssignment,
        paid_until: DateTime<Utc>,
    ) -> Result<(), Problem> {
        self.state
            .store()
            .insert_resource(NewResource {
                kind: ResourceKind::Ip,
                owner: payer.wallet.clone(),
                provider: self.handle.id(),
                provider_id: Some(ip.ip.clone()),
                tenant: Some(tenant.as_str().to_owned()),
                name: ip.ip.clone(),
                region: ip.region.clone(),
                state: ResourceState::Active,
                spec: serde_json::to_value(ip).unwrap_or_default(),
                price: payer.amount,
                paid_until: Some(paid_until),
                payment_id: Some(payer.payment_id.clone()),
            })
            .await?;
        Ok(())
    }

    /// Moves `ip`'s paid period to `until`.
    ///
    /// # Errors
    /// Database problems.
    pub async fn renew(&self, ip: &Owned, until: DateTime<Utc>) -> Result<Value, Problem> {
        update(&self.state, &ip.record.id, ResourceUpdate::default().paid_until(until)).await?;
        Ok(with_paid_until(ip.record.spec.clone(), until))
    }

    /// Releases a dedicated address; its row becomes `destroyed`.
    ///
    /// # Errors
    /// The provider's error.
    pub async fn release(&self, ip: &Owned) -> Result<(), Problem> {
        capability(self.handle.ips())?.release_ip(&ip.tenant, ip.provider_id()).await.map_err(provider_problem)?;
        self.scope.mark(ip, ResourceState::Destroyed).await
    }
}
