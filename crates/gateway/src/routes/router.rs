//! Builds the axum router from the route table: a served route gets its handler wrapped into a
//! [`Call`]; a route this gateway cannot deliver (provider or capability absent, or no handler
//! in this build) gets an honest 503 problem, before any payment challenge.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{MethodFilter, MethodRouter, on};
use compute_core::provider::{ProviderHandle, ProviderId};

use super::{Call, RouteSpec, unavailable_reason};
use crate::problem::Problem;
use crate::state::AppState;

fn method_router(spec: Arc<RouteSpec>, reason: Option<String>) -> MethodRouter<AppState> {
    let filter = MethodFilter::try_from(spec.method.clone()).unwrap_or(MethodFilter::GET);
    match (reason, spec.handler) {
        (None, Some(handler)) => on(
            filter,
            move |State(state): State<AppState>,
                  params: Option<Path<BTreeMap<String, String>>>,
                  uri: Uri,
                  headers: HeaderMap,
                  body: Bytes| {
                let call = Call {
                    state,
                    spec: spec.clone(),
                    path: uri.path().to_owned(),
                    params: params.map(|Path(p)| p).unwrap_or_default(),
                    query: uri.query().map(str::to_owned),
                    headers,
                    body,
                };
                async move { handler(call).await.unwrap_or_else(IntoResponse::into_response) }
            },
        ),
        (reason, _) => {
            let reason = reason.unwrap_or_default();
            on(filter, move || {
                let reason = reason.clone();
                async move {
                    Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Not available here")
                        .with_detail(reason)
                }
            })
        }
    }
}

/// The router of `routes` for the enabled `providers`.
pub fn router(providers: &BTreeMap<ProviderId, ProviderHandle>, routes: &[Arc<RouteSpec>]) -> Router<AppState> {
    let mut by_path: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for spec in routes {
        let mr = method_router(spec.clone(), unavailable_reason(providers, spec));
        let merged = match by_path.remove(spec.path) {
            Some(existing) => existing.merge(mr),
            None => mr,
        };
        by_path.insert(spec.path, merged);
    }
    by_path.into_iter().fold(Router::new(), |r, (path, mr)| r.route(path, mr))
}
