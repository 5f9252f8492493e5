//! TinyCompute `/api/machines*`: Fly machines, paid per call, owned by the payer.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use compute_core::billing::Quote;
use compute_core::provider::{ExecRequest, IpKind, MachineState, ProviderId};
use compute_store::NewResource;
use serde::Deserialize;
use serde_json::{Value, json};

use super::common::{MACHINE, capability, fixed_quote, fly, json_body, must_exist, owned, provider_problem};
use crate::payments::flow::{self, ActResult, PaidRequest};
use crate::problem::Problem;
use crate::services::fly::{self as pricing, MachineRequest};
use crate::services::owners::tenant_for;
use crate::state::AppState;

fn paid_request<'a>(
    state: &'a AppState,
    method: Method,
    template: &str,
    path: &'a str,
    headers: &'a HeaderMap,
    body: Bytes,
    quote: Quote,
) -> PaidRequest<'a> {
    PaidRequest { spec: state.route(&method, template), path, headers, body, quote }
}

/// `POST /api/machines`: validate and price, 402, then create the machine in the payer's own
/// Fly app and answer with Fly's machine object plus `connection`.
pub(crate) async fn create(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let req: MachineRequest = match json_body(&body) {
        Ok(r) => r,
        Err(p) => return p.into_response(),
    };
    // Mounted volumes must exist before anything is charged; the owner is checked after.
    for m in &req.config.mounts {
        if let Err(p) = must_exist(&state, &m.volume).await {
            return p.into_response();
        }
    }
    let (spec, guest, minutes) = match pricing::validate(&req, |_| true, BTreeMap::new()) {
        Ok(v) => v,
        Err(e) => return Problem::from(e).into_response(),
    };
    let quote = pricing::quote(&guest, minutes, true);
    let price = quote.total;
    let act_state = state.clone();
    let paid = paid_request(&state, Method::POST, "/api/machines", "/api/machines", &headers, body, quote);
    flow::run(&state, paid, move |payer| async move {
        let state = act_state;
        let fly = fly(&state)?;
        for m in &req.config.mounts {
            super::common::owned(&state, &payer.wallet, &m.volume).await?;
        }
        let tenant = tenant_for(&payer.wallet)?;
        let mut spec = spec;
        spec.labels.insert("cg_owner_tenant".into(), tenant.as_str().to_owned());
        let tenancy = capability(fly.tenancy())?;
        tenancy.ensure_tenant(&tenant).await.map_err(provider_problem)?;
        let machines = capability(fly.machines())?;
        let paid_until = Utc::now() + chrono::Duration::minutes(i64::try_from(minutes).unwrap_or(0));
        let record = state
            .store()
            .insert_resource(NewResource {
                kind: MACHINE.into(),
                owner: payer.wallet.clone(),
                provider: ProviderId::Fly.as_str().into(),
                provider_id: None,
                tenant: Some(tenant.as_str().to_owned()),
                name: spec.name.clone(),
                region: Some(spec.region.clone()),
                state: "creating".into(),
                spec: serde_json::to_value(&spec).unwrap_or(Value::Null),
                price,
                paid_until: Some(paid_until),
            })
            .await?;
        let machine = match machines.create(&tenant, &spec).await {
            Ok(m) => m,
            Err(e) => {
                let _ = state.store().update_resource(&record.id, Some("failed"), None, None).await;
                return Err(provider_problem(e));
            }
        };
        state.store().update_resource(&record.id, Some("running"), Some(&machine.id), None).await?;
        let ips = connection_ips(&fly, &tenant, !spec.services.is_empty()).await;
        let ports: Vec<Value> = spec
            .services
            .iter()
            .flat_map(|s| s.ports.iter().map(move |p| json!({"port": p.port, "internal_port": s.internal_port, "protocol": s.protocol, "handlers": p.handlers})))
            .collect();
        let mut body = machine.raw.clone();
        if let Some(obj) = body.as_object_mut() {
            obj.insert("connection".into(), json!({"ips": ips, "ports": ports}));
            obj.insert("ttl_minutes".into(), json!(minutes));
            obj.insert("paid_until".into(), json!(paid_until.to_rfc3339()));
            obj.insert("price_usd".into(), json!(price.to_string()));
        }
        Ok((StatusCode::OK, body))
    })
    .await
}

/// The tenant's public addresses; a free shared IPv4 is allocated when services are exposed
/// and the app has none.
async fn connection_ips(
    fly: &compute_core::provider::ProviderHandle,
    tenant: &compute_core::provider::Tenant,
    exposed: bool,
) -> Vec<String> {
    let Some(ips) = fly.ips() else { return Vec::new() };
    let mut list = ips.list_ips(tenant).await.unwrap_or_default();
    if list.is_empty() && exposed {
        match ips.allocate_ip(tenant, IpKind::SharedV4, None).await {
            Ok(ip) => list.push(ip),
            Err(e) => tracing::warn!(error = %e, "could not allocate a shared IPv4"),
        }
    }
    list.into_iter().map(|i| i.ip).collect()
}

/// `GET /api/machines`: the payer's machines.
pub(crate) async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let quote = match fixed_quote(&state, &Method::GET, "/api/machines") {
        Ok(q) => q,
        Err(p) => return p.into_response(),
    };
    let act_state = state.clone();
    let paid = paid_request(&state, Method::GET, "/api/machines", "/api/machines", &headers, Bytes::new(), quote);
    flow::run(&state, paid, move |payer| async move {
        let rows = act_state.store().list_resources(&payer.wallet, MACHINE).await?;
        let fly = fly(&act_state)?;
        let machines = capability(fly.machines())?;
        let mut out = Vec::new();
        for r in rows {
            let (Some(pid), Some(tenant)) = (r.provider_id.as_deref(), r.tenant.as_deref()) else { continue };
            let tenant = compute_core::provider::Tenant::new(tenant)?;
            match machines.get(&tenant, pid).await {
                Ok(m) => out.push(with_billing(m.raw, &r)),
                Err(e) => {
                    tracing::warn!(machine = pid, error = %e, "machine listed in the database is not readable at Fly")
                }
            }
        }
        Ok((StatusCode::OK, Value::Array(out)))
    })
    .await
}

fn with_billing(mut raw: Value, r: &compute_store::ResourceRecord) -> Value {
    if let Some(obj) = raw.as_object_mut() {
        obj.insert("paid_until".into(), json!(r.paid_until.map(|t| t.to_rfc3339())));
    }
    raw
}

/// One machine operation: `op` runs after payment with the caller's own machine.
#[allow(clippy::too_many_arguments)] // The route's parts, passed straight through.
async fn machine_op<F, Fut>(
    state: AppState,
    method: Method,
    template: &'static str,
    id: String,
    headers: HeaderMap,
    body: Bytes,
    quote: Option<Quote>,
    op: F,
) -> Response
where
    F: FnOnce(AppState, flow::Payer, compute_store::ResourceRecord, compute_core::provider::Tenant) -> Fut
        + Send
        + 'static,
    Fut: std::future::Future<Output = ActResult> + Send + 'static,
{
    if let Err(p) = must_exist(&state, &id).await {
        return p.into_response();
    }
    let quote = match quote.map_or_else(|| fixed_quote(&state, &method, template), Ok) {
        Ok(q) => q,
        Err(p) => return p.into_response(),
    };
    let path = template.replace("{id}", &id);
    let act_state = state.clone();
    let paid = paid_request(&state, method, template, &path, &headers, body, quote);
    flow::run(&state, paid, move |payer| async move {
        let (record, tenant) = owned(&act_state, &payer.wallet, &id).await?;
        op(act_state, payer, record, tenant).await
    })
    .await
}

fn machines_of(state: &AppState) -> Result<std::sync::Arc<dyn compute_core::provider::Machines>, Problem> {
    capability(fly(state)?.machines())
}

/// `GET /api/machines/{id}`.
pub(crate) async fn get(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    machine_op(
        state,
        Method::GET,
        "/api/machines/{id}",
        id,
        headers,
        Bytes::new(),
        None,
        |state, _, r, tenant| async move {
            let m = machines_of(&state)?
                .get(&tenant, r.provider_id.as_deref().unwrap_or_default())
                .await
                .map_err(provider_problem)?;
            Ok((StatusCode::OK, with_billing(m.raw, &r)))
        },
    )
    .await
}

/// `POST /api/machines/{id}/stop`.
pub(crate) async fn stop(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    machine_op(
        state,
        Method::POST,
        "/api/machines/{id}/stop",
        id,
        headers,
        body,
        None,
        |state, _, r, tenant| async move {
            let pid = r.provider_id.clone().unwrap_or_default();
            machines_of(&state)?.stop(&tenant, &pid).await.map_err(provider_problem)?;
            state.store().update_resource(&r.id, Some("stopped"), None, None).await?;
            Ok((StatusCode::OK, json!({"id": pid, "state": "stopped", "ok": true})))
        },
    )
    .await
}

/// `POST /api/machines/{id}/suspend`.
pub(crate) async fn suspend(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    machine_op(
        state,
        Method::POST,
        "/api/machines/{id}/suspend",
        id,
        headers,
        body,
        None,
        |state, _, r, tenant| async move {
            let pid = r.provider_id.clone().unwrap_or_default();
            let suspend = capability(fly(&state)?.suspend())?;
            suspend.suspend(&tenant, &pid).await.map_err(provider_problem)?;
            state.store().update_resource(&r.id, Some("suspended"), None, None).await?;
            Ok((StatusCode::OK, json!({"id": pid, "state": "suspended", "ok": true})))
        },
    )
    .await
}

/// `DELETE /api/machines/{id}`.
pub(crate) async fn destroy(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    machine_op(
        state,
        Method::DELETE,
        "/api/machines/{id}",
        id,
        headers,
        Bytes::new(),
        None,
        |state, _, r, tenant| async move {
            let pid = r.provider_id.clone().unwrap_or_default();
            machines_of(&state)?.destroy(&tenant, &pid).await.map_err(provider_problem)?;
            state.store().update_resource(&r.id, Some("destroyed"), None, None).await?;
            Ok((StatusCode::OK, json!({"id": pid, "state": "destroyed", "ok": true})))
        },
    )
    .await
}

/// Body of start and restart: how many minutes to buy.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Period {
    ttl_minutes: Option<u64>,
}

/// `POST /api/machines/{id}/start` and `/restart`: buy a new paid period of the machine's size.
async fn start_like(
    state: AppState,
    template: &'static str,
    id: String,
    headers: HeaderMap,
    body: Bytes,
    restart: bool,
) -> Response {
    let period: Period = match json_body(&body) {
        Ok(p) => p,
        Err(p) => return p.into_response(),
    };
    let minutes = match pricing::ttl_minutes(period.ttl_minutes) {
        Ok(m) => m,
        Err(e) => return Problem::from(e).into_response(),
    };
    // The price depends on the machine's size, which is public to no one but its owner; the
    // size is read from the stored spec of any live record with this id (priced before the 402).
    let guest = match stored_guest(&state, &id).await {
        Ok(g) => g,
        Err(p) => return p.into_response(),
    };
    let quote = pricing::quote(&guest, minutes, false);
    machine_op(state, Method::POST, template, id, headers, body, Some(quote), move |state, _, r, tenant| async move {
        let pid = r.provider_id.clone().unwrap_or_default();
        let machines = machines_of(&state)?;
        if restart { machines.reboot(&tenant, &pid).await } else { machines.start(&tenant, &pid).await }
            .map_err(provider_problem)?;
        let until = Utc::now() + chrono::Duration::minutes(i64::try_from(minutes).unwrap_or(0));
        state.store().update_resource(&r.id, Some("running"), None, Some(until)).await?;
        Ok((
            StatusCode::OK,
            json!({"id": pid, "state": "started", "ttl_minutes": minutes, "paid_until": until.to_rfc3339()}),
        ))
    })
    .await
}

async fn stored_guest(state: &AppState, id: &str) -> Result<pricing::Guest, Problem> {
    must_exist(state, id).await?;
    let spec = state
        .store()
        .spec_by_provider_id(ProviderId::Fly.as_str(), id)
        .await?
        .ok_or_else(|| super::common::not_found(id))?;
    match serde_json::from_value::<compute_core::provider::MachineSpec>(spec).map(|s| s.size) {
        Ok(compute_core::provider::MachineSize::Guest { cpu_kind, cpus, memory_mb }) => {
            Ok(pricing::Guest { cpu_kind, cpus, memory_mb })
        }
        _ => {
            Err(Problem::from_status(StatusCode::INTERNAL_SERVER_ERROR).with_detail("stored machine has no guest size"))
        }
    }
}

/// `POST /api/machines/{id}/start`.
pub(crate) async fn start(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    start_like(state, "/api/machines/{id}/start", id, headers, body, false).await
}

/// `POST /api/machines/{id}/restart`.
pub(crate) async fn restart(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    start_like(state, "/api/machines/{id}/restart", id, headers, body, true).await
}

/// `POST /api/machines/{id}/exec` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExecBody {
    command: Vec<String>,
    timeout: Option<u32>,
}

/// `POST /api/machines/{id}/exec`: `{command, timeout}` → `{exit_code, exit_signal, stdout, stderr}`.
pub(crate) async fn exec(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req: ExecBody = match json_body(&body) {
        Ok(r) => r,
        Err(p) => return p.into_response(),
    };
    let timeout = req.timeout.unwrap_or(30);
    if req.command.is_empty()
        || req.command.len() > 64
        || req.command.iter().any(|a| a.len() > 4096)
        || !(1..=60).contains(&timeout)
    {
        return Problem::new(StatusCode::BAD_REQUEST, "invalid_input", "Invalid exec request")
            .with_detail("command must have 1–64 arguments and timeout must be 1–60 seconds")
            .into_response();
    }
    machine_op(
        state,
        Method::POST,
        "/api/machines/{id}/exec",
        id,
        headers,
        body,
        None,
        move |state, _, r, tenant| async move {
            let exec = capability(fly(&state)?.exec())?;
            let out = exec
                .exec(
                    &tenant,
                    r.provider_id.as_deref().unwrap_or_default(),
                    &ExecRequest { command: req.command, timeout_secs: timeout, stdin: None },
                )
                .await
                .map_err(provider_problem)?;
            Ok((StatusCode::OK, serde_json::to_value(out).unwrap_or(Value::Null)))
        },
    )
    .await
}

/// `POST /api/machines/{id}/wait` query.
#[derive(Debug, Deserialize)]
pub(crate) struct WaitQuery {
    state: Option<String>,
    timeout: Option<u64>,
}

/// `POST /api/machines/{id}/wait?state=started&timeout=60`.
pub(crate) async fn wait(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<WaitQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = match q.state.as_deref().unwrap_or("started") {
        "started" => MachineState::Started,
        "stopped" => MachineState::Stopped,
        "suspended" => MachineState::Suspended,
        "destroyed" => MachineState::Destroyed,
        other => {
            return Problem::new(StatusCode::BAD_REQUEST, "invalid_input", "Invalid state")
                .with_detail(format!("state must be started, stopped, suspended or destroyed, not {other:?}"))
                .into_response();
        }
    };
    let timeout = q.timeout.unwrap_or(60).clamp(1, 300);
    machine_op(
        state,
        Method::POST,
        "/api/machines/{id}/wait",
        id,
        headers,
        body,
        None,
        move |state, _, r, tenant| async move {
            let m = machines_of(&state)?
                .wait(&tenant, r.provider_id.as_deref().unwrap_or_default(), &target, Duration::from_secs(timeout))
                .await
                .map_err(provider_problem)?;
            Ok((StatusCode::OK, json!({"ok": true, "state": m.state, "machine": m.raw})))
        },
    )
    .await
}

/// `GET /api/machines/{id}/events`.
pub(crate) async fn events(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    machine_op(
        state,
        Method::GET,
        "/api/machines/{id}/events",
        id,
        headers,
        Bytes::new(),
        None,
        |state, _, r, tenant| async move {
            let events = capability(fly(&state)?.events())?;
            let list = events
                .events(&tenant, r.provider_id.as_deref().unwrap_or_default(), 50)
                .await
                .map_err(provider_problem)?;
            Ok((StatusCode::OK, Value::Array(list.into_iter().map(|e| e.raw).collect())))
        },
    )
    .await
}

/// `GET /api/machines/{id}/ps`.
pub(crate) async fn ps(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    machine_op(
        state,
        Method::GET,
        "/api/machines/{id}/ps",
        id,
        headers,
        Bytes::new(),
        None,
        |state, _, r, tenant| async move {
            let exec = capability(fly(&state)?.exec())?;
            Ok((
                StatusCode::OK,
                exec.processes(&tenant, r.provider_id.as_deref().unwrap_or_default())
                    .await
                    .map_err(provider_problem)?,
            ))
        },
    )
    .await
}

/// `GET /api/machines/{id}/billing`: what was paid and until when.
pub(crate) async fn billing(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    machine_op(
        state,
        Method::GET,
        "/api/machines/{id}/billing",
        id,
        headers,
        Bytes::new(),
        None,
        |_, _, r, _| async move {
            let remaining = r.paid_until.map(|t| (t - Utc::now()).num_seconds().max(0));
            Ok((
                StatusCode::OK,
                json!({
                    "id": r.provider_id,
                    "state": r.state,
                    "created_price_usd": r.price.to_string(),
                    "paid_until": r.paid_until.map(|t| t.to_rfc3339()),
                    "remaining_seconds": remaining,
                }),
            ))
        },
    )
    .await
}
