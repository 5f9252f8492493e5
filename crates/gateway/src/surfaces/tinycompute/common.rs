//! Helpers shared by the TinyCompute handlers: the Fly handle, JSON bodies, owned lookups.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use compute_core::billing::{Quote, QuoteRequest};
use compute_core::provider::{ProviderHandle, ProviderId, Tenant};
use compute_core::{Error, ErrorKind, WalletAddress};
use compute_store::ResourceRecord;
use serde::de::DeserializeOwned;

use crate::problem::Problem;
use crate::routes::Price;
use crate::state::AppState;

/// Resource kinds stored for this surface.
pub(crate) const MACHINE: &str = "fly.machine";

/// The Fly provider handle (the route is only served when Fly is enabled).
pub(crate) fn fly(state: &AppState) -> Result<ProviderHandle, Problem> {
    state.providers().get(&ProviderId::Fly).cloned().ok_or_else(|| {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Not available here")
            .with_detail("provider `fly` is not enabled")
    })
}

/// Parses a JSON body; an empty body reads as `{}`.
pub(crate) fn json_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, Problem> {
    let bytes: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    serde_json::from_slice(bytes).map_err(|e| {
        Problem::new(StatusCode::BAD_REQUEST, "invalid_input", "Invalid request body").with_detail(format!("body: {e}"))
    })
}

/// 404 before payment when no live resource has this provider id at all (nothing is charged
/// for a typo); ownership is checked after payment, when the payer is known.
pub(crate) async fn must_exist(state: &AppState, provider_id: &str) -> Result<(), Problem> {
    match state.store().provider_id_exists(ProviderId::Fly.as_str(), provider_id).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(not_found(provider_id)),
        Err(e) => Err(e.into()),
    }
}

/// The caller's resource with Fly id `provider_id`, or 404 (also for another wallet's).
pub(crate) async fn owned(
    state: &AppState,
    wallet: &WalletAddress,
    provider_id: &str,
) -> Result<(ResourceRecord, Tenant), Problem> {
    let r = state
        .store()
        .resource_by_provider_id(ProviderId::Fly.as_str(), provider_id, wallet)
        .await
        .map_err(|_| not_found(provider_id))?;
    if r.state == "destroyed" {
        return Err(not_found(provider_id));
    }
    let tenant = Tenant::new(r.tenant.clone().unwrap_or_default()).map_err(Problem::from)?;
    Ok((r, tenant))
}

pub(crate) fn not_found(id: &str) -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not_found", "Not found")
        .with_detail(format!("no resource {id} for this wallet"))
}

/// A capability the route needs, or 503 when the provider does not register it.
pub(crate) fn capability<T: ?Sized>(c: Option<&Arc<T>>) -> Result<Arc<T>, Problem> {
    c.cloned().ok_or_else(|| Problem::from_status(StatusCode::SERVICE_UNAVAILABLE))
}

/// The quote of a fixed-price route (its list price from the route table, through billing).
pub(crate) fn fixed_quote(state: &AppState, method: &Method, template: &str) -> Result<Quote, Problem> {
    let price = match &state.route(method, template).price {
        Price::Fixed { usd } => *usd,
        _ => compute_core::Usd::ZERO,
    };
    Ok(state.billing().quote(&QuoteRequest::Fixed { operation: format!("{method} {template}"), price })?)
}

/// A provider error as a problem.
pub(crate) fn provider_problem(e: Error) -> Problem {
    if e.kind() == ErrorKind::Internal {
        tracing::error!(error = %e, "provider call failed");
    }
    Problem::from(e)
}
