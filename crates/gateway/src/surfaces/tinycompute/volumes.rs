//! TinyCompute `/api/volumes*`: request and response shapes over the volume service.

use axum::http::StatusCode;
use axum::response::Response;
use compute_core::provider::VolumeSpec;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::problem::Problem;
use crate::routes::Call;
use crate::services::volumes::VolumeService;

/// `POST /api/volumes` body: `size_gb` in **GB** (default 1).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateVolume {
    name: String,
    region: Option<String>,
    size_gb: Option<u32>,
}

/// `PUT /api/volumes/{id}/extend` body: the new size in **GB**.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Extend {
    size_gb: u32,
}

/// `POST /api/volumes`: `{name, region, size_gb}` → the provider's volume object.
pub(super) async fn create(call: Call) -> Result<Response, Problem> {
    let req: CreateVolume = call.json()?;
    let volumes = VolumeService::of(&call)?;
    let spec = VolumeSpec {
        name: req.name,
        region: req.region.unwrap_or_default(),
        size_gb: req.size_gb.unwrap_or(1),
        snapshot_id: None,
    };
    let spec = volumes.order(spec).await?;
    call.pay_fixed(move |payer| async move { Ok((StatusCode::OK, volumes.create(&payer, &spec).await?.raw)) }).await
}

/// `GET /api/volumes`: the payer's volumes.
pub(super) async fn list(call: Call) -> Result<Response, Problem> {
    let volumes = VolumeService::of(&call)?;
    call.pay_fixed(move |payer| async move {
        let list = volumes.list(&payer.wallet).await?;
        Ok((StatusCode::OK, Value::Array(list.into_iter().map(|v| v.raw).collect())))
    })
    .await
}

/// Pays the route's fixed price, then runs `op` on the payer's volume `{id}`.
async fn by_id<F, Fut>(call: Call, op: F) -> Result<Response, Problem>
where
    F: FnOnce(VolumeService, crate::services::resources::Owned) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = crate::payments::flow::ActResult> + Send + 'static,
{
    let volumes = VolumeService::of(&call)?;
    let scope = volumes.scope().clone();
    scope.pay_for_owned(&call, call.fixed_quote()?, move |v| op(volumes, v)).await
}

/// `GET /api/volumes/{id}`.
pub(super) async fn get(call: Call) -> Result<Response, Problem> {
    by_id(call, |s, v| async move { Ok((StatusCode::OK, s.get(&v).await?.raw)) }).await
}

/// `DELETE /api/volumes/{id}`.
pub(super) async fn delete(call: Call) -> Result<Response, Problem> {
    by_id(call, |s, v| async move {
        s.delete(&v).await?;
        Ok((StatusCode::OK, json!({"id": v.provider_id(), "state": "destroyed", "ok": true})))
    })
    .await
}

/// `PUT /api/volumes/{id}/extend`: grow to `size_gb` → `{needs_restart, volume}`.
pub(super) async fn extend(call: Call) -> Result<Response, Problem> {
    let req: Extend = call.json()?;
    VolumeService::of(&call)?.check_size(req.size_gb).await?;
    by_id(call, move |s, v| async move {
        let (volume, needs_restart) = s.extend(&v, req.size_gb).await?;
        Ok((StatusCode::OK, json!({"needs_restart": needs_restart, "volume": volume.raw})))
    })
    .await
}
