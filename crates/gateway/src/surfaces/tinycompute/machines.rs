//! TinyCompute `/api/machines*`: request and response shapes over the machine service.

use std::future::Future;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use compute_core::billing::Quote;
use compute_core::provider::{ExecRequest, Machine, MachineState};
use compute_store::ResourceRecord;
use serde_json::{Value, json};

use super::shapes::{ExecBody, MachineRequest, Period, WaitQuery};
use crate::payments::flow::ActResult;
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

/// The paid flow of `/api/machines/{id}/…`: `quote` (the route's fixed price when `None`),
/// then `op` on the payer's own machine.
async fn by_id<F, Fut>(call: Call, quote: Option<Quote>, op: F) -> Result<Response, Problem>
where
    F: FnOnce(MachineService, Owned) -> Fut + Send + 'static,
    Fut: Future<Output = ActResult> + Send + 'static,
{
    let machines = MachineService::of(&call)?;
    let quote = match quote {
        Some(q) => q,
        None => call.fixed_quote()?,
    };
    let scope = machines.scope().clone();
    scope.pay_for_owned(&call, quote, move |m| op(machines, m)).await
}

/// `POST /api/machines`: validate and price, 402, then create the machine in the payer's own
/// tenant and answer with the provider's machine object plus `connection`, `ttl_minutes`,
/// `paid_until` and `price_usd`.
pub(super) async fn create(call: Call) -> Result<Response, Problem> {
    let req: MachineRequest = call.json()?;
    let machines = MachineService::of(&call)?;
    let order = machines.order(&call, req.to_spec(), req.ttl_minutes).await?;
    let (minutes, price) = (order.units, order.quote.total);
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
        .pay(order.quote.clone(), move |payer| async move {
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
    by_id(call, None, |s, m| async move { Ok((StatusCode::OK, with_billing(s.get(&m).await?, &m.record))) }).await
}

/// `{"id", "state", "ok": true}`.
fn done(m: &Owned, state: &str) -> ActResult {
    Ok((StatusCode::OK, json!({"id": m.provider_id(), "state": state, "ok": true})))
}

/// `POST /api/machines/{id}/stop`.
pub(super) async fn stop(call: Call) -> Result<Response, Problem> {
    by_id(call, None, |s, m| async move {
        s.stop(&m).await?;
        done(&m, "stopped")
    })
    .await
}

/// `POST /api/machines/{id}/suspend`.
pub(super) async fn suspend(call: Call) -> Result<Response, Problem> {
    by_id(call, None, |s, m| async move {
        s.suspend(&m).await?;
        done(&m, "suspended")
    })
    .await
}

/// `DELETE /api/machines/{id}`.
pub(super) async fn destroy(call: Call) -> Result<Response, Problem> {
    by_id(call, None, |s, m| async move {
        s.destroy(&m).await?;
        done(&m, "destroyed")
    })
    .await
}

/// `POST /api/machines/{id}/start` and `/restart`: a new paid period of the machine's size.
async fn start_like(call: Call, reboot: bool) -> Result<Response, Problem> {
    let period: Period = call.json()?;
    let machines = MachineService::of(&call)?;
    let (minutes, paid_for, quote) = machines.renewal(&call, call.param("id"), period.ttl_minutes).await?;
    by_id(call, Some(quote), move |s, m| async move {
        let until = s.start(&m, paid_for, reboot).await?;
        Ok((
            StatusCode::OK,
            json!({"id": m.provider_id(), "state": "started", "ttl_minutes": minutes, "paid_until": until.to_rfc3339()}),
        ))
    })
    .await
}

/// `POST /api/machines/{id}/start`.
pub(super) async fn start(call: Call) -> Result<Response, Problem> {
    start_like(call, false).await
}

/// `POST /api/machines/{id}/restart`.
pub(super) async fn restart(call: Call) -> Result<Response, Problem> {
    start_like(call, true).await
}

/// `POST /api/machines/{id}/exec`: `{command, timeout}` → `{exit_code, exit_signal, stdout,
/// stderr}`; `timeout` in **seconds**, 1–60 (default 30).
pub(super) async fn exec(call: Call) -> Result<Response, Problem> {
    let req: ExecBody = call.json()?;
    let timeout = req.timeout.unwrap_or(30);
    if req.command.is_empty()
        || req.command.len() > 64
        || req.command.iter().any(|a| a.len() > 4096)
        || !(1..=60).contains(&timeout)
    {
        return Err(bad("Invalid exec request", "command must have 1–64 arguments and timeout must be 1–60 seconds"));
    }
    let request = ExecRequest { command: req.command, timeout_secs: timeout, stdin: None };
    by_id(call, None, move |s, m| async move {
        let out = s.exec(&m, &request).await?;
        Ok((StatusCode::OK, serde_json::to_value(out).unwrap_or(Value::Null)))
    })
    .await
}

/// `POST /api/machines/{id}/wait?state=started&timeout=60` (timeout in **seconds**, 1–300).
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
    let timeout = Duration::from_secs(q.timeout.unwrap_or(60).clamp(1, 300));
    by_id(call, None, move |s, m| async move {
        let machine = s.wait(&m, &target, timeout).await?;
        Ok((StatusCode::OK, json!({"ok": true, "state": machine.state, "machine": machine.raw})))
    })
    .await
}

/// `GET /api/machines/{id}/events` (the 50 most recent).
pub(super) async fn events(call: Call) -> Result<Response, Problem> {
    by_id(call, None, |s, m| async move {
        let list = s.events(&m, 50).await?;
        Ok((StatusCode::OK, Value::Array(list.into_iter().map(|e| e.raw).collect())))
    })
    .await
}

/// `GET /api/machines/{id}/ps`.
pub(super) async fn ps(call: Call) -> Result<Response, Problem> {
    by_id(call, None, |s, m| async move { Ok((StatusCode::OK, s.processes(&m).await?)) }).await
}

/// `GET /api/machines/{id}/billing`: what was paid and until when (`remaining_seconds`).
pub(super) async fn billing(call: Call) -> Result<Response, Problem> {
    by_id(call, None, |_, m| async move {
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
