//! Free system routes: `/`, `/health`, `/llms.txt`, `/openapi.json`, `/metrics`,
//! `/.well-known/x402`.

mod health;
mod llms;
pub mod metrics;
pub mod openapi;
pub mod rates;
pub mod request_id;
pub mod well_known;

use axum::Json;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::handler;
use crate::problem::Problem;
use crate::routes::{Call, PriceRule, RouteSpec, Routes, Surface};

pub use llms::render as render_llms;

/// The system routes.
pub fn routes() -> Vec<RouteSpec> {
    let r = Routes::new(Surface::System, "");
    let s = |path, summary| r.route(Method::GET, path, summary, PriceRule::Free);
    vec![
        s("/", "Service index").handler(handler!(index)),
        s("/health", "Health: database, enabled providers and rails").handler(handler!(health::health)),
        s("/llms.txt", "This API for agents, with live prices").handler(handler!(llms::llms_txt)),
        s("/openapi.json", "OpenAPI 3.1 with x-payment-info on paid operations")
            .handler(handler!(openapi::openapi_json)),
        s(
            "/metrics",
            "Prometheus metrics: requests, 402s, payments, settlement latency, credits, provider calls, worker lag",
        )
        .handler(handler!(metrics_text)),
        s("/.well-known/x402", "x402 discovery: every paid resource with its price and x402 offers")
            .handler(handler!(well_known::x402_json)),
    ]
}

async fn metrics_text(call: Call) -> Result<Response, Problem> {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    Ok(([(axum::http::header::CONTENT_TYPE, content_type)], call.state.metrics().render()).into_response())
}

async fn index(call: Call) -> Result<Response, Problem> {
    let base = call.state.config().server.public_base();
    Ok(Json(json!({
        "name": "compute-gateway",
        "description": "Cloud compute for autonomous agents, paid per request with stablecoins. No accounts, no API keys.",
        "version": env!("CARGO_PKG_VERSION"),
        "surfaces": {"tinycompute": format!("{base}/api"), "silovps": format!("{base}/v1"), "x402compute": format!("{base}/compute")},
        "links": {"health": format!("{base}/health"), "llms": format!("{base}/llms.txt"), "openapi": format!("{base}/openapi.json"), "x402": format!("{base}/.well-known/x402"), "metrics": format!("{base}/metrics")},
    }))
    .into_response())
}
