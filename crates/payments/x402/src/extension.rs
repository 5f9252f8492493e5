//! x402 v2 extensions the gateway speaks:
//! - `payment-identifier`: a client-chosen idempotency key carried in a v2 payload as
//!   `extensions["payment-identifier"].info.id` (16–128 characters of `[A-Za-z0-9_-]`). The
//!   server binds the id to a fingerprint of the request: same id and same request → the
//!   cached response; same id and another request → 409; `required: true` and no id → 400.
//! - `eip2612GasSponsoring`: the server's advertisement ([`eip2612_gas_sponsoring_advertisement`])
//!   that it pays the payer's Permit2 approval through an EIP-2612 `permit` the client signs
//!   (payments-x402.md §2 "EVM with Permit2"); chain crates parse and check the client's `info`.

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

/// The key of the EIP-2612 gas-sponsoring extension in `extensions` (of the 402 and of the
/// payload).
pub const EIP2612_GAS_SPONSORING: &str = "eip2612GasSponsoring";

/// The server's `eip2612GasSponsoring` advertisement for `PaymentRequired.extensions`, as the
/// x402 extension spec and @x402/evm 2.27 shape it: `info` holds only `description` and
/// `version` (the client merges its own fields into this `info`, so a field declared here
/// would overwrite the client's), and `schema` is the JSON schema of the client's `info`.
/// @x402/evm signs the EIP-2612 `permit(owner, Permit2, amount)` only when the 402 carries
/// this entry (and the client can read the chain).
pub fn eip2612_gas_sponsoring_advertisement() -> (&'static str, Value) {
    let address = |what: &str| json!({"type": "string", "pattern": "^0x[a-fA-F0-9]{40}$", "description": what});
    let number = |what: &str| json!({"type": "string", "pattern": "^[0-9]+$", "description": what});
    let value = json!({
        "info": {
            "description": "The facilitator accepts EIP-2612 gasless Permit to `Permit2` canonical contract.",
            "version": "1"
        },
        "schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "from": address("The address of the sender."),
                "asset": address("The address of the ERC-20 token contract."),
                "spender": address("The address of the spender (Canonical Permit2)."),
                "amount": number("The amount to approve (uint256), in token base units."),
                "nonce": number("The current EIP-2612 nonce of the sender."),
                "deadline": number("The timestamp (Unix seconds) at which the signature expires."),
                "signature": {"type": "string", "pattern": "^0x[a-fA-F0-9]+$",
                              "description": "The 65-byte concatenated signature (r, s, v) as a hex string."},
                "version": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)*$", "description": "Schema version identifier."}
            },
            "required": ["from", "asset", "spender", "amount", "nonce", "deadline", "signature", "version"]
        }
    });
    (EIP2612_GAS_SPONSORING, value)
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

        let (key, v) = eip2612_gas_sponsoring_advertisement();
        assert_eq!(key, "eip2612GasSponsoring");
        assert_eq!(v["info"]["version"], "1");
        assert_eq!(v["info"].as_object().unwrap().len(), 2, "only description and version: the client fills the rest");
        assert_eq!(v["schema"]["required"].as_array().unwrap().len(), 8);
        assert_eq!(v["schema"]["properties"]["version"]["pattern"], "^[0-9]+(\\.[0-9]+)*$");
    }
}
