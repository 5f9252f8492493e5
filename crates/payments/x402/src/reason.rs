//! x402 error reason codes: the `invalidReason` / `errorReason` strings of the protocol.
//!
//! Two sources, one enum:
//! - the x402 v2 specification, section 9 (the first block of variants);
//! - the reasons the reference SDKs add (identical across the TypeScript, Go and Python SDKs),
//!   for the `exact` EVM family, Permit2 and Solana.
//!
//! Use [`Reason::as_str`] with [`compute_core::Error::with_reason`].

use std::fmt;
use std::str::FromStr;

macro_rules! reasons {
    ($( $(#[$doc:meta])* $variant:ident => $code:literal, )*) => {
        /// One x402 error reason code. `#[non_exhaustive]`: the protocol keeps adding codes.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Reason {
            $( $(#[$doc])* $variant, )*
        }

        impl Reason {
            /// Every known reason, in declaration order.
            pub const ALL: &'static [Reason] = &[$(Reason::$variant,)*];

            /// The wire string, e.g. `invalid_exact_evm_payload_signature`.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $( Reason::$variant => $code, )*
                }
            }
        }
    };
}

reasons! {
    // --- x402 v2 specification, section 9 ---
    /// The payer does not hold enough of the token.
    InsufficientFunds => "insufficient_funds",
    /// The authorization is not valid yet (`validAfter` is in the future).
    InvalidExactEvmPayloadAuthorizationValidAfter => "invalid_exact_evm_payload_authorization_valid_after",
    /// The authorization has expired, or expires too soon to settle (`validBefore`).
    InvalidExactEvmPayloadAuthorizationValidBefore => "invalid_exact_evm_payload_authorization_valid_before",
    /// v2: the authorized value is not exactly the required amount.
    InvalidExactEvmPayloadAuthorizationValueMismatch => "invalid_exact_evm_payload_authorization_value_mismatch",
    /// The EIP-712 signature does not come from `from`.
    InvalidExactEvmPayloadSignature => "invalid_exact_evm_payload_signature",
    /// The authorization's `to` is not the requirement's `payTo`.
    InvalidExactEvmPayloadRecipientMismatch => "invalid_exact_evm_payload_recipient_mismatch",
    /// The network is not the one offered.
    InvalidNetwork => "invalid_network",
    /// The payload is malformed (bad base64, JSON or field).
    InvalidPayload => "invalid_payload",
    /// The requirements the client echoed are not the ones offered.
    InvalidPaymentRequirements => "invalid_payment_requirements",
    /// The scheme is not the one offered.
    InvalidScheme => "invalid_scheme",
    /// The scheme is not supported at all.
    UnsupportedScheme => "unsupported_scheme",
    /// The `x402Version` is not supported.
    InvalidX402Version => "invalid_x402_version",
    /// The settlement transaction failed or was rejected.
    InvalidTransactionState => "invalid_transaction_state",
    /// An unexpected error while verifying.
    UnexpectedVerifyError => "unexpected_verify_error",
    /// An unexpected error while settling.
    UnexpectedSettleError => "unexpected_settle_error",

    // --- x402 v1, `exact` EVM ---
    /// v1: the authorized value does not match `maxAmountRequired`.
    InvalidExactEvmPayloadAuthorizationValue => "invalid_exact_evm_payload_authorization_value",

    // --- reference SDKs, `exact` EVM (EIP-3009) ---
    /// The EIP-3009 nonce was already used on chain, or is being settled right now.
    InvalidExactEvmNonceAlreadyUsed => "invalid_exact_evm_nonce_already_used",
    /// SDK spelling of [`Reason::InsufficientFunds`].
    InvalidExactEvmInsufficientBalance => "invalid_exact_evm_insufficient_balance",
    /// The `eth_call` simulation of `transferWithAuthorization` reverted.
    InvalidExactEvmTransactionSimulationFailed => "invalid_exact_evm_transaction_simulation_failed",
    /// The settlement transaction reverted.
    InvalidExactEvmTransactionFailed => "invalid_exact_evm_transaction_failed",
    /// `extra.name` is not the token's EIP-712 name.
    InvalidExactEvmTokenNameMismatch => "invalid_exact_evm_token_name_mismatch",
    /// `extra.version` is not the token's EIP-712 version.
    InvalidExactEvmTokenVersionMismatch => "invalid_exact_evm_token_version_mismatch",
    /// The requirements lack the EIP-712 domain (`extra.name` / `extra.version`).
    InvalidExactEvmMissingEip712Domain => "invalid_exact_evm_missing_eip712_domain",
    /// SDK spelling: the network does not match.
    InvalidExactEvmNetworkMismatch => "invalid_exact_evm_network_mismatch",
    /// SDK spelling: the recipient does not match.
    InvalidExactEvmRecipientMismatch => "invalid_exact_evm_recipient_mismatch",
    /// The signature could not be parsed.
    InvalidExactEvmFailedToParseSignature => "invalid_exact_evm_failed_to_parse_signature",
    /// The signature wraps an undeployed smart wallet (ERC-6492).
    InvalidExactEvmPayloadUndeployedSmartWallet => "invalid_exact_evm_payload_undeployed_smart_wallet",

    // --- reference SDKs, Permit2 ---
    /// The payer has not approved Permit2 for the amount.
    Permit2AllowanceRequired => "permit2_allowance_required",
    /// The Permit2 deadline has passed.
    Permit2DeadlineExpired => "permit2_deadline_expired",
    /// The Permit2 signature is invalid.
    InvalidPermit2Signature => "invalid_permit2_signature",

    // --- reference SDKs, Solana and generic ---
    /// The Solana transfer amount is not the required amount.
    InvalidExactSvmPayloadTransactionAmountMismatch => "invalid_exact_svm_payload_transaction_amount_mismatch",
    /// The transaction simulation failed (Solana).
    TransactionSimulationFailed => "transaction_simulation_failed",
    /// The same transaction was already submitted for settlement.
    DuplicateSettlement => "duplicate_settlement",
    /// The settlement transaction failed.
    TransactionFailed => "transaction_failed",
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Reason> for String {
    fn from(r: Reason) -> String {
        r.as_str().to_owned()
    }
}

impl FromStr for Reason {
    type Err = ();
    /// Parses a known wire string; unknown codes are `Err(())`.
    fn from_str(s: &str) -> Result<Self, ()> {
        Reason::ALL.iter().copied().find(|r| r.as_str() == s).ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for r in Reason::ALL {
            let s = r.as_str();
            assert!(seen.insert(s), "duplicate {s}");
            assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{s}");
            assert_eq!(s.parse::<Reason>(), Ok(*r));
            assert_eq!(r.to_string(), s);
        }
        assert!("no_such_reason".parse::<Reason>().is_err());
        assert_eq!(Reason::InvalidExactEvmPayloadSignature.as_str(), "invalid_exact_evm_payload_signature");
    }
}
