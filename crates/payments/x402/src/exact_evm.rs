//! The scheme payload of `exact` on EVM with EIP-3009 (`transferWithAuthorization`), as it
//! travels in `payload`: every number is a decimal string, addresses and the nonce are hex.
//! Parsing into chain types and checking it is the chain crate's job.

use compute_core::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Reason;

/// The EIP-712 primary type the payer signs.
pub const TRANSFER_WITH_AUTHORIZATION_TYPE: &str = "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)";

/// `payload` of an `exact` EVM payment: the signed EIP-3009 authorization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExactEvmPayload {
    /// The signature: 65 bytes `r‖s‖v` for an EOA, anything for an EIP-1271 wallet (hex).
    pub signature: String,
    /// The authorization that was signed.
    pub authorization: Eip3009Authorization,
}

/// The fields of `TransferWithAuthorization`, as strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Eip3009Authorization {
    /// Payer address.
    pub from: String,
    /// Recipient address (must be `payTo`).
    pub to: String,
    /// Amount in base units (decimal string).
    pub value: String,
    /// Unix time (decimal string) from which the authorization is valid.
    pub valid_after: String,
    /// Unix time (decimal string) before which it must be used.
    pub valid_before: String,
    /// Random 32-byte nonce (hex).
    pub nonce: String,
}

impl ExactEvmPayload {
    /// Decodes the `payload` object of an x402 payment.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] with reason `invalid_payload` when the shape is wrong.
    pub fn from_json(json: &Value) -> Result<Self> {
        Self::deserialize(json).map_err(|e| {
            Error::new(ErrorKind::InvalidInput, format!("malformed exact EVM payload: {e}"))
                .with_reason(Reason::InvalidPayload)
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn decodes_the_spec_example_and_rejects_numbers() {
        let json = json!({
            "signature": "0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c",
            "authorization": {
                "from": "0x857b06519E91e3A54538791bDbb0E22373e36b66", "to": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
                "value": "10000", "validAfter": "1740672089", "validBefore": "1740672154",
                "nonce": "0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480"
            }
        });
        let p = ExactEvmPayload::from_json(&json).unwrap();
        assert_eq!(p.authorization.valid_before, "1740672154");
        assert_eq!(serde_json::to_value(&p).unwrap(), json);
        let mut numeric = json.clone();
        numeric["authorization"]["value"] = json!(10000);
        let e = ExactEvmPayload::from_json(&numeric).unwrap_err();
        assert_eq!((e.kind(), e.reason()), (ErrorKind::InvalidInput, Some("invalid_payload")));
    }
}
