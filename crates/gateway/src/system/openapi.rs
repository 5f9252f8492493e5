//! `GET /openapi.json`: OpenAPI 3.1 of every route, generated from the route table, with
//! `x-payment-info` on paid operations (MPP discovery draft: `offers[]` of
//! `{intent, method, amount, currency, description}`, `amount` in base units or `null` when the
//! price is dynamic) and a declared `402` response.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::problem::{PROBLEM_JSON, Problem};
use crate::routes::{Auth, Call, PriceRule, RouteSpec, Surface, describe_price, unavailable_reason};
use crate::state::AppState;

pub(super) async fn openapi_json(call: Call) -> Result<Response, Problem> {
    Ok(Json(document(&call.state)).into_response())
}

/// Builds the OpenAPI document.
pub fn document(state: &AppState) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for spec in state.routes() {
        let item = paths.entry(spec.path.to_owned()).or_insert_with(|| json!({}));
        if let Some(obj) = item.as_object_mut() {
            obj.insert(spec.method.as_str().to_ascii_lowercase(), operation(state, spec));
        }
    }
    let tags: Vec<Value> = Surface::ALL.iter().map(|s| json!({"name": s.tag(), "description": s.title()})).collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "compute-gateway",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Cloud compute for autonomous agents, paid per request over MPP and x402. \
                            Serves the TinyCompute (/api), SiloVPS (/v1) and x402Compute (/compute) APIs.",
        },
        "servers": [{"url": state.config().server.public_base()}],
        "x-service-info": {
            "name": "compute-gateway",
            "protocols": ["mpp", "x402"],
            "llms": "/llms.txt",
        },
        "tags": tags,
        "paths": paths,
        "components": components(),
    })
}

fn operation(state: &AppState, spec: &RouteSpec) -> Value {
    let mut op = Map::new();
    op.insert("operationId".into(), json!(operation_id(spec)));
    op.insert("summary".into(), json!(spec.summary));
    op.insert("tags".into(), json!([spec.surface.tag()]));
    let mut description = format!("Price: {}.", describe_price(spec, state.books()));
    if spec.auth != Auth::None {
        description
            .push_str(" Identifies the caller's wallet (verified payer, MPP proof credential or wallet signature).");
    }
    if let Some(reason) = unavailable_reason(state.providers(), spec) {
        description.push_str(&format!(" Unavailable on this gateway: {reason} (answers 503)."));
    }
    op.insert("description".into(), json!(description));
    let params: Vec<Value> = spec
        .path_params()
        .into_iter()
        .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    if !params.is_empty() {
        op.insert("parameters".into(), json!(params));
    }
    if let Some(example) = spec.example {
        let example: Value = serde_json::from_str(example).unwrap_or(Value::Null);
        op.insert(
            "requestBody".into(),
            json!({"required": true, "content": {"application/json": {"schema": {"type": "object"}, "example": example}}}),
        );
    }
    let mut responses = Map::new();
    responses.insert("200".into(), json!({"description": "Success", "content": {"application/json": {"schema": {}}}}));
    responses.insert("4XX".into(), json!({"$ref": "#/components/responses/Problem"}));
    responses.insert("503".into(), json!({"$ref": "#/components/responses/Problem"}));
    if spec.price.is_paid() {
        responses.insert("402".into(), json!({"$ref": "#/components/responses/PaymentRequired"}));
        op.insert("x-payment-info".into(), payment_info(state, spec));
    }
    op.insert("responses".into(), Value::Object(responses));
    Value::Object(op)
}

fn payment_info(state: &AppState, spec: &RouteSpec) -> Value {
    let fixed = match spec.price {
        PriceRule::Fixed(item) => state.books().fixed(spec.book, item).ok(),
        _ => None,
    };
    let price = match (spec.price, fixed) {
        (PriceRule::Free, _) => json!({"mode": "free"}),
        (_, Some(usd)) => json!({"mode": "fixed", "currency": "USD", "amount": usd.to_string()}),
        _ => json!({"mode": "dynamic", "currency": "USD", "formula": describe_price(spec, state.books())}),
    };
    // One offer per enabled rail; `amount` is in the rail's base units, `null` when dynamic.
    let offers: Vec<Value> = state
        .rails()
        .all()
        .iter()
        .map(|rail| {
            let info = rail.rail();
            let amount = fixed
                .and_then(|usd| compute_core::TokenAmount::from_usd_ceil(usd, info.decimals).ok())
                .map(|t| t.to_string());
            json!({
                "intent": "charge",
                "method": info.rail,
                "network": info.network,
                "amount": amount,
                "currency": info.asset,
                "description": spec.summary,
            })
        })
        .collect();
    json!({"price": price, "offers": offers})
}

fn operation_id(spec: &RouteSpec) -> String {
    let path: String = spec
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_matches(|c| c == '{' || c == '}').replace(['.', '-'], "_"))
        .collect::<Vec<_>>()
        .join("_");
    let path = if path.is_empty() { "root".to_owned() } else { path };
    format!("{}_{path}", spec.method.as_str().to_ascii_lowercase())
}

fn components() -> Value {
    json!({
        "schemas": {
            "Problem": {
                "type": "object",
                "description": "RFC 9457 problem details",
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                },
                "required": ["type", "title", "status"],
            }
        },
        "responses": {
            "Problem": {
                "description": "An error, as RFC 9457 problem details",
                "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            },
            "PaymentRequired": {
                "description": "Payment required: `WWW-Authenticate: Payment` challenges (MPP), a `PAYMENT-REQUIRED` header (x402 v2) and an x402 v1 JSON body",
                "headers": {
                    "WWW-Authenticate": {"schema": {"type": "string"}, "description": "One MPP challenge per offer"},
                    "PAYMENT-REQUIRED": {"schema": {"type": "string"}, "description": "base64 x402 v2 PaymentRequired"},
                },
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
        },
    })
}
