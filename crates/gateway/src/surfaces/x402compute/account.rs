//! x402Compute `/compute/credits/balance` and `/compute/api-keys*`: the wallet's credit
//! balance and API keys. Creating and revoking keys needs a wallet signature (the route table
//! marks them); reading also accepts an existing API key.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use compute_core::WalletAddress;
use compute_core::http::ExposeSecret;
use serde::Deserialize;
use serde_json::json;

use crate::problem::Problem;
use crate::routes::Call;

/// The wallet, or the auth answer as the handler's response.
async fn wallet(call: &Call) -> Result<WalletAddress, Response> {
    call.wallet().await
}

/// `GET /compute/credits/balance`: `{wallet, balance_usd, currency, entries}` (the ledger's
/// last 20 entries, USD decimal strings).
pub(super) async fn balance(call: Call) -> Result<Response, Problem> {
    let w = match wallet(&call).await {
        Ok(w) => w,
        Err(r) => return Ok(r),
    };
    let balance = call.state.store().credit_balance(&w).await?;
    let history = call.state.store().credit_history(&w).await?;
    let recent: Vec<_> = history
        .iter()
        .rev()
        .take(20)
        .map(|e| json!({"seq": e.seq, "delta_usd": e.delta.to_string(), "balance_usd": e.balance.to_string(), "reason": e.reason, "at": e.created_at.to_rfc3339()}))
        .collect();
    Ok(Json(json!({"wallet": w, "balance_usd": balance.to_string(), "currency": "USD", "entries": recent}))
        .into_response())
}

/// Longest lifetime a key can be given, in **seconds** (one year).
const MAX_KEY_LIFETIME_SECS: u64 = 365 * 24 * 3600;

/// `POST /compute/api-keys` body: a label and an optional lifetime in **seconds**.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    label: Option<String>,
    expires_in_secs: Option<u64>,
}

fn bad(title: &str, detail: String) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "invalid_input", title).with_detail(detail)
}

/// `POST /compute/api-keys`: a new key for the wallet that signed this very request (a fresh,
/// single-use proof or signature), shown once; at most `auth.max_api_keys_per_wallet` live
/// keys per wallet (409 beyond).
pub(super) async fn create_key(call: Call) -> Result<Response, Problem> {
    let req: NewKey = call.json()?;
    let label = req.label.unwrap_or_else(|| "agent".to_owned());
    if label.len() > 64 {
        return Err(bad("Invalid label", "label: at most 64 characters".into()));
    }
    if req.expires_in_secs.is_some_and(|s| s == 0 || s > MAX_KEY_LIFETIME_SECS) {
        return Err(bad("Invalid lifetime", format!("expires_in_secs must be 1–{MAX_KEY_LIFETIME_SECS}")));
    }
    let w = match wallet(&call).await {
        Ok(w) => w,
        Err(r) => return Ok(r),
    };
    let cap = call.state.config().auth.max_api_keys_per_wallet;
    if call.state.store().live_api_keys(&w).await? >= cap {
        return Err(Problem::new(StatusCode::CONFLICT, "conflict", "Too many API keys")
            .with_detail(format!("a wallet holds at most {cap} live API keys; revoke one first")));
    }
    let expires_at = req.expires_in_secs.map(|s| Utc::now() + chrono::Duration::seconds(i64::try_from(s).unwrap_or(0)));
    let k = call.state.store().create_api_key(&w, &label, expires_at).await?;
    let body = json!({
        "id": k.record.id,
        "label": k.record.label,
        "api_key": k.key.expose_secret(),
        "created_at": k.record.created_at.to_rfc3339(),
        "expires_at": k.record.expires_at.map(|t| t.to_rfc3339()),
        "note": "shown once; store it",
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /compute/api-keys`: the wallet's keys (never the keys themselves).
pub(super) async fn list_keys(call: Call) -> Result<Response, Problem> {
    let w = match wallet(&call).await {
        Ok(w) => w,
        Err(r) => return Ok(r),
    };
    let keys = call.state.store().list_api_keys(&w).await?;
    let list: Vec<_> = keys
        .iter()
        .map(|k| {
            json!({
                "id": k.id,
                "label": k.label,
                "created_at": k.created_at.to_rfc3339(),
                "expires_at": k.expires_at.map(|t| t.to_rfc3339()),
                "revoked": k.revoked_at.is_some(),
            })
        })
        .collect();
    Ok(Json(json!({"api_keys": list})).into_response())
}

/// `DELETE /compute/api-keys/{id}`: revokes one of the wallet's keys.
pub(super) async fn revoke_key(call: Call) -> Result<Response, Problem> {
    let w = match wallet(&call).await {
        Ok(w) => w,
        Err(r) => return Ok(r),
    };
    let k = call.state.store().revoke_api_key(&w, call.param("id")).await?;
    Ok(Json(json!({"id": k.id, "revoked": true})).into_response())
}
