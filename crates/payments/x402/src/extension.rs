//! The `payment-identifier` extension: a client-chosen idempotency key carried in a v2
//! payload as `extensions["payment-identifier"].info.id` (16–128 characters of
//! `[A-Za-z0-9_-]`).
//!
//! The server binds the id to a fingerprint of the request: same id and same request → the
//! cached response; same id and another request → 409; `required: true` and no id → 400.

use compute_core::{Error, ErrorKind, Result};
use serde_json::{Value, json};

use crate::Reason;

/// The extension's key in `extensions`.
pub const PAYMENT_IDENTIFIER: &str = "payment-identifier";

/// Shortest accepted id.
pub const MIN_ID_LEN: usize = 16;
/// Longest accepted id.
pub const MAX_ID_LEN: usize = 128;

/// The payment identifier of a v2 payment payload JSON, `None` when the extension or its
/// `info.id` is absent.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] with reason `invalid_payload` when the id is present but is not
/// a string of 16–128 characters of `[A-Za-z0-9_-]`.
pub fn payment_identifier(payload: &Value) -> Result<Option<String>> {
    let Some(id) = payload
        .get("extensions")
        .and_then(|e| e.get(PAYMENT_IDENTIFIER))
        .and_then(|p| p.get("info"))
        .and_then(|i| i.get("id"))
    else {
        return Ok(None);
    };
    if id.is_null() {
        return Ok(None);
    }
    let id = id.as_str().ok_or_else(|| invalid("payment identifier is not a string"))?;
    validate_payment_identifier(id)?;
    Ok(Some(id.to_owned()))
}

/// Checks the id format: 16–128 characters, each alphanumeric ASCII, `-` or `_`.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] with reason `invalid_payload`.
pub fn validate_payment_identifier(id: &str) -> Result<()> {
    if !(MIN_ID_LEN..=MAX_ID_LEN).contains(&id.len()) {
        return Err(invalid("payment identifier must be 16 to 128 characters"));
    }
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(invalid("payment identifier may only hold letters, digits, '-' and '_'"));
    }
    Ok(())
}

/// The `(key, value)` a server puts in `PaymentRequired.extensions` to advertise the
/// extension; `required` makes the id mandatory.
pub fn payment_identifier_advertisement(required: bool) -> (&'static str, Value) {
    let value = json!({
        "info": {"required": required},
        "schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "required": {"type": "boolean"},
                "id": {"type": "string", "minLength": MIN_ID_LEN, "maxLength": MAX_ID_LEN}
            },
            "required": ["required"]
        }
    });
    (PAYMENT_IDENTIFIER, value)
}

fn invalid(msg: &str) -> Error {
    Error::new(ErrorKind::InvalidInput, msg.to_owned()).with_reason(Reason::InvalidPayload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload_with(id: Value) -> Value {
        json!({
            "x402Version": 2,
            "accepted": {},
            "payload": {},
            "extensions": {"payment-identifier": {"info": {"required": false, "id": id}, "schema": {}}}
        })
    }

    #[test]
    fn extracts_a_valid_id() {
        let id = "pay_7d5d747be160e280504c099d984bcfe0";
        assert_eq!(payment_identifier(&payload_with(json!(id))).unwrap().as_deref(), Some(id));
        for ok in ["a".repeat(16), "Z-_9".repeat(32)] {
            assert_eq!(payment_identifier(&payload_with(json!(ok))).unwrap(), Some(ok.clone()));
        }
    }

    #[test]
    fn absent_is_none() {
        assert_eq!(payment_identifier(&json!({"x402Version": 2})).unwrap(), None);
        assert_eq!(payment_identifier(&json!({"extensions": {}})).unwrap(), None);
        let no_id = json!({"extensions": {"payment-identifier": {"info": {"required": true}}}});
        assert_eq!(payment_identifier(&no_id).unwrap(), None);
        assert_eq!(payment_identifier(&payload_with(Value::Null)).unwrap(), None);
    }

    #[test]
    fn malformed_ids_are_invalid_input() {
        for bad in [
            json!("a".repeat(15)),
            json!("a".repeat(129)),
            json!("pay 7d5d747be160e280504c"),
            json!("pay.7d5d747be160e280504c"),
            json!("päy_7d5d747be160e280504c"),
            json!(1234567890123456789u64),
            json!(["pay_7d5d747be160e280504c"]),
        ] {
            let e = payment_identifier(&payload_with(bad.clone())).unwrap_err();
            assert_eq!((e.kind(), e.reason()), (ErrorKind::InvalidInput, Some("invalid_payload")), "{bad}");
        }
    }

    #[test]
    fn advertisement_shape() {
        let (key, v) = payment_identifier_advertisement(true);
        assert_eq!(key, "payment-identifier");
        assert_eq!(v["info"], json!({"required": true}));
        assert_eq!(v["schema"]["properties"]["id"]["minLength"], 16);
    }
}
