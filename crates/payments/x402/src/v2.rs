//! x402 version 2 types: `PaymentRequirements` (CAIP-2 network, `amount`), the
//! `PaymentRequired` challenge carried in the `PAYMENT-REQUIRED` header, and the
//! `PaymentPayload` the client sends in `PAYMENT-SIGNATURE`.

use compute_core::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Reason;

/// The protocol version of this module.
pub const VERSION: u8 = 2;

/// One way to pay (an entry of `accepts`, and the `accepted` echo of a payload).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequirements {
    /// Scheme, e.g. `exact`.
    pub scheme: String,
    /// CAIP-2 network id, e.g. `eip155:8453`.
    pub network: String,
    /// Amount in the asset's base units, as a decimal string.
    pub amount: String,
    /// Token contract (EVM) or mint (Solana).
    pub asset: String,
    /// Recipient.
    pub pay_to: String,
    /// How long the payer's proof must stay valid for the server to settle it.
    pub max_timeout_seconds: u64,
    /// Scheme-specific data: `{name, version}` (the EIP-712 domain) on EVM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Value>,
}

/// The protected resource (`resource` of `PaymentRequired` and `PaymentPayload`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceInfo {
    /// Absolute URL of the resource.
    pub url: String,
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// MIME type of the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
}

/// The v2 challenge, base64-encoded in the `PAYMENT-REQUIRED` response header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequired {
    /// Always `2`.
    pub x402_version: u8,
    /// Why payment is required (e.g. the reason the previous proof failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The resource being paid for.
    pub resource: ResourceInfo,
    /// The ways to pay, one per rail / network / asset.
    pub accepts: Vec<Value>,
    /// Extensions the server supports (`payment-identifier`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Map<String, Value>>,
}

/// The v2 proof, base64-encoded in the `PAYMENT-SIGNATURE` request header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPayload {
    /// Always `2`.
    pub x402_version: u8,
    /// The resource, as the client saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceInfo>,
    /// A copy of the chosen `PaymentRequirements`.
    pub accepted: PaymentRequirements,
    /// The scheme-specific proof (see [`crate::exact_evm::ExactEvmPayload`]).
    pub payload: Value,
    /// Extensions echoed and filled in by the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Map<String, Value>>,
}

impl PaymentPayload {
    /// Decodes a v2 payload from its JSON.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] with reason `invalid_x402_version` when `x402Version` is
    /// not 2, `invalid_payload` when the JSON does not have the v2 shape.
    pub fn from_json(json: &Value) -> Result<Self> {
        check_version(json, VERSION)?;
        Self::deserialize(json).map_err(|e| {
            Error::new(ErrorKind::InvalidInput, format!("malformed x402 v2 payment payload: {e}"))
                .with_reason(Reason::InvalidPayload)
        })
    }
}

/// Checks the `x402Version` of a payload JSON.
pub(crate) fn check_version(json: &Value, expected: u8) -> Result<()> {
    match json.get("x402Version").and_then(Value::as_u64) {
        Some(v) if v == u64::from(expected) => Ok(()),
        Some(v) => Err(Error::new(ErrorKind::InvalidInput, format!("x402Version {v} where {expected} was expected"))
            .with_reason(Reason::InvalidX402Version)),
        None => Err(Error::new(ErrorKind::InvalidInput, "x402Version is missing or not a number")
            .with_reason(Reason::InvalidX402Version)),
    }
}

/// Checks that a v2 payload's `resource` is the request's: the same URL and the same
/// description (the route's summary), so a payment made for one route is refused on another
/// route of the same URL and price (e.g. `GET` and `DELETE` of one machine). v1 payloads carry
/// no resource and cannot be bound this way.
///
/// # Errors
/// [`ErrorKind::PaymentRequired`] with reason `invalid_payment_requirements`.
pub fn check_resource(resource: Option<&ResourceInfo>, url: &str, description: &str) -> Result<()> {
    if resource.is_some_and(|r| r.url == url && r.description.as_deref() == Some(description)) {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::PaymentRequired,
        format!("the payment is for another resource than {url} ({description})"),
    )
    .with_reason(Reason::InvalidPaymentRequirements.as_str()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec_payload() -> Value {
        json!({
            "x402Version": 2,
            "resource": {"url": "https://api.example.com/premium-data", "description": "Access to premium market data", "mimeType": "application/json"},
            "accepted": {
                "scheme": "exact", "network": "eip155:84532", "amount": "10000",
                "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
                "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
                "maxTimeoutSeconds": 60, "extra": {"name": "USDC", "version": "2"}
            },
            "payload": {
                "signature": "0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c",
                "authorization": {
                    "from": "0x857b06519E91e3A54538791bDbb0E22373e36b66", "to": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
                    "value": "10000", "validAfter": "1740672089", "validBefore": "1740672154",
                    "nonce": "0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480"
                }
            },
            "extensions": {}
        })
    }

    #[test]
    fn spec_payload_round_trips() {
        let json = spec_payload();
        let p = PaymentPayload::from_json(&json).unwrap();
        assert_eq!(p.accepted.amount, "10000");
        assert_eq!(p.accepted.pay_to, "0x209693Bc6afc0C5328bA36FaF03C514EF312287C");
        assert_eq!(p.accepted.max_timeout_seconds, 60);
        assert_eq!(p.resource.as_ref().unwrap().mime_type.as_deref(), Some("application/json"));
        assert_eq!(serde_json::to_value(&p).unwrap(), json);
    }

    #[test]
    fn wrong_version_and_shape_are_invalid_input() {
        let mut v1 = spec_payload();
        v1["x402Version"] = json!(1);
        let e = PaymentPayload::from_json(&v1).unwrap_err();
        assert_eq!((e.kind(), e.reason()), (ErrorKind::InvalidInput, Some("invalid_x402_version")));
        let mut no_accepted = spec_payload();
        no_accepted.as_object_mut().unwrap().remove("accepted");
        let e = PaymentPayload::from_json(&no_accepted).unwrap_err();
        assert_eq!((e.kind(), e.reason()), (ErrorKind::InvalidInput, Some("invalid_payload")));
        let e = PaymentPayload::from_json(&json!({"x402Version": "2"})).unwrap_err();
        assert_eq!(e.reason(), Some("invalid_x402_version"));
    }

    #[test]
    fn payment_required_shape() {
        let pr = PaymentRequired {
            x402_version: VERSION,
            error: None,
            resource: ResourceInfo {
                url: "https://g.example/api/machines".into(),
                description: Some("d".into()),
                mime_type: None,
            },
            accepts: vec![json!({"scheme": "exact"})],
            extensions: None,
        };
        assert_eq!(
            serde_json::to_value(&pr).unwrap(),
            json!({"x402Version": 2, "resource": {"url": "https://g.example/api/machines", "description": "d"}, "accepts": [{"scheme": "exact"}]})
        );
    }
}
