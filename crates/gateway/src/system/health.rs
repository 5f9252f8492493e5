//! `GET /health`: whether the database answers, which providers and payment rails are enabled.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use compute_core::provider::ProviderId;
use serde_json::{Value, json};

use crate::state::AppState;

/// 200 when the database answers, 503 otherwise; the body says what is enabled.
pub(super) async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let db = state.store().ping().await;
    let providers: Vec<Value> = ProviderId::ALL
        .iter()
        .map(|id| {
            let handle = state.providers().get(id);
            json!({
                "id": id.as_str(),
                "enabled": handle.is_some(),
                "compiled": crate::providers::compiled().contains(id),
                "capabilities": handle.map(|h| json!(h.capabilities())),
            })
        })
        .collect();
    let status = if db.is_ok() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({
        "status": if db.is_ok() { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "database": {"backend": state.store().backend().as_str(), "reachable": db.is_ok()},
        "providers": providers,
        "rails": state.rails().all().iter().map(|r| json!(r.rail())).collect::<Vec<_>>(),
        "rails_compiled": crate::payments::compiled(),
    });
    (status, Json(body))
}
