//! `GET /.well-known/x402`: the machine-readable discovery document x402 crawlers and agent
//! wallets read when they find no `/openapi.json` (peers.md § discovery). There is no ratified
//! schema for it; this follows the convention in use: `{x402Version, name, description,
//! openapi, llms, resources: [{resource, method, description, price, accepts}]}`.
//!
//! - `resource` is the absolute URL, with `{param}` templates left in for by-id routes;
//! - `price` is the route's price in words (`$0.001`, `dynamic: …`), from the price books;
//! - `accepts` are the x402 v2 `PaymentRequirements` the live 402 would carry (every enabled
//!   x402 rail; amounts in each asset's base units), only for fixed-price routes with no path
//!   parameter: anything else is priced from the request, so a crawler probes it for its 402.
//!
//! Everything is derived from the route table, the books and the rails, so it cannot drift
//! from what the gateway charges.

use axum::Json;
use axum::response::{IntoResponse, Response};
use compute_core::payment::{Charge, Offer};
use serde_json::{Value, json};

use crate::problem::Problem;
use crate::routes::{Call, PriceRule, RouteSpec, describe_price};
use crate::state::AppState;

pub(super) async fn x402_json(call: Call) -> Result<Response, Problem> {
    Ok(Json(document(&call.state)).into_response())
}

/// The discovery document (see the module docs).
pub fn document(state: &AppState) -> Value {
    let base = state.config().server.public_base();
    let resources: Vec<Value> = state
        .routes()
        .iter()
        .filter(|spec| spec.price.is_paid())
        .map(|spec| {
            json!({
                "resource": format!("{base}{}", spec.path),
                "method": spec.method.as_str(),
                "description": spec.summary,
                "price": describe_price(spec, state.books()),
                "accepts": accepts(state, spec, &base),
            })
        })
        .collect();
    json!({
        "x402Version": 2,
        "name": "compute-gateway",
        "description": "Cloud compute for autonomous agents (Fly machines, DigitalOcean servers, …), paid per request. No accounts, no API keys.",
        "openapi": format!("{base}/openapi.json"),
        "llms": format!("{base}/llms.txt"),
        "resources": resources,
    })
}

fn accepts(state: &AppState, spec: &RouteSpec, base: &str) -> Vec<Value> {
    let PriceRule::Fixed(item) = spec.price else { return vec![] };
    if spec.path.contains('{') {
        return vec![];
    }
    let Ok(amount) = state.books().fixed(spec.book, item) else { return vec![] };
    let charge = Charge {
        amount,
        route: spec.route(),
        resource_url: format!("{base}{}", spec.path),
        description: spec.summary.to_owned(),
        body: Vec::new(),
    };
    state
        .rails()
        .all()
        .iter()
        .filter_map(|rail| rail.offers(&charge).ok())
        .flatten()
        .filter_map(|offer| match offer {
            Offer::X402 { v2, .. } => Some(v2),
            _ => None,
        })
        .collect()
}
