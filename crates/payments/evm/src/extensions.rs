//! What a Permit2 rail adds to the 402 around its offers (payments-x402.md §1 "Extensions"
//! and §2 "EVM with Permit2"; the x402 `eip2612GasSponsoring` extension spec):
//! - [`payment_required_extensions`]: `PaymentRequired.extensions.eip2612GasSponsoring` when
//!   any offer is `exact` with `assetTransferMethod: "permit2"`. @x402/evm 2.27 signs the
//!   EIP-2612 permit that lets the gateway pay the payer's Permit2 approval only when the
//!   server advertised it there (and the client can read the chain);
//! - [`challenge_status`]: the HTTP status of a challenge answering a failed payment, 412 for
//!   `permit2_allowance_required` as the x402 TypeScript server answers.

use compute_core::payment::Offer;
use compute_pay_x402::Reason;
use serde_json::{Map, Value, json};

/// The key of the EIP-2612 gas-sponsoring extension in `extensions` (402 and payload).
pub const EIP2612_GAS_SPONSORING: &str = "eip2612GasSponsoring";

/// HTTP status of the challenge when the payer has not approved Permit2 and sent no
/// sponsoring permit (`permit2_allowance_required`): 412 Precondition Failed, still with a
/// fresh `PAYMENT-REQUIRED`.
pub const PERMIT2_ALLOWANCE_REQUIRED_STATUS: u16 = 412;

/// The server's `eip2612GasSponsoring` advertisement: `info` holds only `description` and
/// `version` (the client fills in the rest: a server-declared field would win the merge and
/// erase the client's), `schema` is the JSON schema of the client's `info`.
pub fn eip2612_gas_sponsoring_advertisement() -> Value {
    let address = |what: &str| json!({"type": "string", "pattern": "^0x[a-fA-F0-9]{40}$", "description": what});
    let number = |what: &str| json!({"type": "string", "pattern": "^[0-9]+$", "description": what});
    json!({
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
    })
}

/// Whether an x402 v2 offer entry is `exact` through Permit2.
fn is_permit2(v2: &Value) -> bool {
    v2.get("scheme").and_then(Value::as_str) == Some(compute_pay_x402::SCHEME_EXACT)
        && v2.pointer("/extra/assetTransferMethod").and_then(Value::as_str) == Some("permit2")
}

/// The `PaymentRequired.extensions` entries the EVM rails need for `offers` (the offers of
/// every rail of one 402): `eip2612GasSponsoring` when any x402 offer is Permit2, else none.
/// Merge them into the v2 `PaymentRequired` before encoding it.
pub fn payment_required_extensions(offers: &[Offer]) -> Map<String, Value> {
    let mut out = Map::new();
    if offers.iter().any(|o| matches!(o, Offer::X402 { v2, .. } if is_permit2(v2))) {
        out.insert(EIP2612_GAS_SPONSORING.to_owned(), eip2612_gas_sponsoring_advertisement());
    }
    out
}

/// The HTTP status of a payment challenge answering a refused payment with x402 `reason`:
/// [`PERMIT2_ALLOWANCE_REQUIRED_STATUS`] (412) for `permit2_allowance_required`, 402 otherwise.
pub fn challenge_status(reason: Option<&str>) -> u16 {
    if reason == Some(Reason::Permit2AllowanceRequired.as_str()) { PERMIT2_ALLOWANCE_REQUIRED_STATUS } else { 402 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_permit2_offers_bring_the_sponsoring_advertisement() {
        let base = json!({"scheme": "exact", "network": "eip155:8453", "extra": {"name": "USD Coin", "version": "2"}});
        let mega = json!({"scheme": "exact", "network": "eip155:4326",
                          "extra": {"name": "MegaUSD", "version": "1", "assetTransferMethod": "permit2"}});
        let mpp = Offer::Mpp { www_authenticate: "Payment x".into() };
        let none = payment_required_extensions(&[mpp.clone(), Offer::X402 { v2: base.clone(), v1: None }]);
        assert!(none.is_empty());
        let both =
            payment_required_extensions(&[mpp, Offer::X402 { v2: base, v1: None }, Offer::X402 { v2: mega, v1: None }]);
        let ad = &both[EIP2612_GAS_SPONSORING];
        assert_eq!(ad["info"], json!({"description": ad["info"]["description"], "version": "1"}));
        assert_eq!(ad["schema"]["required"].as_array().unwrap().len(), 8);
    }

    #[test]
    fn allowance_required_is_412() {
        assert_eq!(challenge_status(Some("permit2_allowance_required")), 412);
        assert_eq!(challenge_status(Some("invalid_permit2_signature")), 402);
        assert_eq!(challenge_status(None), 402);
    }
}
