//! SiloVPS `/v1/keys*` (SSH keys) and the free catalog `/v1/catalog/*`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use compute_core::provider::SshKey;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::shapes::{IMAGES, KEY, NewKey, REGIONS, provider_id};
use crate::problem::Problem;
use crate::routes::Call;
use crate::services::keys::{self, KeyService};

fn key(k: &SshKey) -> Value {
    json!({
        "id": format!("{KEY}{}", k.id),
        "name": k.name,
        "fingerprint": k.fingerprint,
        "public_key": k.public_key,
        "created_at": k.created_at.map(|t| t.to_rfc3339()),
    })
}

/// `POST /v1/keys {name, public_key}` ($0.001): the key is checked before the 402 → the key.
pub(super) async fn create(call: Call) -> Result<Response, Problem> {
    let req: NewKey = call.json()?;
    keys::check(&req.name, &req.public_key)?;
    let service = KeyService::of(&call)?;
    call.pay_fixed(move |payer| async move {
        let (k, _) = service.register(&payer, &req.name, &req.public_key).await?;
        Ok((StatusCode::OK, key(&k)))
    })
    .await
}

/// `GET /v1/keys` (free, wallet auth) → `{keys}`.
pub(super) async fn list(call: Call) -> Result<Response, Problem> {
    let wallet = match call.wallet().await {
        Ok(w) => w,
        Err(r) => return Ok(r),
    };
    let list: Vec<Value> = KeyService::of(&call)?.list(&wallet).await?.iter().map(|(k, _)| key(k)).collect();
    Ok((StatusCode::OK, Json(json!({"keys": list}))).into_response())
}

/// `DELETE /v1/keys/{id}` (free, wallet auth) → `{deleted: true}`.
pub(super) async fn delete(call: Call) -> Result<Response, Problem> {
    let wallet = match call.wallet().await {
        Ok(w) => w,
        Err(r) => return Ok(r),
    };
    let service = KeyService::of(&call)?;
    let k = service.scope().owned(&wallet, provider_id(call.param("id"), KEY)?).await?;
    service.delete(&k).await?;
    Ok((StatusCode::OK, Json(json!({"deleted": true, "id": call.param("id")}))).into_response())
}

/// `GET /v1/catalog/sizes` (free): each size with its create fee, hourly and per-minute rate
/// (USD) from the book, and vCPUs, memory (MB) and disk (GB) from the provider's catalog when
/// it can be read.
pub(super) async fn sizes(call: Call) -> Result<Response, Problem> {
    let item = call.state.books().metered(call.spec.book, "server")?;
    let catalog = match call.provider() {
        Ok(h) => call.state.catalogs().get(&h).await.ok(),
        Err(_) => None,
    };
    let sizes: Vec<Value> = item
        .sizes
        .iter()
        .map(|s| {
            let plan = s.plan.clone().unwrap_or_else(|| s.size.clone());
            let offer = catalog.as_ref().and_then(|c| c.size(&plan).cloned());
            let per_minute = s.rate.as_decimal() / Decimal::from(s.per.minutes().max(1));
            json!({
                "id": s.label.clone().unwrap_or_else(|| s.size.clone()),
                "plan": plan,
                "vcpus": offer.as_ref().map(|o| o.vcpus),
                "memory_mb": offer.as_ref().map(|o| o.memory_mb),
                "disk_gb": offer.as_ref().and_then(|o| o.disk_gb),
                "create_fee": s.setup.to_string(),
                "hourly": (per_minute * Decimal::from(60)).normalize().to_string(),
                "per_minute": per_minute.normalize().to_string(),
            })
        })
        .collect();
    Ok((StatusCode::OK, Json(json!({"sizes": sizes}))).into_response())
}

/// `GET /v1/catalog/regions` (free).
pub(super) async fn regions(_call: Call) -> Result<Response, Problem> {
    let list: Vec<Value> = REGIONS.iter().map(|(id, name)| json!({"id": id, "name": name})).collect();
    Ok((StatusCode::OK, Json(json!({"regions": list}))).into_response())
}

/// `GET /v1/catalog/images` (free).
pub(super) async fn images(_call: Call) -> Result<Response, Problem> {
    let list: Vec<Value> = IMAGES.iter().map(|(id, name)| json!({"id": id, "name": name})).collect();
    Ok((StatusCode::OK, Json(json!({"images": list}))).into_response())
}
