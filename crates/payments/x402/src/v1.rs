//! x402 version 1 types: `PaymentRequirements` (v1 network names, `maxAmountRequired`,
//! resource fields inside each entry), the JSON body of a v1 402 and the `X-PAYMENT` payload.

use compute_core::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Reason;

/// The protocol version of this module.
pub const VERSION: u8 = 1;

/// One way to pay (an entry of `accepts`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequirements {
    /// Scheme, e.g. `exact`.
    pub scheme: String,
    /// v1 network name, e.g. `base-sepolia` (see [`crate::network`]).
    pub network: String,
    /// Amount in base units, as a decimal string.
    pub max_amount_required: String,
    /// Token contract or mint.
    pub asset: String,
    /// Recipient.
    pub pay_to: String,
    /// Full URL of the resource.
    pub resource: String,
    /// Human-readable description.
    pub description: String,
    /// MIME type of the response.
    pub mime_type: String,
    /// JSON schema of the response, if published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// How long the payer's proof must stay valid for the server to settle it.
    pub max_timeout_seconds: u64,
    /// Scheme-specific data: `{name, version}` on EVM, `{feePayer}` on Solana.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Value>,
}

/// The JSON body of a v1 402.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequired {
    /// Always `1`.
    pub x402_version: u8,
    /// Why payment is required.
    pub error: String,
    /// The ways to pay.
    pub accepts: Vec<Value>,
}

/// The v1 proof, base64-encoded in the `X-PAYMENT` request header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPayload {
    /// Always `1`.
    pub x402_version: u8,
    /// Scheme, e.g. `exact`.
    pub scheme: String,
    /// v1 network name.
    pub network: String,
    /// The scheme-specific proof (see [`crate::exact_evm::ExactEvmPayload`]).
    pub payload: Value,
}

impl PaymentPayload {
    /// Decodes a v1 payload from its JSON.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] with reason `invalid_x402_version` when `x402Version` is
    /// not 1, `invalid_payload` when the JSON does not have the v1 shape.
    pub fn from_json(json: &Value) -> Result<Self> {
        crate::v2::check_version(json, VERSION)?;
        Self::deserialize(json).map_err(|e| {
            Error::new(ErrorKind::InvalidInput, format!("malformed x402 v1 payment payload: {e}"))
                .with_reason(Reason::InvalidPayload)
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn requirements_round_trip_in_camel_case() {
        let json = json!({
            "scheme": "exact", "network": "base-sepolia", "maxAmountRequired": "10000",
            "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
            "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
            "resource": "https://g.example/api/machines", "description": "Create a machine",
            "mimeType": "application/json", "maxTimeoutSeconds": 300,
            "extra": {"name": "USDC", "version": "2"}
        });
        let r: PaymentRequirements = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(r.max_amount_required, "10000");
        assert_eq!(r.output_schema, None);
        assert_eq!(serde_json::to_value(&r).unwrap(), json);
    }

    #[test]
    fn payload_round_trips_and_checks_version() {
        let json = json!({
            "x402Version": 1, "scheme": "exact", "network": "base",
            "payload": {"signature": "0x00", "authorization": {}}
        });
        let p = PaymentPayload::from_json(&json).unwrap();
        assert_eq!((p.scheme.as_str(), p.network.as_str()), ("exact", "base"));
        assert_eq!(serde_json::to_value(&p).unwrap(), json);
        let mut v2 = json.clone();
        v2["x402Version"] = json!(2);
        assert_eq!(PaymentPayload::from_json(&v2).unwrap_err().reason(), Some("invalid_x402_version"));
        let e = PaymentPayload::from_json(&json!({"x402Version": 1, "scheme": "exact"})).unwrap_err();
        assert_eq!((e.kind(), e.reason()), (ErrorKind::InvalidInput, Some("invalid_payload")));
    }
}
