//! `GET /openapi.json`: OpenAPI 3.1 of every route, generated from the route table, with
//! `x-payment-info` on paid operations (MPP discovery draft: `offers[]` of
//! `{intent, method, amount, currency, description}`, `amount` in base units or `null` when the
//! price is dynamic) and a declared `402` response. An operation this gateway cannot serve
//! carries `x-unavailable: true`. `cargo xtask e2e` runs schemathesis against it (e2e/schema.py).

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
    let unavailable = unavailable_reason(state.providers(), spec);
    if let Some(reason) = &unavailable {
        description.push_str(&format!(" Unavailable on this gateway: {reason} (answers 503)."));
    }
    op.insert("description".into(), json!(description));
    if unavailable.is_some() {
        op.insert("x-unavailable".into(), json!(true));
    }
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
        let required = !OPTIONAL_BODIES.contains(&spec.route().as_str());
        op.insert(
            "requestBody".into(),
            json!({"required": required, "content": {"application/json": {"schema": {"type": "object"}, "example": example}}}),
        );
    }
    let mut responses = Map::new();
    let (status, media) = success(spec);
    responses.insert(status.into(), json!({"description": "Success", "content": {media: {"schema": {}}}}));
    responses.insert("4XX".into(), json!({"$ref": "#/components/responses/Problem"}));
    responses.insert("503".into(), json!({"$ref": "#/components/responses/Problem"}));
    responses.insert("5XX".into(), json!({"$ref": "#/components/responses/ServerError"}));
    if spec.price.is_paid() || spec.auth != Auth::None {
        // A paid route's challenge, or the zero-amount proof a wallet route asks for.
        responses.insert("402".into(), json!({"$ref": "#/components/responses/PaymentRequired"}));
    }
    if spec.price.is_paid() {
        responses.insert("202".into(), json!({"$ref": "#/components/responses/Pending"}));
        op.insert("x-payment-info".into(), payment_info(state, spec));
    }
    op.insert("responses".into(), Value::Object(responses));
    Value::Object(op)
}

/// Success answers other than `200 application/json`: (`METHOD /path`, status, media type).
pub const SUCCESS_EXCEPTIONS: &[(&str, &str, &str)] = &[
    ("GET /llms.txt", "200", "text/plain"),
    ("GET /metrics", "200", "application/openmetrics-text"),
    ("POST /compute/api-keys", "201", "application/json"),
];

/// Routes whose body may be left out: every member has a default (`days`, the IP `type`).
pub const OPTIONAL_BODIES: &[&str] =
    &["POST /api/volumes/{id}/renew", "POST /api/apps/{name}/ips", "POST /api/apps/{name}/ips/{id}/renew"];

/// The status and media type of `spec`'s success answer.
fn success(spec: &RouteSpec) -> (&'static str, &'static str) {
    let route = spec.route();
    SUCCESS_EXCEPTIONS.iter().find(|(r, ..)| *r == route).map_or(("200", "application/json"), |(_, s, m)| (*s, *m))
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
                    "request_id": {"type": "string", "description": "The request's `X-Request-Id`"},
                },
                "required": ["type", "title", "status", "request_id"],
            },
            "PaymentRequired": {
                "description": "Problem details of a 402 (or 412) challenge, with the x402 v1 members when an x402 rail is enabled",
                "allOf": [{"$ref": "#/components/schemas/Problem"}],
                "properties": {
                    "amount_usd": {"type": "string", "description": "The price in USD, a decimal string"},
                    "x402Version": {"const": 1},
                    "error": {"type": "string"},
                    "accepts": {"type": "array", "items": {"type": "object"}},
                },
            },
        },
        "responses": {
            "Problem": {
                "description": "An error, as RFC 9457 problem details",
                "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            },
            "PaymentRequired": {
                "description": "Payment required: `WWW-Authenticate: Payment` challenges (MPP), a `PAYMENT-REQUIRED` header (x402 v2) and a body that is both problem details and, when an x402 rail is enabled, the x402 v1 `{x402Version, error, accepts}` object",
                "headers": {
                    "WWW-Authenticate": {"schema": {"type": "string"}, "description": "One MPP challenge per offer"},
                    "PAYMENT-REQUIRED": {"schema": {"type": "string"}, "description": "base64 x402 v2 PaymentRequired"},
                },
                "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/PaymentRequired"}}},
            },
            "Pending": {
                "description": "The payment was broadcast but not confirmed yet; nothing was delivered",
                "content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {
                        "status": {"const": "pending"},
                        "reference": {"type": "string"},
                        "rail": {"type": "string"},
                        "detail": {"type": "string"},
                    },
                    "required": ["status", "reference", "rail"],
                }}},
            },
            "ServerError": {
                "description": "A server or provider error (502 provider, 504 upstream timeout, 500 internal), as problem details; a paid request that fails after settlement is credited",
                "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            },
        },
    })
}
