//! `GET /health`: whether the database answers, which providers and payment rails are enabled.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use compute_core::provider::ProviderId;
use serde_json::{Value, json};

use crate::compose::{compiled_providers, compiled_rails};
use crate::problem::Problem;
use crate::routes::Call;

/// 200 when the database answers, 503 otherwise; the body says what is enabled.
pub(super) async fn health(call: Call) -> Result<Response, Problem> {
    let state = &call.state;
    let db = state.store().ping().await;
    let providers: Vec<Value> = ProviderId::ALL
        .iter()
        .map(|id| {
            let handle = state.providers().get(id);
            json!({
                "id": id.as_str(),
                "enabled": handle.is_some(),
                "compiled": compiled_providers().contains(id),
                "capabilities": handle.map(|h| json!(h.capabilities())),
            })
        })
        .collect();
    let mut rails = Vec::new();
    for r in state.rails().all() {
        let mut info = json!(r.rail());
        info["problems"] = json!(r.readiness().await);
        rails.push(info);
    }
    let status = if db.is_ok() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({
        "status": if db.is_ok() { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "database": {"backend": state.store().backend().as_str(), "reachable": db.is_ok()},
        "providers": providers,
        "rails": rails,
        "rails_compiled": compiled_rails(),
        "wallet_auth": state.auth_methods().iter().map(|m| m.name()).collect::<Vec<_>>(),
    });
    Ok((status, Json(body)).into_response())
}
