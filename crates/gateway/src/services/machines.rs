//! Machines on any provider with the [`Machines`](compute_core::provider::Machines) capability:
//! validation and pricing before the 402 (the gateway's own limits, the provider's pure
//! check, its catalog, the route's price book item), then tenancy, the resource row with its
//! paid time, the provider call and what the caller gets back.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use compute_core::WalletAddress;
use compute_core::billing::Quote;
use compute_core::provider::{
    Catalog, ExecRequest, ExecResult, IpKind, Machine, MachineEvent, MachineSize, MachineSpec, MachineState,
    ProviderCost, ProviderHandle, Tenant,
};
use compute_store::{NewResource, ResourceKind, ResourceRecord, ResourceState, ResourceUpdate};

use super::resources::{Owned, Scope, capability, owned, provider_problem, update};
use super::tenancy::{ensure, tenant_for};
use crate::payments::flow::{ForWallet, Payer, Pricing, Terms};
use crate::problem::Problem;
use crate::routes::Call;
use crate::state::AppState;

/// Label every machine carries with its tenant, so a create whose answer was lost is found.
const TENANT_LABEL: &str = "cg_owner_tenant";

fn invalid(msg: impl Into<String>) -> Problem {
    Problem::from(compute_core::Error::new(compute_core::ErrorKind::InvalidInput, msg))
}

/// A validated, priced machine create, waiting for its payment.
#[derive(Clone, Debug)]
pub struct MachineOrder {
    /// What the provider is asked for.
    pub spec: MachineSpec,
    /// Units of paid time bought (the book item's unit, e.g. minutes).
    pub units: u64,
    /// That paid time.
    pub paid_for: Duration,
    /// The price.
    pub quote: Quote,
    /// A secret the machine was given (its root password), sealed under the data key: kept in
    /// the row instead of `spec.user_data`, which is never stored.
    pub sealed_secret: Option<String>,
}

/// A machine the payer now owns.
#[derive(Clone, Debug)]
pub struct CreatedMachine {
    /// The provider's machine.
    pub machine: Machine,
    /// Its row.
    pub record: ResourceRecord,
    /// The tenant's public addresses.
    pub ips: Vec<String>,
}

/// The machines of one provider.
#[derive(Clone)]
pub struct MachineService {
    scope: Scope,
    state: AppState,
    handle: ProviderHandle,
}

/// The gateway's own rules for any machine, whatever the provider: names, environment,
/// services, mounts and the command stay within bounds.
fn check_common(spec: &MachineSpec) -> Result<(), Problem> {
    let name_ok = !spec.name.is_empty()
        && spec.name.len() <= 63
        && spec.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !name_ok {
        return Err(invalid("name must be 1–63 letters, digits, - or _"));
    }
    let env_ok = spec.env.len() <= 64
        && spec.env.iter().all(|(k, v)| {
            !k.is_empty()
                && k.len() <= 128
                && v.len() <= 4096
                && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
    if !env_ok {
        return Err(invalid("config.env: at most 64 variables, keys of letters, digits and _"));
    }
    if spec.services.len() > 8
        || spec.services.iter().any(|s| s.ports.is_empty() || s.ports.len() > 8 || s.internal_port == 0)
    {
        return Err(invalid("config.services: at most 8 services, each with 1–8 ports and an internal_port"));
    }
    if spec.mounts.iter().any(|m| !m.path.starts_with('/')) {
        return Err(invalid("config.mounts[].path must be absolute"));
    }
    if spec.command.as_ref().is_some_and(|cmd| cmd.is_empty() || cmd.len() > 64) {
        return Err(invalid("config.init.cmd must have 1–64 arguments"));
    }
    Ok(())
}

/// The provider cost of `size` from the catalog: a plan by id, a guest by its shape.
fn catalog_cost(catalog: &Catalog, size: &MachineSize) -> Option<ProviderCost> {
    match size {
        MachineSize::Plan(id) => catalog.size(id).map(|s| s.cost),
        MachineSize::Guest { cpu_kind, cpus, memory_mb } => catalog
            .sizes
            .iter()
            .find(|s| s.cpu_kind == Some(*cpu_kind) && s.vcpus == *cpus && s.memory_mb == *memory_mb)
            .map(|s| s.cost),
    }
}

fn random_name() -> String {
    use rand::RngCore;
    let mut b = [0u8; 6];
    rand::rng().fill_bytes(&mut b);
    format!("m-{}", hex::encode(b))
}

impl MachineService {
    /// The machines of the route's provider.
    ///
    /// # Errors
    /// 503 when the provider is not enabled.
    pub fn of(call: &Call) -> Result<Self, Problem> {
        let scope = Scope::of(call, ResourceKind::Machine)?;
        Ok(MachineService { state: scope.state.clone(), handle: scope.handle.clone(), scope })
    }

    /// Ownership, rows and the paid by-id flow of these machines.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    async fn catalog(&self) -> Result<std::sync::Arc<Catalog>, Problem> {
        self.state.catalogs().get(&self.handle).await.map_err(provider_problem)
    }

    /// Validates and prices a create before its 402: defaults (name, the catalog's default
    /// region), the gateway's rules, the provider's check, the catalog's regions, the paid time
    /// (`units`, from the book's bounds; `field` names it in errors, e.g. `ttl_minutes`) and the
    /// quote. Mounted volumes are checked for the verified payer by
    /// [`MachineService::create_terms`].
    ///
    /// # Errors
    /// 400 naming the rule broken.
    pub async fn order(
        &self,
        call: &Call,
        mut spec: MachineSpec,
        units: Option<u64>,
        field: &str,
    ) -> Result<MachineOrder, Problem> {
        let catalog = self.catalog().await?;
        if spec.name.is_empty() {
            spec.name = random_name();
        }
        if spec.region.is_empty() {
            spec.region = catalog.default_region.clone().unwrap_or_default();
        }
        check_common(&spec)?;
        capability(self.handle.machines())?.check(&spec)?;
        if !catalog.regions.is_empty() && catalog.region(&spec.region).is_none() {
            return Err(invalid(format!("unknown region {:?}", spec.region)));
        }
        let units = call.units(units, field)?;
        let quote = call.metered_quote(&spec.size.key(), units, catalog_cost(&catalog, &spec.size))?;
        Ok(MachineOrder { spec, units, paid_for: call.paid_time(units)?, quote, sealed_secret: None })
    }

    /// The payment terms of `order`: its quote, and, when it mounts volumes, the check that the
    /// verified payer owns each of them (an unknown and another wallet's volume are the same
    /// 404, before anything is settled).
    pub fn create_terms(&self, order: &MachineOrder) -> Terms {
        let volumes: Vec<String> = order.spec.mounts.iter().map(|m| m.volume_id.clone()).collect();
        let check: Option<ForWallet<()>> = (!volumes.is_empty()).then(|| {
            let (state, provider) = (self.state.clone(), self.handle.id());
            let check: ForWallet<()> = Arc::new(move |wallet| {
                let (state, volumes) = (state.clone(), volumes.clone());
                Box::pin(async move {
                    for v in &volumes {
                        owned(&state, provider, ResourceKind::Volume, &wallet, v).await?;
                    }
                    Ok(())
                })
            });
            check
        });
        Terms { pricing: Pricing::Fixed(order.quote.clone()), check }
    }

    /// Creates the ordered machine for the payer, in the payer's own tenant.
    ///
    /// # Errors
    /// 404 for a mounted volume the payer does not own; the provider's error (the row is then
    /// `failed`).
    pub async fn create(&self, payer: &Payer, order: MachineOrder) -> Result<CreatedMachine, Problem> {
        let machines = capability(self.handle.machines())?;
        let provider = self.handle.id();
        for m in &order.spec.mounts {
            owned(&self.state, provider, ResourceKind::Volume, &payer.wallet, &m.volume_id).await?;
        }
        let tenant = tenant_for(&self.state, &payer.wallet).await?;
        let mut spec = order.spec;
        spec.labels.insert(TENANT_LABEL.into(), tenant.as_str().to_owned());
        ensure(&self.handle, &tenant).await?;
        let record = self
            .state
            .store()
            .insert_resource(NewResource {
                kind: ResourceKind::Machine,
                owner: payer.wallet.clone(),
                provider,
                provider_id: None,
                tenant: Some(tenant.as_str().to_owned()),
                name: spec.name.clone(),
                region: Some(spec.region.clone()),
                state: ResourceState::Creating,
                spec: stored_spec(&spec, order.sealed_secret.as_deref()),
                price: payer.amount,
                paid_until: Some(paid_until(order.paid_for)),
                payment_id: Some(payer.payment_id.clone()),
            })
            .await?;
        let machine = match machines.create(&tenant, &spec).await {
            Ok(m) => m,
            Err(e) => {
                let _ = update(&self.state, &record.id, ResourceUpdate::state(ResourceState::Failed)).await;
                return Err(provider_problem(e));
            }
        };
        // The machine exists at the provider; its row still says `creating`.
        crate::crash::point("during-provider");
        let record =
            update(&self.state, &record.id, ResourceUpdate::state(ResourceState::Running).provider_id(&machine.id))
                .await?;
        let ips = self.connection_ips(&tenant, !spec.services.is_empty()).await;
        Ok(CreatedMachine { machine, record, ips })
    }

    /// The tenant's public addresses; a free shared IPv4 is allocated when services are exposed
    /// and the tenant has none (providers with IP management only).
    async fn connection_ips(&self, tenant: &Tenant, exposed: bool) -> Vec<String> {
        let Some(ips) = self.handle.ips() else { return Vec::new() };
        let mut list = ips.list_ips(tenant).await.unwrap_or_default();
        if list.is_empty() && exposed {
            match ips.allocate_ip(tenant, IpKind::SharedV4, None).await {
                Ok(ip) => list.push(ip),
                Err(e) => tracing::warn!(error = %e, "could not allocate a shared IPv4"),
            }
        }
        list.into_iter().map(|i| i.ip).collect()
    }

    /// The owner's machines at this provider, read live (rows the provider no longer shows are
    /// skipped and logged).
    ///
    /// # Errors
    /// Database problems.
    pub async fn list(&self, owner: &WalletAddress) -> Result<Vec<(Machine, ResourceRecord)>, Problem> {
        let machines = capability(self.handle.machines())?;
        let mut out = Vec::new();
        for r in self.scope.rows(owner).await? {
            match machines.get(&r.tenant, r.provider_id()).await {
                Ok(m) => out.push((m, r.record)),
                Err(e) => {
                    tracing::warn!(machine = r.provider_id(), error = %e, "a recorded machine is not readable at its provider");
                }
            }
        }
        Ok(out)
    }

    /// The machine as the provider reports it.
    ///
    /// # Errors
    /// The provider's error.
    pub async fn get(&self, m: &Owned) -> Result<Machine, Problem> {
        capability(self.handle.machines())?.get(&m.tenant, m.provider_id()).await.map_err(provider_problem)
    }

    /// Stops a machine; its row becomes `stopped`.
    ///
    /// # Errors
    /// The provider's error.
    pub async fn stop(&self, m: &Owned) -> Result<(), Problem> {
        capability(self.handle.machines())?.stop(&m.tenant, m.provider_id()).await.map_err(provider_problem)?;
        self.scope.mark(m, ResourceState::Stopped).await
    }

    /// Suspends a machine; its row becomes `suspended`.
    ///
    /// # Errors
    /// The provider's error.
    pub async fn suspend(&self, m: &Owned) -> Result<(), Problem> {
        capability(self.handle.suspend())?.suspend(&m.tenant, m.provider_id()).await.map_err(provider_problem)?;
        self.scope.mark(m, ResourceState::Suspended).await
    }

    /// Destroys a machine; its row becomes `destroyed`.
    ///
    /// # Errors
    /// The provider's error.
    pub async fn destroy(&self, m: &Owned) -> Result<(), Problem> {
        capability(self.handle.machines())?.destroy(&m.tenant, m.provider_id()).await.map_err(provider_problem)?;
        self.scope.mark(m, ResourceState::Destroyed).await
    }

    /// Runs a command.
    ///
    /// # Errors
    /// The provider's error.
    pub async fn exec(&self, m: &Owned, request: &ExecRequest) -> Result<ExecResult, Problem> {
        capability(self.handle.exec())?.exec(&m.tenant, m.provider_id(), request).await.map_err(provider_problem)
    }

    /// The machine's processes (provider JSON).
    ///
    /// # Errors
    /// The provider's error.
    pub async fn processes(&self, m: &Owned) -> Result<serde_json::Value, Problem> {
        capability(self.handle.exec())?.processes(&m.tenant, m.provider_id()).await.map_err(provider_problem)
    }

    /// The most recent events.
    ///
    /// # Errors
    /// The provider's error.
    pub async fn events(&self, m: &Owned, limit: u32) -> Result<Vec<MachineEvent>, Problem> {
        capability(self.handle.events())?.events(&m.tenant, m.provider_id(), limit).await.map_err(provider_problem)
    }

    /// Waits for `state`.
    ///
    /// # Errors
    /// The provider's error (a timeout included).
    pub async fn wait(&self, m: &Owned, state: &MachineState, timeout: Duration) -> Result<Machine, Problem> {
        capability(self.handle.machines())?
            .wait(&m.tenant, m.provider_id(), state, timeout)
            .await
            .map_err(provider_problem)
    }

    /// The pricing of a new paid period for machine `id` (start, restart): the recorded size of
    /// the **payer's own** machine under the route's renewal item, computed only for a verified
    /// wallet; an unknown and another wallet's id are the same 404. `field` names the units in
    /// errors. Returns the units bought, their duration and the pricing.
    ///
    /// # Errors
    /// 400 for a duration outside the book's bounds.
    pub fn renewal(
        &self,
        call: &Call,
        id: &str,
        units: Option<u64>,
        field: &str,
    ) -> Result<(u64, Duration, Pricing), Problem> {
        let units = call.units(units, field)?;
        let paid_for = call.paid_time(units)?;
        let (service, call, id) = (self.clone(), call.clone(), id.to_owned());
        let price_for: ForWallet<Quote> = Arc::new(move |wallet| {
            let (service, call, id) = (service.clone(), call.clone(), id.clone());
            Box::pin(async move {
                let m = service.scope.owned(&wallet, &id).await?;
                let size =
                    serde_json::from_value::<MachineSpec>(m.record.spec.clone()).map(|s| s.size).map_err(|_| {
                        Problem::from_status(StatusCode::INTERNAL_SERVER_ERROR)
                            .with_detail("the recorded machine has no size")
                    })?;
                service.period_quote(&call, &size, units).await
            })
        });
        Ok((units, paid_for, Pricing::ForPayer(price_for)))
    }

    /// The price of `units` more paid periods of a machine of `size` under the route's metered
    /// item (no setup fee), when the request itself names the size.
    ///
    /// # Errors
    /// 400 for a size or duration the book does not sell; catalog errors.
    pub async fn period_quote(&self, call: &Call, size: &MachineSize, units: u64) -> Result<Quote, Problem> {
        let catalog = self.catalog().await?;
        call.metered_quote(&size.key(), units, catalog_cost(&catalog, size))
    }

    /// Moves the end of `m`'s paid time to `until`, leaving the machine as it is.
    ///
    /// # Errors
    /// Database problems.
    pub async fn extend(&self, m: &Owned, until: DateTime<Utc>) -> Result<(), Problem> {
        update(&self.state, &m.record.id, ResourceUpdate::default().paid_until(until)).await.map(drop)
    }

    /// Reboots a machine within its paid time.
    ///
    /// # Errors
    /// The provider's error.
    pub async fn reboot(&self, m: &Owned) -> Result<(), Problem> {
        capability(self.handle.machines())?.reboot(&m.tenant, m.provider_id()).await.map_err(provider_problem)
    }

    /// Powers a machine on within its paid time; its row becomes `running`.
    ///
    /// # Errors
    /// The provider's error.
    pub async fn power_on(&self, m: &Owned) -> Result<(), Problem> {
        capability(self.handle.machines())?.start(&m.tenant, m.provider_id()).await.map_err(provider_problem)?;
        self.scope.mark(m, ResourceState::Running).await
    }

    /// Starts (or, with `reboot`, restarts) a machine for a new paid period of `paid_for`.
    ///
    /// # Errors
    /// The provider's error.
    pub async fn start(&self, m: &Owned, paid_for: Duration, reboot: bool) -> Result<DateTime<Utc>, Problem> {
        let machines = capability(self.handle.machines())?;
        let pid = m.provider_id();
        if reboot { machines.reboot(&m.tenant, pid).await } else { machines.start(&m.tenant, pid).await }
            .map_err(provider_problem)?;
        let until = paid_until(paid_for);
        update(&self.state, &m.record.id, ResourceUpdate::state(ResourceState::Running).paid_until(until)).await?;
        Ok(until)
    }
}

/// The spec as recorded: `user_data` (which may carry secrets) dropped, the sealed secret kept.
fn stored_spec(spec: &MachineSpec, sealed: Option<&str>) -> serde_json::Value {
    let mut stored = serde_json::to_value(MachineSpec { user_data: None, ..spec.clone() }).unwrap_or_default();
    if let (Some(sealed), Some(obj)) = (sealed, stored.as_object_mut()) {
        obj.insert(SEALED_SECRET.into(), serde_json::Value::String(sealed.to_owned()));
    }
    stored
}

/// The key of the sealed secret in a recorded spec.
const SEALED_SECRET: &str = "sealed_secret";

/// The sealed secret recorded with machine row `record`, if it has one.
pub fn sealed_secret(record: &ResourceRecord) -> Option<&str> {
    record.spec.get(SEALED_SECRET).and_then(serde_json::Value::as_str)
}

/// Now plus `paid_for`.
fn paid_until(paid_for: Duration) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(paid_for).unwrap_or(chrono::Duration::zero())
}
