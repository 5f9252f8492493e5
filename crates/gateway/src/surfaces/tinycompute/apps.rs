//! TinyCompute `/api/apps*`: the wallet's own tenant space at the provider (its Fly app) and
//! the space's IP addresses. Any other app name is a 404.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use compute_core::provider::IpKind;
use serde::Deserialize;
use serde_json::json;

use crate::problem::Problem;
use crate::routes::Call;
use crate::services::{ips, tenancy};

/// `POST /api/apps/{name}/ips` body: `{type: v4|v6|shared_v4, region?}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Allocate {
    #[serde(rename = "type")]
    kind: Option<IpKind>,
    region: Option<String>,
}

/// `POST /api/apps`: creates (or returns) the payer's own app → `{name, owner}`. Every wallet
/// has exactly one.
pub(super) async fn create(call: Call) -> Result<Response, Problem> {
    let handle = call.provider()?;
    call.pay_fixed(move |payer| async move {
        let tenant = tenancy::tenant_for(&payer.wallet)?;
        tenancy::ensure(&handle, &tenant).await?;
        let name = tenancy::space_name(&handle, &payer.wallet)?;
        Ok((StatusCode::OK, json!({"name": name, "owner": payer.wallet})))
    })
    .await
}

/// `DELETE /api/apps/{name}`: deletes the payer's app and everything in it.
pub(super) async fn delete(call: Call) -> Result<Response, Problem> {
    let handle = call.provider()?;
    let (state, name) = (call.state.clone(), call.param("name").to_owned());
    call.pay_fixed(move |payer| async move {
        tenancy::delete_space(&state, &handle, &payer.wallet, &name).await?;
        Ok((StatusCode::OK, json!({"name": name, "deleted": true})))
    })
    .await
}

/// `GET /api/apps/{name}/ips` (free, wallet auth): the app's public addresses → `{ips}`.
pub(super) async fn list_ips(call: Call) -> Result<Response, Problem> {
    let wallet = match call.wallet().await {
        Ok(w) => w,
        Err(r) => return Ok(r),
    };
    let list = ips::list(&call.provider()?, &wallet, call.param("name")).await?;
    Ok((StatusCode::OK, Json(json!({"ips": list}))).into_response())
}

/// `POST /api/apps/{name}/ips`: allocates an address (default `shared_v4`).
pub(super) async fn allocate_ip(call: Call) -> Result<Response, Problem> {
    let req: Allocate = call.json()?;
    let handle = call.provider()?;
    let name = call.param("name").to_owned();
    call.pay_fixed(move |payer| async move {
        let kind = req.kind.unwrap_or(IpKind::SharedV4);
        let ip = ips::allocate(&handle, &payer.wallet, &name, kind, req.region.as_deref()).await?;
        Ok((StatusCode::OK, serde_json::to_value(ip).unwrap_or_default()))
    })
    .await
}
