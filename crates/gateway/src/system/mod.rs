//! Free system routes: `/`, `/health`, `/llms.txt`, `/openapi.json`.

mod health;
mod llms;
pub mod openapi;

use axum::Json;
use axum::extract::State;
use axum::http::Method;
use axum::routing::get;
use serde_json::{Value, json};

use crate::routes::{Price, Route, RouteSpec, Surface};
use crate::state::AppState;

pub use llms::render as render_llms;

/// The system routes.
pub fn routes() -> Vec<Route> {
    let s = |path, summary| RouteSpec::new(Surface::System, Method::GET, path, summary, Price::Free);
    vec![
        Route::served(s("/", "Service index"), get(index)),
        Route::served(s("/health", "Health: database, enabled providers and rails"), get(health::health)),
        Route::served(s("/llms.txt", "This API for agents, with live prices"), get(llms::llms_txt)),
        Route::served(
            s("/openapi.json", "OpenAPI 3.1 with x-payment-info on paid operations"),
            get(openapi::openapi_json),
        ),
    ]
}

async fn index(State(state): State<AppState>) -> Json<Value> {
    let base = state.config().server.public_base();
    Json(json!({
        "name": "compute-gateway",
        "description": "Cloud compute for autonomous agents, paid per request with stablecoins. No accounts, no API keys.",
        "version": env!("CARGO_PKG_VERSION"),
        "surfaces": {"tinycompute": format!("{base}/api"), "silovps": format!("{base}/v1"), "x402compute": format!("{base}/compute")},
        "links": {"health": format!("{base}/health"), "llms": format!("{base}/llms.txt"), "openapi": format!("{base}/openapi.json")},
    }))
}
