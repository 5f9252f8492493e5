//! The `SettleResponse` carried (base64) in `PAYMENT-RESPONSE` (v2) and `X-PAYMENT-RESPONSE` (v1).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The outcome of a settlement, as sent to the client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettleResponse {
    /// Whether the payment settled.
    pub success: bool,
    /// Reason code when `success` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_reason: Option<String>,
    /// Human-readable detail when `success` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The verified payer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
    /// Transaction hash or signature; empty when settlement failed.
    pub transaction: String,
    /// Network: CAIP-2 in v2, the v1 name in v1.
    pub network: String,
    /// Amount settled in base units (v2, optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    /// Extensions data (v2, optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Map<String, Value>>,
}

impl SettleResponse {
    /// A successful settlement of `transaction` on `network` by `payer`.
    pub fn success(transaction: impl Into<String>, network: impl Into<String>, payer: impl Into<String>) -> Self {
        SettleResponse {
            success: true,
            error_reason: None,
            error_message: None,
            payer: Some(payer.into()),
            transaction: transaction.into(),
            network: network.into(),
            amount: None,
            extensions: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn success_and_failure_shapes() {
        let ok = SettleResponse::success("0xabc", "eip155:8453", "0x857b06519e91e3a54538791bdbb0e22373e36b66");
        assert_eq!(
            serde_json::to_value(&ok).unwrap(),
            json!({"success": true, "payer": "0x857b06519e91e3a54538791bdbb0e22373e36b66", "transaction": "0xabc", "network": "eip155:8453"})
        );
        let failed = json!({"success": false, "errorReason": "insufficient_funds", "transaction": "", "network": "base", "amount": "10"});
        let f: SettleResponse = serde_json::from_value(failed.clone()).unwrap();
        assert_eq!(f.error_reason.as_deref(), Some("insufficient_funds"));
        assert_eq!(serde_json::to_value(&f).unwrap(), failed);
    }
}
