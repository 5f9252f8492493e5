//! TinyCompute `/api/machines*`: request and response shapes over the machine service.

use std::future::Future;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use compute_core::provider::{ExecRequest, Machine, MachineState};
use compute_store::ResourceRecord;
use serde_json::{Value, json};

use super::shapes::{ExecBody, MachineRequest, Period, WaitQuery};
use crate::payments::flow::{ActResult, Terms};
use crate::problem::Problem;
use crate::routes::Call;
use crate::services::machines::MachineService;
use crate::services::resources::Owned;

fn bad(title: &str, detail: &str) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "invalid_input", title).with_detail(detail.to_owned())
}

/// The provider's machine object with the paid time added.
fn with_billing(machine: Machine, record: &ResourceRecord) -> Value {
    let mut raw = machine.raw;
    if let Some(obj) = raw.as_object_mut() {
        obj.insert("paid_until".into(), json!(record.paid_until.map(|t| t.to_rfc3339())));
    }
    raw
}

/// The paid flow of `/api/machines/{id}/…` at the route's fixed price: `op` on the payer's
/// own machine.
async fn by_id<F, Fut>(call: Call, op: F) -> Result<Response, Problem>
where
    F: FnOnce(MachineService, Owned) -> Fut + Send + 'static,
    Fut: Future<Output = ActResult> + Send + 'static,
{
    let machines = MachineService::of(&call)?;
    let quote = call.fixed_quote()?;
    let scope = machines.scope().clone();
    scope.pay_for_owned(&call, quote, move |m| op(machines, m)).await
}

/// `POST /api/machines`: validate and price, 402, then create the machine in the payer's own
/// tenant and answer with the provider's machine object plus `connection`, `ttl_minutes`,
/// `paid_until` and `price_usd`.
pub(super) async fn create(call: Call) -> Result<Response, Problem> {
    let req: MachineRequest = call.json()?;
    let machines = MachineService::of(&call)?;
    let order = machines.order(&call, req.to_spec(), req.ttl_minutes, "ttl_minutes").await?;
    let (minutes, price, terms) = (order.units, order.quote.total, machines.create_terms(&order));
    let ports: Vec<Value> = order
        .spec
        .services
        .iter()
        .flat_map(|s| {
            s.ports.iter().map(move |p| {
                json!({"port": p.port, "internal_port": s.internal_port, "protocol": s.protocol, "handlers": p.handlers})
            })
        })
        .collect();
    Ok(call
        .pay_terms(terms, move |payer| async move {
            let created = machines.create(&payer, order).await?;
            let mut body = created.machine.raw;
            if let Some(obj) = body.as_object_mut() {
                obj.insert("connection".into(), json!({"ips": created.ips, "ports": ports}));
                obj.insert("ttl_minutes".into(), json!(minutes));
                obj.insert("paid_until".into(), json!(created.record.paid_until.map(|t| t.to_rfc3339())));
                obj.insert("price_usd".into(), json!(price.to_string()));
            }
            Ok((StatusCode::OK, body))
        })
        .await)
}

/// `GET /api/machines`: the payer's machines.
pub(super) async fn list(call: Call) -> Result<Response, Problem> {
    let machines = MachineService::of(&call)?;
    call.pay_fixed(move |payer| async move {
        let list = machines.list(&payer.wallet).await?;
        Ok((StatusCode::OK, Value::Array(list.into_iter().map(|(m, r)| with_billing(m, &r)).collect())))
    })
    .await
}

/// `GET /api/machines/{id}`.
pub(super) async fn get(call: Call) -> Result<Response, Problem> {
    by_id(call, |s, m| async move { Ok((StatusCode::OK, with_billing(s.get(&m).await?, &m.record))) }).await
}

/// `{"id", "state", "ok": true}`.
fn done(m: &Owned, state: &str) -> ActResult {
    Ok((StatusCode::OK, json!({"id": m.provider_id(), "state": state, "ok": true})))
}

/// `POST /api/machines/{id}/stop`.
pub(super) async fn stop(call: Call) -> Result<Response, Problem> {
    by_id(call, |s, m| async move {
        s.stop(&m).await?;
        done(&m, "stopped")
    })
    .await
}

/// `POST /api/machines/{id}/suspend`.
pub(super) async fn suspend(call: Call) -> Result<Response, Problem> {
    by_id(call, |s, m| async move {
        s.suspend(&m).await?;
        done(&m, "suspended")
    })
    .await
}

/// `DELETE /api/machines/{id}`.
pub(super) async fn destroy(call: Call) -> Result<Response, Problem> {
    by_id(call, |s, m| async move {
        s.destroy(&m).await?;
        done(&m, "destroyed")
    })
    .await
}

/// `POST /api/machines/{id}/start` and `/restart`: a new paid period of the machine's size,
/// priced for the verified owner only.
async fn start_like(call: Call, reboot: bool) -> Result<Response, Problem> {
    let period: Period = call.json()?;
    let machines = MachineService::of(&call)?;
    let id = call.param("id").to_owned();
    let (minutes, paid_for, pricing) = machines.renewal(&call, &id, period.ttl_minutes, "ttl_minutes")?;
    let terms = Terms { pricing, check: Some(machines.scope().owns(&id)) };
    Ok(call
        .pay_terms(terms, move |payer| async move {
            let m = machines.scope().owned(&payer.wallet, &id).await?;
            let until = machines.start(&m, paid_for, reboot).await?;
            Ok((
                StatusCode::OK,
                json!({"id": m.provider_id(), "state": "started", "ttl_minutes": minutes, "paid_until": until.to_rfc3339()}),
            ))
        })
        .await)
}

/// `POST /api/machines/{id}/start`.
pub(super) async fn start(call: Call) -> Result<Response, Problem> {
    start_like(call, false).await
}

/// `POST /api/machines/{id}/restart`.
pub(super) async fn restart(call: Call) -> Result<Response, Problem> {
    start_like(call, true).await
}

/// Longest `exec` Fly runs, in **seconds**.
const MAX_EXEC_SECS: u64 = 60;

/// The longest a paid call of `call` may wait: `cap`, and no longer than the request allows.
fn budget(call: &Call, cap: u64) -> u64 {
    cap.min(call.state.config().server.operation_budget_secs())
}

/// `POST /api/machines/{id}/exec`: `{command, timeout}` → `{exit_code, exit_signal, stdout,
/// stderr}`; `timeout` in **seconds**, 1 to the smaller of 60 and the request's budget
/// (default 30).
pub(super) async fn exec(call: Call) -> Result<Response, Problem> {
    let req: ExecBody = call.json()?;
    let timeout = req.timeout.unwrap_or(30);
    let max = budget(&call, MAX_EXEC_SECS);
    if req.command.is_empty() || req.command.len() > 64 || req.command.iter().any(|a| a.len() > 4096) {
        return Err(bad("Invalid exec request", "command must have 1–64 arguments of at most 4096 bytes"));
    }
    if !(1..=max).contains(&u64::from(timeout)) {
        return Err(bad("Invalid exec request", &format!("timeout must be 1–{max} seconds on this gateway")));
    }
    let request = ExecRequest { command: req.command, timeout_secs: timeout, stdin: None };
    by_id(call, move |s, m| async move {
        let out = s.exec(&m, &request).await?;
        Ok((StatusCode::OK, serde_json::to_value(out).unwrap_or(Value::Null)))
    })
    .await
}

/// Longest `wait` offered, in **seconds**.
const MAX_WAIT_SECS: u64 = 300;

/// `POST /api/machines/{id}/wait?state=started&timeout=60`: `timeout` in **seconds**, 1 to the
/// request's budget (at most 300; default 60).
pub(super) async fn wait(call: Call) -> Result<Response, Problem> {
    let q: WaitQuery = call.query()?;
    let target = match q.state.as_deref().unwrap_or("started") {
        "started" => MachineState::Started,
        "stopped" => MachineState::Stopped,
        "suspended" => MachineState::Suspended,
        "destroyed" => MachineState::Destroyed,
        other => {
            let detail = format!("state must be started, stopped, suspended or destroyed, not {other:?}");
            return Err(bad("Invalid state", &detail));
        }
    };
    let max = budget(&call, MAX_WAIT_SECS);
    let timeout = q.timeout.unwrap_or(60.min(max));
    if !(1..=max).contains(&timeout) {
        return Err(bad("Invalid wait", &format!("timeout must be 1–{max} seconds on this gateway")));
    }
    let timeout = Duration::from_secs(timeout);
    by_id(call, move |s, m| async move {
        let machine = s.wait(&m, &target, timeout).await?;
        Ok((StatusCode::OK, json!({"ok": true, "state": machine.state, "machine": machine.raw})))
    })
    .await
}

/// `GET /api/machines/{id}/events` (the 50 most recent).
pub(super) async fn events(call: Call) -> Result<Response, Problem> {
    by_id(call, |s, m| async move {
        let list = s.events(&m, 50).await?;
        Ok((StatusCode::OK, Value::Array(list.into_iter().map(|e| e.raw).collect())))
    })
    .await
}

/// `GET /api/machines/{id}/ps`.
pub(super) async fn ps(call: Call) -> Result<Response, Problem> {
    by_id(call, |s, m| async move { Ok((StatusCode::OK, s.processes(&m).await?)) }).await
}

/// `GET /api/machines/{id}/billing`: what was paid and until when (`remaining_seconds`).
pub(super) async fn billing(call: Call) -> Result<Response, Problem> {
    by_id(call, |_, m| async move {
        let r = &m.record;
        let remaining = r.paid_until.map(|t| (t - Utc::now()).num_seconds().max(0));
        Ok((
            StatusCode::OK,
            json!({
                "id": r.provider_id,
                "state": r.state.as_str(),
                "created_price_usd": r.price.to_string(),
                "paid_until": r.paid_until.map(|t| t.to_rfc3339()),
                "remaining_seconds": remaining,
            }),
        ))
    })
    .await
}
