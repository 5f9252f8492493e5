//! Reading a payment credential from the request headers:
//! - MPP: `Authorization: Payment …` (or `Payment-Authorization: Payment …`);
//! - x402 v2: `PAYMENT-SIGNATURE: <base64 JSON>`;
//! - x402 v1: `X-PAYMENT: <base64 JSON>`.

use axum::http::{HeaderMap, StatusCode, header};
use compute_core::payment::Credential;

use crate::problem::Problem;

/// The credential the request carries, if any.
///
/// # Errors
/// A 400 problem when an x402 header is not base64 JSON.
pub fn from_headers(headers: &HeaderMap) -> Result<Option<Credential>, Problem> {
    for name in [header::AUTHORIZATION.as_str(), "payment-authorization"] {
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok())
            && v.len() > 8
            && v[..8].eq_ignore_ascii_case("payment ")
        {
            return Ok(Some(Credential::Mpp { encoded: v.to_owned() }));
        }
    }
    for (name, version) in [("payment-signature", 2u8), ("x-payment", 1u8)] {
        if let Some(v) = headers.get(name) {
            let payload = v
                .to_str()
                .map_err(|e| e.to_string())
                .and_then(|v| compute_pay_x402::decode_header(v).map_err(|e| e.message().to_owned()));
            let payload = payload.map_err(|why| {
                Problem::new(StatusCode::BAD_REQUEST, "invalid_payload", "Malformed payment header")
                    .with_detail(format!("{name}: {why}"))
            })?;
            return Ok(Some(Credential::X402 { version, payload }));
        }
    }
    Ok(None)
}

/// Header asking to pay from the wallet's credit balance instead of on chain.
pub const USE_CREDITS: &str = "x-use-credits";

/// Whether the request asks to pay with credits (`X-Use-Credits: true`).
pub fn wants_credits(headers: &HeaderMap) -> bool {
    headers
        .get(USE_CREDITS)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true") || v.trim() == "1")
}

/// The `Idempotency-Key` header, or the x402 `payment-identifier` extension id.
///
/// # Errors
/// A 400 problem for a key that is empty, longer than 255 bytes or not printable ASCII.
pub fn idempotency_key(headers: &HeaderMap, credential: Option<&Credential>) -> Result<Option<String>, Problem> {
    let bad = |m: &str| {
        Problem::new(StatusCode::BAD_REQUEST, "invalid_input", "Invalid idempotency key").with_detail(m.to_owned())
    };
    if let Some(v) = headers.get("idempotency-key") {
        let v = v.to_str().map_err(|_| bad("Idempotency-Key must be printable ASCII"))?.trim();
        if v.is_empty() || v.len() > 255 || !v.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad("Idempotency-Key must be 1-255 printable ASCII characters"));
        }
        return Ok(Some(v.to_owned()));
    }
    if let Some(Credential::X402 { payload, .. }) = credential
        && let Some(id) = payload.pointer("/extensions/payment-identifier/info/id")
    {
        let id = id.as_str().unwrap_or_default();
        let ok =
            (16..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(bad("payment-identifier id must be 16-128 characters of A-Z, a-z, 0-9, - and _"));
        }
        return Ok(Some(format!("x402:{id}")));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn reads_each_protocol() {
        let mut h = HeaderMap::new();
        assert!(from_headers(&h).unwrap().is_none());
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Payment eyJ4Ijox"));
        assert!(matches!(from_headers(&h).unwrap(), Some(Credential::Mpp { .. })));
        let mut h = HeaderMap::new();
        h.insert("payment-signature", HeaderValue::from_static("eyJ4NDAyVmVyc2lvbiI6Mn0="));
        assert!(matches!(from_headers(&h).unwrap(), Some(Credential::X402 { version: 2, .. })));
        let mut h = HeaderMap::new();
        h.insert("x-payment", HeaderValue::from_static("!!!"));
        assert_eq!(from_headers(&h).unwrap_err().status, 400);
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        assert!(from_headers(&h).unwrap().is_none());
    }

    #[test]
    fn idempotency_keys_are_validated() {
        let mut h = HeaderMap::new();
        h.insert("idempotency-key", HeaderValue::from_static("abc-123"));
        assert_eq!(idempotency_key(&h, None).unwrap().as_deref(), Some("abc-123"));
        h.insert("idempotency-key", HeaderValue::from_static(" "));
        assert!(idempotency_key(&h, None).is_err());
        let cred = Credential::X402 {
            version: 2,
            payload: serde_json::json!({"extensions": {"payment-identifier": {"info": {"id": "order_0123456789abcdef"}}}}),
        };
        assert_eq!(
            idempotency_key(&HeaderMap::new(), Some(&cred)).unwrap().as_deref(),
            Some("x402:order_0123456789abcdef")
        );
        let short = Credential::X402 {
            version: 2,
            payload: serde_json::json!({"extensions": {"payment-identifier": {"info": {"id": "short"}}}}),
        };
        assert!(idempotency_key(&HeaderMap::new(), Some(&short)).is_err());
    }
}
