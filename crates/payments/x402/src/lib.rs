//! `compute-pay-x402`: the x402 wire format (protocol versions 1 and 2), with no chain code.
//!
//! - [`v1`] and [`v2`]: serde types for `PaymentRequirements`, `PaymentRequired`,
//!   `PaymentPayload`; [`SettleResponse`] is shared by both versions.
//! - [`exact_evm`]: the scheme payload of `exact` on EVM (EIP-3009 authorization + signature),
//!   as strings; chain crates parse and check it.
//! - [`header`]: header names and the base64-of-JSON encoding of every x402 header.
//! - [`challenge`]: assembles one 402 (v2 `PAYMENT-REQUIRED` header with the offers'
//!   extensions and any pre-encoded ones, and v1 JSON body) from the
//!   [`compute_core::payment::Offer::X402`] offers of many rails, and the challenge's HTTP
//!   status for a refusal reason.
//! - [`network`]: CAIP-2 ids (v2) and their v1 names.
//! - [`reason`]: the x402 error reason codes ([`Reason`]).
//! - [`extension`]: the `payment-identifier` extension (an idempotency key), the
//!   `eip2612GasSponsoring` advertisement and the `bazaar` discovery declaration.
//! - [`signed_headers`]: x402Compute's `X-Auth-*` wallet authentication, chain-agnostic
//!   (chain crates supply the signature check).
//!
//! Every decoding error is a [`compute_core::Error`] of kind
//! [`compute_core::ErrorKind::InvalidInput`] carrying an x402 reason code
//! ([`compute_core::Error::reason`]).

pub mod challenge;
pub mod exact_evm;
pub mod extension;
pub mod header;
pub mod network;
pub mod reason;
pub mod signed_headers;
pub mod v1;
pub mod v2;

mod settle;

pub use challenge::{
    EncodedExtension, PERMIT2_ALLOWANCE_REQUIRED_STATUS, challenge_status, encode_payment_required,
    payment_required_v1_body, payment_required_v2, payment_required_v2_object,
};
pub use extension::{
    BAZAAR, EIP2612_GAS_SPONSORING, HttpEndpoint, PAYMENT_IDENTIFIER, bazaar_declaration, bazaar_v1_output_schema,
    eip2612_gas_sponsoring_advertisement, payment_identifier,
};
pub use extension::{payment_identifier_advertisement, validate_payment_identifier};
pub use header::{
    MAX_HEADER_BYTES, PAYMENT_REQUIRED, PAYMENT_RESPONSE, PAYMENT_SIGNATURE, X_PAYMENT, X_PAYMENT_RESPONSE,
    decode_credential, decode_header, encode_header,
};
pub use reason::Reason;
pub use settle::SettleResponse;

/// The only scheme the gateway's x402 rails speak so far.
pub const SCHEME_EXACT: &str = "exact";

/// The `mimeType` the gateway's resources answer with.
pub const MIME_JSON: &str = "application/json";
