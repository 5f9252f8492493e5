//! x402 HTTP headers: their names and their encoding, standard base64 (with padding) of UTF-8
//! JSON.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use compute_core::payment::Credential;
use compute_core::{Error, ErrorKind, Result};
use serde::Serialize;
use serde_json::Value;

use crate::Reason;

/// v2 response header carrying the base64 `PaymentRequired` challenge.
pub const PAYMENT_REQUIRED: &str = "PAYMENT-REQUIRED";
/// v2 request header carrying the base64 `PaymentPayload`.
pub const PAYMENT_SIGNATURE: &str = "PAYMENT-SIGNATURE";
/// v2 response header carrying the base64 `SettleResponse`.
pub const PAYMENT_RESPONSE: &str = "PAYMENT-RESPONSE";
/// v1 request header carrying the base64 `PaymentPayload`.
pub const X_PAYMENT: &str = "X-PAYMENT";
/// v1 response header carrying the base64 `SettleResponse`.
pub const X_PAYMENT_RESPONSE: &str = "X-PAYMENT-RESPONSE";

/// Largest header value [`decode_header`] accepts: 16 KiB.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Encodes `value` as the value of an x402 header: base64 (standard alphabet, padded) of its
/// JSON.
pub fn encode_header<T: Serialize + ?Sized>(value: &T) -> String {
    // Serialising our own `Serialize` types to JSON cannot fail (no maps with non-string keys).
    let json = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
    STANDARD.encode(json)
}

/// Decodes an x402 header value (surrounding whitespace ignored) into its JSON object.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] with reason `invalid_payload` when the value is longer than
/// [`MAX_HEADER_BYTES`], is not standard padded base64, or does not hold a UTF-8 JSON object.
pub fn decode_header(value: &str) -> Result<Value> {
    let invalid = |msg: &str| Error::new(ErrorKind::InvalidInput, msg.to_owned()).with_reason(Reason::InvalidPayload);
    if value.len() > MAX_HEADER_BYTES {
        return Err(invalid("x402 header is larger than 16 KiB"));
    }
    let bytes = STANDARD.decode(value.trim()).map_err(|_| invalid("x402 header is not valid base64"))?;
    let json: Value = serde_json::from_slice(&bytes).map_err(|_| invalid("x402 header is not UTF-8 JSON"))?;
    if !json.is_object() {
        return Err(invalid("x402 header JSON is not an object"));
    }
    Ok(json)
}

/// Decodes a `PAYMENT-SIGNATURE` or `X-PAYMENT` header value into a [`Credential::X402`], the
/// version taken from the payload's `x402Version`.
///
/// # Errors
/// As [`decode_header`]; reason `invalid_x402_version` when `x402Version` is not 1 or 2.
pub fn decode_credential(value: &str) -> Result<Credential> {
    let payload = decode_header(value)?;
    let version = match payload.get("x402Version").and_then(Value::as_u64) {
        Some(1) => 1,
        Some(2) => 2,
        _ => {
            return Err(Error::new(ErrorKind::InvalidInput, "x402Version must be 1 or 2")
                .with_reason(Reason::InvalidX402Version));
        }
    };
    Ok(Credential::X402 { version, payload })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn round_trip_uses_padded_standard_base64() {
        let v = json!({"x402Version": 2, "accepts": [], "note": "ü>?"});
        let h = encode_header(&v);
        assert!(h.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)), "{h}");
        assert_eq!(h.len() % 4, 0);
        assert_eq!(decode_header(&h).unwrap(), v);
        assert_eq!(decode_header(&format!(" {h}\t")).unwrap(), v);
        // `btoa('{"a":1}')` as a browser would send it.
        assert_eq!(decode_header("eyJhIjoxfQ==").unwrap(), json!({"a": 1}));
    }

    #[test]
    fn bad_headers_are_invalid_payload() {
        let too_big = STANDARD.encode(format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_HEADER_BYTES)));
        for bad in [
            "not base64!",
            "eyJhIjoxfQ",       // padding missing
            "eyJhIjoxfQ==eyJh", // trailing garbage
            &STANDARD.encode("{not json"),
            &STANDARD.encode([0xff, 0xfe, 0x7b]),
            &STANDARD.encode("[1,2]"),
            "",
            &too_big,
        ] {
            let e = decode_header(bad).unwrap_err();
            assert_eq!((e.kind(), e.reason()), (ErrorKind::InvalidInput, Some("invalid_payload")), "{bad:.40}");
        }
    }

    #[test]
    fn credentials_take_their_version_from_the_payload() {
        let v2 = encode_header(&json!({"x402Version": 2, "accepted": {}, "payload": {}}));
        assert!(matches!(decode_credential(&v2).unwrap(), Credential::X402 { version: 2, .. }));
        let v1 = encode_header(&json!({"x402Version": 1, "scheme": "exact", "network": "base", "payload": {}}));
        assert!(matches!(decode_credential(&v1).unwrap(), Credential::X402 { version: 1, .. }));
        let v3 = encode_header(&json!({"x402Version": 3}));
        assert_eq!(decode_credential(&v3).unwrap_err().reason(), Some("invalid_x402_version"));
    }
}
