//! Ownership of resource rows, shared by every capability service: a caller's resource is
//! looked up through its owner (another wallet's looks exactly like an absent one), and the
//! paid "operate on my resource" flow every by-id route uses.

use std::future::Future;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::Response;
use compute_core::billing::Quote;
use compute_core::provider::{ProviderHandle, ProviderId, Tenant};
use compute_core::{Error, ErrorKind, WalletAddress};
use compute_store::{ResourceKind, ResourceRecord, ResourceState, ResourceUpdate};

use crate::payments::flow::{ActResult, ForWallet, Pricing, Terms};
use crate::problem::Problem;
use crate::routes::Call;
use crate::state::AppState;

/// A resource the caller owns, with the tenant it lives in.
#[derive(Clone, Debug)]
pub struct Owned {
    /// The row.
    pub record: ResourceRecord,
    /// Its tenant at the provider.
    pub tenant: Tenant,
}

impl Owned {
    /// The provider's id of the resource.
    pub fn provider_id(&self) -> &str {
        self.record.provider_id.as_deref().unwrap_or_default()
    }
}

/// 404 for an id the caller has no live resource under.
pub fn not_found(id: &str) -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not_found", "Not found")
        .with_detail(format!("no resource {id} for this wallet"))
}

/// A provider error as a problem (internal ones are logged).
pub fn provider_problem(e: Error) -> Problem {
    if e.kind() == ErrorKind::Internal {
        tracing::error!(error = %e, "provider call failed");
    }
    Problem::from(e)
}

/// A capability the route needs, or 503 when the provider does not register it.
///
/// # Errors
/// 503 (the router already answers 503 for routes whose declared capability is absent).
pub fn capability<T: ?Sized>(c: Option<&Arc<T>>) -> Result<Arc<T>, Problem> {
    c.cloned().ok_or_else(|| Problem::from_status(StatusCode::SERVICE_UNAVAILABLE))
}

/// 404 before payment when no live resource of `provider` has the provider id `id` at all
/// (nothing is charged for a typo); ownership is checked after payment, when the payer is known.
///
/// # Errors
/// 404, or a database problem.
pub async fn must_exist(state: &AppState, provider: ProviderId, id: &str) -> Result<(), Problem> {
    if state.store().provider_id_exists(provider, id).await? { Ok(()) } else { Err(not_found(id)) }
}

/// The live resource `id` (the provider's id) of `kind` at `provider` that `owner` owns.
///
/// # Errors
/// 404 for an absent, destroyed, foreign or other-kind resource.
pub async fn owned(
    state: &AppState,
    provider: ProviderId,
    kind: ResourceKind,
    owner: &WalletAddress,
    id: &str,
) -> Result<Owned, Problem> {
    let record = state.store().resource_by_provider_id(provider, id, owner).await.map_err(|_| not_found(id))?;
    if record.kind != kind || !record.state.is_live() {
        return Err(not_found(id));
    }
    let tenant = Tenant::new(record.tenant.clone().unwrap_or_default())?;
    Ok(Owned { record, tenant })
}

/// Applies `update` to a row.
///
/// # Errors
/// A database problem.
pub async fn update(state: &AppState, id: &str, update: ResourceUpdate) -> Result<ResourceRecord, Problem> {
    Ok(state.store().update_resource(id, update).await?)
}

/// The resources of one kind at one provider: what every capability service shares.
#[derive(Clone)]
pub struct Scope {
    /// The application state.
    pub state: AppState,
    /// The provider.
    pub handle: ProviderHandle,
    /// The kind of resource.
    pub kind: ResourceKind,
}

impl Scope {
    /// Resources of `kind` at the route's provider.
    ///
    /// # Errors
    /// 503 when the provider is not enabled.
    pub fn of(call: &Call, kind: ResourceKind) -> Result<Self, Problem> {
        Ok(Scope { state: call.state.clone(), handle: call.provider()?, kind })
    }

    /// 404 before payment when no live resource has this id (see [`must_exist`]).
    ///
    /// # Errors
    /// 404.
    pub async fn must_exist(&self, id: &str) -> Result<(), Problem> {
        must_exist(&self.state, self.handle.id(), id).await
    }

    /// The owner's resource `id`.
    ///
    /// # Errors
    /// 404 for another wallet's, an unknown or another kind's resource.
    pub async fn owned(&self, owner: &WalletAddress, id: &str) -> Result<Owned, Problem> {
        owned(&self.state, self.handle.id(), self.kind, owner, id).await
    }

    /// The owner's live rows at this provider with their tenant and provider id.
    ///
    /// # Errors
    /// Database problems.
    pub async fn rows(&self, owner: &WalletAddress) -> Result<Vec<Owned>, Problem> {
        let mut out = Vec::new();
        for record in self.state.store().list_resources(owner, self.kind).await? {
            if record.provider != self.handle.id() || record.provider_id.is_none() {
                continue;
            }
            let tenant = Tenant::new(record.tenant.clone().unwrap_or_default())?;
            out.push(Owned { record, tenant });
        }
        Ok(out)
    }

    /// Sets the row's state.
    ///
    /// # Errors
    /// A database problem.
    pub async fn mark(&self, r: &Owned, state: ResourceState) -> Result<(), Problem> {
        update(&self.state, &r.record.id, ResourceUpdate::state(state)).await.map(drop)
    }

    /// A check that the verified payer owns resource `id`, for [`Terms::check`]: an unknown
    /// id and another wallet's id both fail it with the same 404, after verification and
    /// before anything is settled.
    pub fn owns(&self, id: &str) -> ForWallet<()> {
        let (scope, id) = (self.clone(), id.to_owned());
        Arc::new(move |wallet| {
            let (scope, id) = (scope.clone(), id.clone());
            Box::pin(async move { scope.owned(&wallet, &id).await.map(drop) })
        })
    }

    /// The paid flow of a by-id route (path parameter `id`): `quote` through the 402 for any
    /// id (nothing shows whether an id exists before payment), then, for the verified payer,
    /// the ownership check before settlement (404 and nothing charged otherwise), then `op` on
    /// the payer's own resource.
    pub async fn pay_for_owned<F, Fut>(&self, call: &Call, quote: Quote, op: F) -> Result<Response, Problem>
    where
        F: FnOnce(Owned) -> Fut + Send + 'static,
        Fut: Future<Output = ActResult> + Send + 'static,
    {
        self.pay_for(call, call.param("id"), quote, op).await
    }

    /// As [`Scope::pay_for_owned`] for the resource with provider id `id` (a surface that shows
    /// its own ids, e.g. SiloVPS `srv_…`, translates them first).
    pub async fn pay_for<F, Fut>(&self, call: &Call, id: &str, quote: Quote, op: F) -> Result<Response, Problem>
    where
        F: FnOnce(Owned) -> Fut + Send + 'static,
        Fut: Future<Output = ActResult> + Send + 'static,
    {
        let id = id.to_owned();
        let terms = Terms { pricing: Pricing::Fixed(quote), check: Some(self.owns(&id)) };
        let scope = self.clone();
        Ok(call
            .pay_terms(terms, move |payer| async move {
                let resource = scope.owned(&payer.wallet, &id).await?;
                op(resource).await
            })
            .await)
    }
}
