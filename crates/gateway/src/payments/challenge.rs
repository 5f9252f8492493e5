//! One `402 Payment Required` offering every enabled rail:
//! - one `WWW-Authenticate: Payment …` header per MPP offer;
//! - the x402 v2 `PAYMENT-REQUIRED` header (base64 JSON `PaymentRequired`);
//! - a JSON body that is both RFC 9457 problem details (for MPP) and the x402 v1
//!   `{x402Version: 1, error, accepts}` object.
//!
//! The body is `application/problem+json`; x402 v1 clients read it as JSON.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use compute_core::payment::{Charge, Offer};
use serde_json::{Value, json};

use super::Rails;
use crate::problem::Problem;

/// MPP problem type base.
pub const MPP_PROBLEMS: &str = "https://paymentauth.org/problems/";

/// The 402 for `charge`, with `reason` (an MPP problem code such as `payment-required` or
/// `invalid-challenge`) and `detail`.
pub fn payment_required(rails: &Rails, charge: &Charge, reason: &str, detail: &str) -> Response {
    let mut www = Vec::new();
    let (mut v2, mut v1) = (Vec::new(), Vec::new());
    for rail in rails.all() {
        match rail.offers(charge) {
            Ok(offers) => {
                for offer in offers {
                    match offer {
                        Offer::Mpp { www_authenticate } => www.push(www_authenticate),
                        Offer::X402 { v2: a, v1: b } => {
                            v2.push(a);
                            v1.extend(b);
                        }
                        _ => {}
                    }
                }
            }
            Err(e) => tracing::error!(rail = %rail.rail().rail, error = %e, "rail could not make an offer"),
        }
    }
    if www.is_empty() && v2.is_empty() {
        return Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "No payment rail available")
            .with_detail("no payment rail could make an offer for this request")
            .into_response();
    }
    let mut problem = Problem {
        kind: format!("{MPP_PROBLEMS}{reason}"),
        title: "Payment Required".to_owned(),
        status: 402,
        detail: Some(detail.to_owned()),
        extensions: Default::default(),
    }
    .with("amount_usd", charge.amount.to_string());
    if !v2.is_empty() {
        problem = problem.with("x402Version", 1).with("error", detail.to_owned()).with("accepts", Value::Array(v1));
    }
    let mut resp = problem.into_response();
    *resp.status_mut() = StatusCode::PAYMENT_REQUIRED;
    let headers = resp.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for value in www {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.append(header::WWW_AUTHENTICATE, v);
        }
    }
    if !v2.is_empty() {
        let required = json!({
            "x402Version": 2,
            "error": detail,
            "resource": {"url": charge.resource_url, "description": charge.description, "mimeType": "application/json"},
            "accepts": v2,
        });
        let encoded = base64::engine::general_purpose::STANDARD.encode(required.to_string());
        if let Ok(v) = HeaderValue::from_str(&encoded) {
            headers.insert("payment-required", v);
        }
    }
    resp
}
