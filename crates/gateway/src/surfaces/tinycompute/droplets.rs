//! TinyCompute `POST /api/do/droplets`: the seed's body over the machine service. The other
//! `/api/do/droplets*` routes share the `/api/machines*` handlers: they are the same verbs on
//! the route's provider.

use axum::http::StatusCode;
use axum::response::Response;
use compute_core::provider::MachineSpec;
use serde::Deserialize;
use serde_json::json;

use crate::problem::Problem;
use crate::routes::Call;
use crate::services::machines::MachineService;

/// `POST /api/do/droplets` body (`tinycompute-llms.txt` § DigitalOcean Droplets): a size slug,
/// a region, an image slug, and the prepaid `ttl_minutes` (default and bounds from the
/// `do.droplet` book item).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateDroplet {
    name: Option<String>,
    region: Option<String>,
    size: String,
    image: String,
    ttl_minutes: Option<u64>,
}

/// `POST /api/do/droplets`: setup fee + per-minute rate × `ttl_minutes` → the provider's
/// droplet object plus `ttl_minutes`, `paid_until` and `price_usd`.
pub(super) async fn create(call: Call) -> Result<Response, Problem> {
    let req: CreateDroplet = call.json()?;
    let machines = MachineService::of(&call)?;
    let spec = MachineSpec::of_plan(req.name.unwrap_or_default(), req.region.unwrap_or_default(), req.image, req.size);
    let order = machines.order(&call, spec, req.ttl_minutes, "ttl_minutes").await?;
    let (minutes, price, terms) = (order.units, order.quote.total, machines.create_terms(&order));
    Ok(call
        .pay_terms(terms, move |payer| async move {
            let created = machines.create(&payer, order).await?;
            let mut body = created.machine.raw;
            if let Some(obj) = body.as_object_mut() {
                obj.insert("ttl_minutes".into(), json!(minutes));
                obj.insert("paid_until".into(), json!(created.record.paid_until.map(|t| t.to_rfc3339())));
                obj.insert("price_usd".into(), json!(price.to_string()));
            }
            Ok((StatusCode::OK, body))
        })
        .await)
}
