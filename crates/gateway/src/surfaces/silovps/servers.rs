//! SiloVPS `/v1/servers*`: prepaid per-minute servers over the shared machine and snapshot
//! services (any provider with machines and snapshots; DigitalOcean per the route table).

use std::sync::Arc;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use compute_core::http::ExposeSecret;
use compute_core::provider::{MachineSize, MachineSpec};
use serde_json::{Value, json};

use super::shapes::{
    self, CreateServer, Extend, IMAGES, Power, PowerAction, REGIONS, SNAPSHOT, ServerRef, provider_id, server_id,
};
use crate::payments::flow::{ForWallet, Pricing, Terms, all_of};
use crate::problem::Problem;
use crate::routes::Call;
use crate::services::keys::KeyService;
use crate::services::machines::{MachineService, sealed_secret};
use crate::services::passwords;
use crate::services::periods::renewal_end;
use crate::services::resources::{Owned, not_found};
use crate::services::snapshots::SnapshotService;

fn invalid(msg: impl Into<String>) -> Problem {
    Problem::from(compute_core::Error::new(compute_core::ErrorKind::InvalidInput, msg))
}

/// The SiloVPS size name (`small`, …) of the plan a server was bought with.
fn size_label(call: &Call, spec: &Value) -> Option<String> {
    let plan = serde_json::from_value::<MachineSpec>(spec.clone()).ok()?.size.key();
    let item = call.state.books().metered(call.spec.book, "server").ok()?;
    item.sizes.iter().find(|s| s.plan.as_deref() == Some(plan.as_str()) || s.size == plan)?.label.clone()
}

/// The provider plan and SiloVPS name of size `label` (`small` → `s-1vcpu-1gb`, `small`); 400
/// for a size the book does not sell.
fn plan_of(call: &Call, label: &str) -> Result<(String, Option<String>), Problem> {
    let (item, _) = call.metered_item()?;
    let sizes = call.state.books().metered(call.spec.book, item)?;
    let listed = sizes.listed(label).ok_or_else(|| {
        let names: Vec<&str> = sizes.sizes.iter().filter_map(|s| s.label.as_deref()).collect();
        invalid(format!("size must be one of {}", names.join(", ")))
    })?;
    Ok((listed.plan.clone().unwrap_or_else(|| listed.size.clone()), listed.label.clone()))
}

/// The server named by the path's `id` (see [`shapes::server_id`]).
fn server(call: &Call) -> Result<ServerRef, Problem> {
    let book = call.state.books().metered(call.spec.book, "server")?;
    let sizes: Vec<&str> = book.sizes.iter().filter_map(|s| s.label.as_deref()).collect();
    shapes::server_ref(call.param("id"), &sizes)
}

/// The wallet of a free call, or the auth answer to send instead.
macro_rules! wallet_or_answer {
    ($call:expr) => {
        match $call.wallet().await {
            Ok(w) => w,
            Err(r) => return Ok(r),
        }
    };
}

/// `POST /v1/servers`: create fee + hourly × minutes / 60 (at least $0.01) → `{id, status:
/// "provisioning", paid_until, minutes_purchased, total_charged}`. The server gets a root
/// password (cloud-init), kept sealed. `ssh_key_ids` and `snapshot_id` must be the payer's.
pub(super) async fn create(call: Call) -> Result<Response, Problem> {
    let req: CreateServer = call.json()?;
    let machines = MachineService::of(&call)?;
    let (plan, label) = plan_of(&call, &req.size)?;
    let region = req.region.unwrap_or_else(|| REGIONS[0].0.to_owned());
    if !REGIONS.iter().any(|(id, _)| *id == region) {
        return Err(invalid(format!("region must be one of {}", REGIONS.map(|r| r.0).join(", "))));
    }
    let mut checks: Vec<ForWallet<()>> = Vec::new();
    let image = match &req.snapshot_id {
        Some(sid) => {
            let pid = provider_id(sid, SNAPSHOT)?.to_owned();
            let snapshots = SnapshotService::of(&call)?;
            checks.push(Arc::new(move |wallet| {
                let (snapshots, pid) = (snapshots.clone(), pid.clone());
                Box::pin(async move { snapshots.owned_kept(&wallet, &pid).await.map(drop) })
            }));
            provider_id(sid, SNAPSHOT)?.to_owned()
        }
        None => {
            let image = req.image.unwrap_or_else(|| IMAGES[0].0.to_owned());
            if !IMAGES.iter().any(|(id, _)| *id == image) {
                return Err(invalid(format!("image must be one of {}", IMAGES.map(|i| i.0).join(", "))));
            }
            image
        }
    };
    let keys: Vec<String> =
        req.ssh_key_ids.iter().map(|k| provider_id(k, shapes::KEY).map(str::to_owned)).collect::<Result<_, _>>()?;
    if !keys.is_empty() {
        checks.push(KeyService::of(&call)?.owns_all(keys.clone()));
    }
    let password = passwords::generate();
    let spec = MachineSpec {
        ssh_keys: keys,
        user_data: Some(passwords::cloud_init(&password).expose_secret().to_owned()),
        ..MachineSpec::of_plan("", region, image, plan)
    };
    let mut order = machines.order(&call, spec, req.minutes, "minutes").await?;
    order.sealed_secret = Some(passwords::seal(&call.state, &password).await?);
    let (minutes, total) = (order.units, order.quote.total);
    let mut terms = machines.create_terms(&order);
    checks.extend(terms.check.take());
    terms.check = all_of(checks);
    Ok(call
        .pay_terms(terms, move |payer| async move {
            let created = machines.create(&payer, order).await?;
            Ok((
                StatusCode::OK,
                json!({
                    "id": server_id(&created.machine.id, label.as_deref()),
                    "status": "provisioning",
                    "paid_until": created.record.paid_until.map(|t| t.to_rfc3339()),
                    "minutes_purchased": minutes,
                    "total_charged": total.to_string(),
                }),
            ))
        })
        .await)
}

/// `POST /v1/servers/{id}/extend {minutes}`: hourly × minutes / 60 (at least $0.01) added to
/// the paid time → `{id, paid_until, minutes_added, charged}`. Paid time reaches at most the
/// book's largest purchase ahead of now.
pub(super) async fn extend(call: Call) -> Result<Response, Problem> {
    let req: Extend = call.json()?;
    let machines = MachineService::of(&call)?;
    let ServerRef { pid, size } = server(&call)?;
    let Some(label) = size else { return Err(not_found(call.param("id"))) };
    let (plan, _) = plan_of(&call, &label)?;
    let minutes = call.units(req.minutes, "minutes")?;
    let quote = machines.period_quote(&call, &MachineSize::Plan(plan), minutes).await?;
    let (scope, c, p) = (machines.scope().clone(), call.clone(), pid.clone());
    // The id's size is what was priced: a server of another size is the same 404 as an unknown id.
    let check: ForWallet<()> = Arc::new(move |wallet| {
        let (scope, c, p, label) = (scope.clone(), c.clone(), p.clone(), label.clone());
        Box::pin(async move {
            let m = scope.owned(&wallet, &p).await?;
            if size_label(&c, &m.record.spec).as_deref() != Some(label.as_str()) {
                return Err(not_found(c.param("id")));
            }
            renewal_end(&c, m.record.paid_until, minutes).map(drop)
        })
    });
    let c = call.clone();
    Ok(call
        .pay_terms(Terms { pricing: Pricing::Fixed(quote), check: Some(check) }, move |payer| async move {
            let m = machines.scope().owned(&payer.wallet, &pid).await?;
            let until = renewal_end(&c, m.record.paid_until, minutes)?;
            machines.extend(&m, until).await?;
            let id = c.param("id");
            Ok((
                StatusCode::OK,
                json!({"id": id, "paid_until": until.to_rfc3339(), "minutes_added": minutes, "charged": payer.amount.to_string()}),
            ))
        })
        .await)
}

/// `GET /v1/servers` (free, wallet auth): the wallet's servers → `{servers}`.
pub(super) async fn list(call: Call) -> Result<Response, Problem> {
    let wallet = wallet_or_answer!(call);
    let machines = MachineService::of(&call)?;
    let servers: Vec<Value> = machines
        .list(&wallet)
        .await?
        .iter()
        .map(|(m, r)| shapes::server(m, r, size_label(&call, &r.spec).as_deref()))
        .collect();
    Ok((StatusCode::OK, Json(json!({"servers": servers}))).into_response())
}

/// `GET /v1/servers/{id}` (free, wallet auth): the server with its IP, `root_password` and
/// `remaining_minutes`.
pub(super) async fn get(call: Call) -> Result<Response, Problem> {
    let wallet = wallet_or_answer!(call);
    let machines = MachineService::of(&call)?;
    let m = machines.scope().owned(&wallet, &server(&call)?.pid).await?;
    let machine = machines.get(&m).await?;
    let mut body = shapes::server(&machine, &m.record, size_label(&call, &m.record.spec).as_deref());
    if let Some(sealed) = sealed_secret(&m.record) {
        let password = passwords::open(&call.state, sealed).await?;
        body["root_password"] = Value::String(password.expose_secret().to_owned());
    }
    Ok((StatusCode::OK, Json(body)).into_response())
}

/// `DELETE /v1/servers/{id}` (free, wallet auth): snapshot, then destroy →
/// `{deleted: true, snapshot: {id, expires_in_hours}}`.
pub(super) async fn delete(call: Call) -> Result<Response, Problem> {
    let wallet = wallet_or_answer!(call);
    let machines = MachineService::of(&call)?;
    let m = machines.scope().owned(&wallet, &server(&call)?.pid).await?;
    let (snapshot, _) = SnapshotService::of(&call)?.retire(&m).await?;
    let hours = call.state.config().expiry.snapshot_retention_hours;
    let body =
        json!({"deleted": true, "snapshot": {"id": format!("{SNAPSHOT}{}", snapshot.id), "expires_in_hours": hours}});
    Ok((StatusCode::OK, Json(body)).into_response())
}

/// `POST /v1/servers/{id}/reboot` ($0.005) → `{id, status: "rebooting"}`.
pub(super) async fn reboot(call: Call) -> Result<Response, Problem> {
    paid_action(call, |machines, m| async move { machines.reboot(&m).await.map(|()| "rebooting") }).await
}

/// `POST /v1/servers/{id}/power {action: on|off}` ($0.005) → `{id, status}`. Powering on buys
/// no time: the server runs within its paid time.
pub(super) async fn power(call: Call) -> Result<Response, Problem> {
    let req: Power = call.json()?;
    paid_action(call, move |machines, m| async move {
        match req.action {
            PowerAction::On => machines.power_on(&m).await.map(|()| "active"),
            PowerAction::Off => machines.stop(&m).await.map(|()| "off"),
        }
    })
    .await
}

/// A fixed-price action on the payer's own server → `{id, status}` with the status `op` gives.
async fn paid_action<F, Fut>(call: Call, op: F) -> Result<Response, Problem>
where
    F: FnOnce(MachineService, Owned) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<&'static str, Problem>> + Send + 'static,
{
    let machines = MachineService::of(&call)?;
    let id = call.param("id").to_owned();
    let pid = server(&call)?.pid;
    let scope = machines.scope().clone();
    scope
        .pay_for(&call, &pid, call.fixed_quote()?, move |m| async move {
            let status = op(machines, m).await?;
            Ok((StatusCode::OK, json!({"id": id, "status": status})))
        })
        .await
}

/// `GET /v1/servers/snapshots/list` (free, wallet auth): the wallet's snapshots still kept →
/// `{snapshots: [{id, name, created_at, expires_at, expires_in_hours}]}`.
pub(super) async fn snapshots(call: Call) -> Result<Response, Problem> {
    let wallet = wallet_or_answer!(call);
    let now = chrono::Utc::now();
    let list: Vec<Value> = SnapshotService::of(&call)?
        .list(&wallet)
        .await?
        .iter()
        .map(|(s, r)| {
            json!({
                "id": format!("{SNAPSHOT}{}", s.id),
                "name": s.name,
                "size_gb": s.size_gb,
                "created_at": s.created_at.map(|t| t.to_rfc3339()),
                "expires_at": r.paid_until.map(|t| t.to_rfc3339()),
                "expires_in_hours": r.paid_until.map(|t| (t - now).num_hours().max(0)),
            })
        })
        .collect();
    Ok((StatusCode::OK, Json(json!({"snapshots": list}))).into_response())
}
