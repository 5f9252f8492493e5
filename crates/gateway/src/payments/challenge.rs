//! One `402 Payment Required` offering every enabled rail:
//! - one `WWW-Authenticate: Payment …` header per MPP offer;
//! - the x402 v2 `PAYMENT-REQUIRED` header (base64 JSON `PaymentRequired`), whose
//!   `extensions` add the route's `bazaar` discovery declaration to the offers' own;
//! - a JSON body that is both RFC 9457 problem details (for MPP) and the x402 v1
//!   `{x402Version: 1, error, accepts}` object (each entry with the route's `outputSchema`).
//!
//! The body is `application/problem+json`; x402 v1 clients read it as JSON.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use compute_core::payment::{Charge, Offer};
use serde_json::Value;

use sha2::{Digest, Sha256};

use super::Rails;
use super::issued::Issued;
use crate::problem::{PROBLEM_JSON, Problem};

/// MPP problem type base.
pub const MPP_PROBLEMS: &str = "https://paymentauth.org/problems/";

/// The rail a request body asks to pay on: its top-level `network` string (`base`, `solana`,
/// `megaeth`, `tempo`: a rail id, as x402Compute's bodies carry it), if any.
fn requested_network(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let value: Value = serde_json::from_slice(body).ok()?;
    value.get("network")?.as_str().map(str::to_owned)
}

/// The 402 for `charge` (only the rail a body's `network` names, when it names one; a 400 when
/// no enabled rail has that id), with `reason` (an MPP problem code such as `payment-required` or
/// `invalid-challenge`, or the x402 reason a payment was refused with), `detail`, and extra
/// members for the problem body (`fields`).
///
/// The status is the protocol's for `reason` ([`compute_pay_x402::challenge_status`]): 402,
/// except 412 for `permit2_allowance_required` (an EVM Permit2 payer without approval or
/// sponsoring permit), still with every challenge header.
///
/// Answers are built once per second and charge and then copied ([`super::issued`]).
pub fn payment_required(
    rails: &Rails,
    charge: &Charge,
    reason: &str,
    detail: &str,
    fields: &[(&'static str, String)],
) -> Response {
    let key = answer_key(charge, reason, detail, fields);
    let second = chrono::Utc::now().timestamp();
    if let Some(hit) = rails.issued().get(second, &key) {
        return hit.response();
    }
    match build(rails, charge, reason, detail, fields) {
        Ok(issued) => {
            // Memoised only when built within one second: then it is what any build this
            // second gives.
            if chrono::Utc::now().timestamp() == second {
                rails.issued().put(second, key, &issued);
            }
            issued.response()
        }
        Err(other) => other,
    }
}

/// SHA-256 over everything a 402 depends on besides the time (length-prefixed fields).
fn answer_key(charge: &Charge, reason: &str, detail: &str, fields: &[(&'static str, String)]) -> [u8; 32] {
    let mut h = Sha256::new();
    let amount = charge.amount.to_string();
    let parts = [charge.route.as_str(), &charge.resource_url, &charge.description, &amount, reason, detail];
    let named = fields.iter().flat_map(|(k, v)| [k.as_bytes(), v.as_bytes()]);
    for part in parts.iter().map(|p| p.as_bytes()).chain([charge.body.as_slice()]).chain(named) {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.finalize().into()
}

/// The 402 for `charge`, or another answer (400 unknown network, 503 no offer) as `Err`.
fn build(
    rails: &Rails,
    charge: &Charge,
    reason: &str,
    detail: &str,
    fields: &[(&'static str, String)],
) -> Result<Issued, Response> {
    let wanted = requested_network(&charge.body);
    let chosen: Vec<_> = rails.all().iter().filter(|r| wanted.as_deref().is_none_or(|n| r.rail().rail == n)).collect();
    if let Some(n) = &wanted
        && chosen.is_empty()
    {
        let names: Vec<&str> = rails.all().iter().map(|r| r.rail().rail.as_str()).collect();
        return Err(Problem::new(StatusCode::BAD_REQUEST, "invalid-network", "Unknown payment network")
            .with_detail(format!("network {n:?} is not enabled here; use one of: {}", names.join(", ")))
            .into_response());
    }
    let mut offers = Vec::new();
    for rail in chosen {
        match rail.offers(charge) {
            Ok(o) => offers.extend(o),
            Err(e) => tracing::error!(rail = %rail.rail().rail, error = %e, "rail could not make an offer"),
        }
    }
    if offers.is_empty() {
        return Err(Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "No payment rail available")
            .with_detail("no payment rail could make an offer for this request")
            .into_response());
    }
    let x402 = offers.iter().any(|o| matches!(o, Offer::X402 { .. }));
    let status =
        StatusCode::from_u16(compute_pay_x402::challenge_status(Some(reason))).unwrap_or(StatusCode::PAYMENT_REQUIRED);
    let mut problem = Problem {
        kind: format!("{MPP_PROBLEMS}{reason}"),
        title: status.canonical_reason().unwrap_or("Payment Required").to_owned(),
        status: status.as_u16(),
        detail: Some(detail.to_owned()),
        extensions: Default::default(),
    }
    .with("amount_usd", charge.amount.to_string());
    for (k, v) in fields {
        problem = problem.with(k, v.clone());
    }
    let discovery = crate::routes::bazaar::for_route(&charge.route);
    let output_schema = discovery.map(|d| &d.v1_output_schema);
    if x402 && let Value::Object(v1) = compute_pay_x402::payment_required_v1_body(detail, &offers, output_schema) {
        problem.extensions.extend(v1);
    }
    let body = serde_json::to_vec(&problem).map_err(|e| {
        tracing::error!(error = %e, "cannot encode the 402 body");
        Problem::from_status(StatusCode::INTERNAL_SERVER_ERROR).into_response()
    })?;
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for offer in &offers {
        if let Offer::Mpp { www_authenticate } = offer
            && let Ok(v) = HeaderValue::from_str(www_authenticate)
        {
            headers.append(header::WWW_AUTHENTICATE, v);
        }
    }
    if x402 {
        let mut required =
            compute_pay_x402::payment_required_v2_object(&charge.resource_url, &charge.description, &offers);
        required.error = Some(detail.to_owned());
        let bazaar = discovery.map(|d| &d.v2);
        if let Ok(v) = HeaderValue::from_str(&compute_pay_x402::encode_payment_required(&required, bazaar.as_slice())) {
            headers.insert("payment-required", v);
        }
    }
    Ok(Issued { status: problem.status_code(), headers, body: body.into() })
}
