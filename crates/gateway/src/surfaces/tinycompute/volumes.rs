//! TinyCompute `/api/volumes*`: request and response shapes over the volume service.
//!
//! Beyond the seed (which sells a volume once, for $0.05, forever): storage is bought per
//! period, so create takes an optional `days` (default 30), responses carry `paid_until`,
//! and `POST /api/volumes/{id}/renew {days}` buys more time.

use axum::http::StatusCode;
use axum::response::Response;
use compute_core::provider::VolumeSpec;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::payments::flow::Terms;
use crate::problem::Problem;
use crate::routes::Call;
use crate::services::periods::{renewal_end, with_paid_until};
use crate::services::volumes::VolumeService;

/// The book item storage is sold under.
pub(super) const STORAGE: &str = "volume.storage";

/// `POST /api/volumes` body: `size_gb` in **GB** (default 1), `days` of paid storage
/// (default and bounds from the book's `volume.storage` item).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateVolume {
    name: String,
    region: Option<String>,
    size_gb: Option<u32>,
    days: Option<u64>,
}

/// `POST /api/volumes/{id}/renew` body: days of paid storage to add.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Renew {
    days: Option<u64>,
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
    let days = call.units(req.days, "days")?;
    let paid_for = call.paid_time(days)?;
    let spec = volumes.order(spec).await?;
    let (item, _) = call.metered_item()?;
    let quote = volumes.storage_quote(&call, item, true, u64::from(spec.size_gb), days).await?;
    let terms = volumes.create_terms(quote);
    Ok(call
        .pay_terms(terms, move |payer| async move {
            let (volume, paid_until) = volumes.create(&payer, &spec, paid_for).await?;
            Ok((StatusCode::OK, with_paid_until(volume.raw, paid_until)))
        })
        .await)
}

/// `GET /api/volumes`: the payer's volumes.
pub(super) async fn list(call: Call) -> Result<Response, Problem> {
    let volumes = VolumeService::of(&call)?;
    call.pay_fixed(move |payer| async move {
        let list = volumes.list(&payer.wallet).await?;
        Ok((StatusCode::OK, Value::Array(list.into_iter().map(|(v, until)| paid(v.raw, until)).collect())))
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
    by_id(call, |s, v| async move { Ok((StatusCode::OK, paid(s.get(&v).await?.raw, v.record.paid_until))) }).await
}

/// `DELETE /api/volumes/{id}`.
pub(super) async fn delete(call: Call) -> Result<Response, Problem> {
    by_id(call, |s, v| async move {
        s.delete(&v).await?;
        Ok((StatusCode::OK, json!({"id": v.provider_id(), "state": "destroyed", "ok": true})))
    })
    .await
}

/// `raw` with the row's `paid_until`, when it has one.
fn paid(raw: Value, paid_until: Option<chrono::DateTime<chrono::Utc>>) -> Value {
    match paid_until {
        Some(t) => with_paid_until(raw, t),
        None => raw,
    }
}

/// The payer's volume `{id}` for an action under `terms` (whose pricing or check already
/// established ownership before settlement).
async fn owned_under<F, Fut>(call: Call, terms: Terms, volumes: VolumeService, op: F) -> Result<Response, Problem>
where
    F: FnOnce(VolumeService, crate::services::resources::Owned) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = crate::payments::flow::ActResult> + Send + 'static,
{
    let id = call.param("id").to_owned();
    Ok(call
        .pay_terms(terms, move |payer| async move {
            let v = volumes.scope().owned(&payer.wallet, &id).await?;
            op(volumes, v).await
        })
        .await)
}

/// `PUT /api/volumes/{id}/extend`: grow to `size_gb` → `{needs_restart, volume}`. Priced as
/// the storage fee plus the GB added for the days the volume's period has left.
pub(super) async fn extend(call: Call) -> Result<Response, Problem> {
    let req: Extend = call.json()?;
    let volumes = VolumeService::of(&call)?;
    volumes.check_size(req.size_gb).await?;
    let terms = volumes.extend_terms(&call, STORAGE, call.param("id"), req.size_gb);
    owned_under(call, terms, volumes, move |s, v| async move {
        let (volume, needs_restart) = s.extend(&v, req.size_gb).await?;
        Ok((StatusCode::OK, json!({"needs_restart": needs_restart, "volume": volume.raw})))
    })
    .await
}

/// `POST /api/volumes/{id}/renew`: `days` more of paid storage (default the book's) →
/// the volume with its new `paid_until`.
pub(super) async fn renew(call: Call) -> Result<Response, Problem> {
    let req: Renew = call.json()?;
    let volumes = VolumeService::of(&call)?;
    let days = call.units(req.days, "days")?;
    let terms = volumes.renew_terms(&call, call.param("id"), days)?;
    let call2 = call.clone();
    owned_under(call, terms, volumes, move |s, v| async move {
        let until = renewal_end(&call2, v.record.paid_until, days)?;
        let volume = s.renew(&v, until).await?;
        Ok((StatusCode::OK, with_paid_until(volume.raw, until)))
    })
    .await
}
