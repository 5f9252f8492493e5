//! TinyCompute `/api/volumes*` and `/api/apps*`: Fly volumes, the wallet's own Fly app and its
//! IP addresses. Each is owned by the payer; another wallet's answers 404.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use compute_core::provider::{IpKind, ProviderId, VolumeSpec};
use compute_store::NewResource;
use serde::Deserialize;
use serde_json::{Value, json};

use super::common::{capability, fixed_quote, fly, json_body, must_exist, owned, provider_problem};
use crate::payments::flow::{self, ActResult, PaidRequest};
use crate::problem::Problem;
use crate::services::fly::REGIONS;
use crate::services::owners::tenant_for;
use crate::state::AppState;

/// Resource kind of Fly volumes.
const VOLUME: &str = "fly.volume";

async fn paid<F, Fut>(
    state: AppState,
    method: Method,
    template: &'static str,
    path: String,
    headers: HeaderMap,
    body: Bytes,
    act: F,
) -> Response
where
    F: FnOnce(AppState, flow::Payer) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ActResult> + Send + 'static,
{
    let q = match fixed_quote(&state, &method, template) {
        Ok(q) => q,
        Err(p) => return p.into_response(),
    };
    let act_state = state.clone();
    let req = PaidRequest { spec: state.route(&method, template), path: &path, headers: &headers, body, quote: q };
    flow::run(&state, req, move |payer| act(act_state, payer)).await
}

fn bad(detail: &str) -> Response {
    Problem::new(StatusCode::BAD_REQUEST, "invalid_input", "Invalid request")
        .with_detail(detail.to_owned())
        .into_response()
}

/// `POST /api/volumes` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateVolume {
    name: String,
    region: Option<String>,
    size_gb: Option<u32>,
}

/// `POST /api/volumes`: `{name, region, size_gb}` ($0.05).
pub(crate) async fn create(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let req: CreateVolume = match json_body(&body) {
        Ok(r) => r,
        Err(p) => return p.into_response(),
    };
    let region = req.region.unwrap_or_else(|| "sjc".to_owned());
    let size_gb = req.size_gb.unwrap_or(1);
    if req.name.is_empty()
        || req.name.len() > 30
        || !req.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return bad("name must be 1–30 lowercase letters, digits or _");
    }
    if !REGIONS.contains(&region.as_str()) {
        return bad("unknown region");
    }
    if !(1..=500).contains(&size_gb) {
        return bad("size_gb must be 1–500");
    }
    let spec = VolumeSpec { name: req.name, region, size_gb, snapshot_id: None };
    paid(state, Method::POST, "/api/volumes", "/api/volumes".into(), headers, body, move |state, payer| async move {
        let fly = fly(&state)?;
        let tenant = tenant_for(&payer.wallet)?;
        capability(fly.tenancy())?.ensure_tenant(&tenant).await.map_err(provider_problem)?;
        let volumes = capability(fly.volumes())?;
        let v = volumes.create_volume(&tenant, &spec).await.map_err(provider_problem)?;
        state
            .store()
            .insert_resource(NewResource {
                kind: VOLUME.into(),
                owner: payer.wallet.clone(),
                provider: ProviderId::Fly.as_str().into(),
                provider_id: Some(v.id.clone()),
                tenant: Some(tenant.as_str().to_owned()),
                name: spec.name.clone(),
                region: Some(spec.region.clone()),
                state: "created".into(),
                spec: serde_json::to_value(&spec).unwrap_or(Value::Null),
                price: payer.amount,
                paid_until: None,
            })
            .await?;
        Ok((StatusCode::OK, v.raw))
    })
    .await
}

/// `GET /api/volumes` ($0.001): the payer's volumes.
pub(crate) async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    paid(state, Method::GET, "/api/volumes", "/api/volumes".into(), headers, Bytes::new(), |state, payer| async move {
        let volumes = capability(fly(&state)?.volumes())?;
        let mut out = Vec::new();
        for r in state.store().list_resources(&payer.wallet, VOLUME).await? {
            let (Some(id), Some(t)) = (r.provider_id.as_deref(), r.tenant.as_deref()) else { continue };
            if let Ok(v) = volumes.get_volume(&compute_core::provider::Tenant::new(t)?, id).await {
                out.push(v.raw);
            }
        }
        Ok((StatusCode::OK, Value::Array(out)))
    })
    .await
}

/// `GET /api/volumes/{id}` ($0.001).
pub(crate) async fn get(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Err(p) = must_exist(&state, &id).await {
        return p.into_response();
    }
    let path = format!("/api/volumes/{id}");
    paid(state, Method::GET, "/api/volumes/{id}", path, headers, Bytes::new(), move |state, payer| async move {
        let (_, tenant) = owned(&state, &payer.wallet, &id).await?;
        let volumes = capability(fly(&state)?.volumes())?;
        Ok((StatusCode::OK, volumes.get_volume(&tenant, &id).await.map_err(provider_problem)?.raw))
    })
    .await
}

/// `DELETE /api/volumes/{id}` ($0.001).
pub(crate) async fn delete(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Err(p) = must_exist(&state, &id).await {
        return p.into_response();
    }
    let path = format!("/api/volumes/{id}");
    paid(state, Method::DELETE, "/api/volumes/{id}", path, headers, Bytes::new(), move |state, payer| async move {
        let (r, tenant) = owned(&state, &payer.wallet, &id).await?;
        let volumes = capability(fly(&state)?.volumes())?;
        volumes.delete_volume(&tenant, &id).await.map_err(provider_problem)?;
        state.store().update_resource(&r.id, Some("destroyed"), None, None).await?;
        Ok((StatusCode::OK, json!({"id": id, "state": "destroyed", "ok": true})))
    })
    .await
}

/// `PUT /api/volumes/{id}/extend` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Extend {
    size_gb: u32,
}

/// `PUT /api/volumes/{id}/extend` ($0.05): grow to `size_gb`.
pub(crate) async fn extend(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req: Extend = match json_body(&body) {
        Ok(r) => r,
        Err(p) => return p.into_response(),
    };
    if !(1..=500).contains(&req.size_gb) {
        return bad("size_gb must be 1–500");
    }
    if let Err(p) = must_exist(&state, &id).await {
        return p.into_response();
    }
    let path = format!("/api/volumes/{id}/extend");
    paid(state, Method::PUT, "/api/volumes/{id}/extend", path, headers, body, move |state, payer| async move {
        let (_, tenant) = owned(&state, &payer.wallet, &id).await?;
        let volumes = capability(fly(&state)?.volumes())?;
        let (v, needs_restart) = volumes.extend_volume(&tenant, &id, req.size_gb).await.map_err(provider_problem)?;
        Ok((StatusCode::OK, json!({"needs_restart": needs_restart, "volume": v.raw})))
    })
    .await
}

/// The wallet's Fly app name (`app_prefix` + tenant).
fn app_name(state: &AppState, tenant: &compute_core::provider::Tenant) -> String {
    let prefix =
        state.config().providers.fly.as_ref().and_then(|f| f.app_prefix.clone()).unwrap_or_else(|| "cg-".to_owned());
    format!("{prefix}{}", tenant.as_str())
}

/// `POST /api/apps` ($0.001): creates (or returns) the payer's own Fly app. Every wallet has
/// exactly one; its name is returned.
pub(crate) async fn create_app(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    paid(state, Method::POST, "/api/apps", "/api/apps".into(), headers, body, |state, payer| async move {
        let tenant = tenant_for(&payer.wallet)?;
        let fly = fly(&state)?;
        capability(fly.tenancy())?.ensure_tenant(&tenant).await.map_err(provider_problem)?;
        Ok((StatusCode::OK, json!({"name": app_name(&state, &tenant), "owner": payer.wallet})))
    })
    .await
}

/// The caller's app, or 404 for any other name.
fn own_app(
    state: &AppState,
    wallet: &compute_core::WalletAddress,
    name: &str,
) -> Result<compute_core::provider::Tenant, Problem> {
    let tenant = tenant_for(wallet)?;
    if app_name(state, &tenant) == name { Ok(tenant) } else { Err(super::common::not_found(name)) }
}

/// `DELETE /api/apps/{name}` ($0.001): deletes the payer's app and everything in it.
pub(crate) async fn delete_app(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/api/apps/{name}");
    paid(state, Method::DELETE, "/api/apps/{name}", path, headers, Bytes::new(), move |state, payer| async move {
        let tenant = own_app(&state, &payer.wallet, &name)?;
        let fly = fly(&state)?;
        capability(fly.tenancy())?.delete_tenant(&tenant).await.map_err(provider_problem)?;
        for kind in ["fly.machine", VOLUME] {
            for r in state.store().list_resources(&payer.wallet, kind).await? {
                state.store().update_resource(&r.id, Some("destroyed"), None, None).await?;
            }
        }
        Ok((StatusCode::OK, json!({"name": name, "deleted": true})))
    })
    .await
}

/// `GET /api/apps/{name}/ips` (free, wallet proof): the app's public addresses.
pub(crate) async fn list_ips(State(state): State<AppState>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/api/apps/{name}/ips");
    let spec = state.route(&Method::GET, "/api/apps/{name}/ips").clone();
    let wallet = match crate::payments::auth::wallet(&state, &spec, &path, &headers, &Bytes::new()).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let result: Result<Value, Problem> = async {
        let tenant = own_app(&state, &wallet, &name)?;
        let ips = capability(fly(&state)?.ips())?;
        let list = ips.list_ips(&tenant).await.map_err(provider_problem)?;
        Ok(json!({"ips": list}))
    }
    .await;
    match result {
        Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
        Err(p) => p.into_response(),
    }
}

/// `POST /api/apps/{name}/ips` body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Allocate {
    #[serde(rename = "type")]
    kind: Option<IpKind>,
    region: Option<String>,
}

/// `POST /api/apps/{name}/ips` ($0.01): `{type: v4|v6|shared_v4, region?}`.
pub(crate) async fn allocate_ip(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req: Allocate = match json_body(&body) {
        Ok(r) => r,
        Err(p) => return p.into_response(),
    };
    let path = format!("/api/apps/{name}/ips");
    paid(state, Method::POST, "/api/apps/{name}/ips", path, headers, body, move |state, payer| async move {
        let tenant = own_app(&state, &payer.wallet, &name)?;
        let ips = capability(fly(&state)?.ips())?;
        let ip = ips
            .allocate_ip(&tenant, req.kind.unwrap_or(IpKind::SharedV4), req.region.as_deref())
            .await
            .map_err(provider_problem)?;
        Ok((StatusCode::OK, serde_json::to_value(ip).unwrap_or(Value::Null)))
    })
    .await
}
