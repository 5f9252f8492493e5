//! x402Compute `/compute/credits/balance` and `/compute/api-keys*`: the wallet's credit
//! balance and API keys. The wallet is proven with a zero-amount MPP proof credential (or, for
//! reading, an existing API key); creating and revoking keys needs the proof.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use compute_core::http::ExposeSecret;
use serde::Deserialize;
use serde_json::json;

use crate::payments::auth;
use crate::problem::Problem;
use crate::state::AppState;

async fn wallet(
    state: &AppState,
    method: Method,
    template: &str,
    path: &str,
    headers: &HeaderMap,
    body: &Bytes,
    proof_only: bool,
) -> Result<compute_core::WalletAddress, Response> {
    if proof_only && headers.contains_key("x-api-key") {
        return Err(Problem::new(StatusCode::FORBIDDEN, "permission_denied", "Wallet proof required")
            .with_detail("API keys cannot manage API keys; sign the zero-amount challenge with the wallet")
            .into_response());
    }
    let spec = state.route(&method, template).clone();
    auth::wallet(state, &spec, path, headers, body).await
}

/// `GET /compute/credits/balance`: `{wallet, balance_usd}` and the ledger's last entries.
pub(crate) async fn balance(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let w = match wallet(
        &state,
        Method::GET,
        "/compute/credits/balance",
        "/compute/credits/balance",
        &headers,
        &Bytes::new(),
        false,
    )
    .await
    {
        Ok(w) => w,
        Err(r) => return r,
    };
    let result = async {
        let balance = state.store().credit_balance(&w).await?;
        let history = state.store().credit_history(&w).await?;
        let recent: Vec<_> = history
            .iter()
            .rev()
            .take(20)
            .map(|e| json!({"seq": e.seq, "delta_usd": e.delta.to_string(), "balance_usd": e.balance.to_string(), "reason": e.reason, "at": e.created_at.to_rfc3339()}))
            .collect();
        Ok::<_, compute_core::Error>(json!({"wallet": w, "balance_usd": balance.to_string(), "currency": "USD", "entries": recent}))
    }
    .await;
    match result {
        Ok(v) => Json(v).into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}

/// `POST /compute/api-keys` body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    label: Option<String>,
}

/// `POST /compute/api-keys`: a new key for the proven wallet, shown once.
pub(crate) async fn create_key(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let req: NewKey = if body.iter().all(u8::is_ascii_whitespace) {
        NewKey::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => {
                return Problem::new(StatusCode::BAD_REQUEST, "invalid_input", "Invalid request body")
                    .with_detail(e.to_string())
                    .into_response();
            }
        }
    };
    let label = req.label.unwrap_or_else(|| "agent".to_owned());
    if label.len() > 64 {
        return Problem::new(StatusCode::BAD_REQUEST, "invalid_input", "Invalid label")
            .with_detail("label: at most 64 characters")
            .into_response();
    }
    let w = match wallet(&state, Method::POST, "/compute/api-keys", "/compute/api-keys", &headers, &body, true).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    match state.store().create_api_key(&w, &label).await {
        Ok(k) => (
            StatusCode::CREATED,
            Json(json!({"id": k.record.id, "label": k.record.label, "api_key": k.key.expose_secret(), "created_at": k.record.created_at.to_rfc3339(), "note": "shown once; store it"})),
        )
            .into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}

/// `GET /compute/api-keys`: the wallet's keys (never the keys themselves).
pub(crate) async fn list_keys(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let w = match wallet(&state, Method::GET, "/compute/api-keys", "/compute/api-keys", &headers, &Bytes::new(), false)
        .await
    {
        Ok(w) => w,
        Err(r) => return r,
    };
    match state.store().list_api_keys(&w).await {
        Ok(keys) => Json(json!({"api_keys": keys.iter().map(|k| json!({"id": k.id, "label": k.label, "created_at": k.created_at.to_rfc3339(), "revoked": k.revoked_at.is_some()})).collect::<Vec<_>>()})).into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}

/// `DELETE /compute/api-keys/{id}`: revokes one of the wallet's keys.
pub(crate) async fn revoke_key(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/compute/api-keys/{id}");
    let w = match wallet(&state, Method::DELETE, "/compute/api-keys/{id}", &path, &headers, &Bytes::new(), true).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    match state.store().revoke_api_key(&w, &id).await {
        Ok(k) => Json(json!({"id": k.id, "revoked": true})).into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}
