//! TinyCompute `/api/apps*`: the wallet's own tenant space at the provider (its Fly app) and
//! the space's IP addresses. Any other app name is a 404.
//!
//! Beyond the seed (which sells every address once, for $0.01): a dedicated IPv4 (`type: v4`)
//! is bought per period, with an optional `days` (default 30), answers carry `paid_until`,
//! and `POST /api/apps/{name}/ips/{id}/renew {days}` and `DELETE /api/apps/{name}/ips/{id}`
//! renew or release it.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use compute_core::provider::IpKind;
use serde::Deserialize;
use serde_json::json;

use crate::problem::Problem;
use crate::routes::Call;
use crate::services::ips::IpService;
use crate::services::periods::renewal_end;
use crate::services::tenancy;

/// The book item a dedicated IPv4 is sold under.
const DEDICATED_V4: &str = "ip.dedicated_v4";

/// The book's one-off price of a shared IPv4 or an IPv6 address.
const ONE_OFF: &str = "ip.allocate";

/// `POST /api/apps/{name}/ips` body: `{type: v4|v6|shared_v4, region?, days?}`; `days` of
/// paid time only for a dedicated `v4`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Allocate {
    #[serde(rename = "type")]
    kind: Option<IpKind>,
    region: Option<String>,
    days: Option<u64>,
}

/// `POST /api/apps/{name}/ips/{id}/renew` body: days of paid time to add.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Renew {
    days: Option<u64>,
}

/// `POST /api/apps`: creates (or returns) the payer's own app → `{name, owner}`. Every wallet
/// has exactly one.
pub(super) async fn create(call: Call) -> Result<Response, Problem> {
    let (handle, state) = (call.provider()?, call.state.clone());
    call.pay_fixed(move |payer| async move {
        let tenant = tenancy::tenant_for(&state, &payer.wallet).await?;
        tenancy::ensure(&handle, &tenant).await?;
        let name = tenancy::space_name(&state, &handle, &payer.wallet).await?;
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

/// The app the TinyCompute docs name for "the shared IPv4" (`GET /api/apps/mpp-compute/ips`):
/// on this gateway every wallet has its own app, so the name means the caller's own app.
const SHARED_APP: &str = "mpp-compute";

/// `GET /api/apps/{name}/ips` (free, wallet auth): the app's public addresses → `{ips}`;
/// `mpp-compute` lists the caller's own app's.
pub(super) async fn list_ips(call: Call) -> Result<Response, Problem> {
    let wallet = match call.wallet().await {
        Ok(w) => w,
        Err(r) => return Ok(r),
    };
    let ips = IpService::of(&call)?;
    let name = match call.param("name") {
        SHARED_APP => ips.space_of(&wallet).await?,
        other => other.to_owned(),
    };
    let list = ips.list(&wallet, &name).await?;
    Ok((StatusCode::OK, Json(json!({"ips": list}))).into_response())
}

/// `POST /api/apps/{name}/ips`: allocates an address (default `shared_v4`). A dedicated `v4`
/// is priced by `days`; the others at the book's one-off price.
pub(super) async fn allocate_ip(call: Call) -> Result<Response, Problem> {
    let req: Allocate = call.json()?;
    let ips = IpService::of(&call)?;
    let kind = req.kind.unwrap_or(IpKind::SharedV4);
    let name = call.param("name").to_owned();
    let (quote, paid_for) = if kind == IpKind::V4 {
        let days = call.units_of(DEDICATED_V4, req.days, "days")?;
        (ips.dedicated_quote(&call, DEDICATED_V4, true, days).await?, Some(call.paid_time_of(DEDICATED_V4, days)?))
    } else if req.days.is_some() {
        return Err(Problem::from(compute_core::Error::new(
            compute_core::ErrorKind::InvalidInput,
            "days applies to a dedicated v4 address only; shared_v4 and v6 are bought once",
        )));
    } else {
        (call.fixed_quote_of(ONE_OFF)?, None)
    };
    let terms = ips.allocate_terms(quote, &name, paid_for.is_some());
    Ok(call
        .pay_terms(terms, move |payer| async move {
            let ip = ips.allocate(&payer, &name, kind, req.region.as_deref(), paid_for).await?;
            Ok((StatusCode::OK, ip))
        })
        .await)
}

/// `POST /api/apps/{name}/ips/{id}/renew`: `days` more for the payer's dedicated IPv4 `{id}`
/// (the address) → the address with its new `paid_until`.
pub(super) async fn renew_ip(call: Call) -> Result<Response, Problem> {
    let req: Renew = call.json()?;
    let ips = IpService::of(&call)?;
    let days = call.units(req.days, "days")?;
    let (item, _) = call.metered_item()?;
    let quote = ips.dedicated_quote(&call, item, false, days).await?;
    let scope = ips.scope().clone();
    let c = call.clone();
    scope
        .pay_for_owned(&call, quote, move |ip| async move {
            let until = renewal_end(&c, ip.record.paid_until, days)?;
            Ok((StatusCode::OK, ips.renew(&ip, until).await?))
        })
        .await
}

/// `DELETE /api/apps/{name}/ips/{id}`: releases the payer's dedicated IPv4 `{id}`.
pub(super) async fn release_ip(call: Call) -> Result<Response, Problem> {
    let ips = IpService::of(&call)?;
    let scope = ips.scope().clone();
    scope
        .pay_for_owned(&call, call.fixed_quote()?, move |ip| async move {
            ips.release(&ip).await?;
            Ok((StatusCode::OK, json!({"ip": ip.provider_id(), "released": true})))
        })
        .await
}
