//! `compute-pay-evm`: x402 `exact` payments on EVM chains with an EIP-3009 token (USDC on
//! Base and Base Sepolia, or any `eip155` chain whose token has `transferWithAuthorization`),
//! written on alloy. The gateway is its own facilitator: verification and settlement run
//! in-process against the chain's JSON-RPC.
//!
//! - [`EvmConfig`]: network, RPC, token (address, EIP-712 name and version, decimals),
//!   recipient, the settlement key (a [`secrecy::SecretString`]) and timeouts.
//! - [`EvmRail`]: implements [`compute_core::payment::Payment`]:
//!   - `offers`: one x402 `exact` offer (v2, plus v1 when the network has a v1 name);
//!   - `verify`: the nine checks of the `exact` scheme in order (see [`EvmRail`]);
//!   - `settle`: `transferWithAuthorization` sent from the settlement key, with an in-process
//!     in-flight lock so one authorization is never broadcast twice concurrently;
//!   - `reconcile`: receipt lookup of a settlement whose outcome was `Unknown`;
//!   - `receipt_headers`: `PAYMENT-RESPONSE` (v2) or `X-PAYMENT-RESPONSE` (v1).
//!
//! - [`EvmSettings`]: one entry of the gateway's `[[payments.evm]]` list (Base and MegaETH side
//!   by side).
//! - [`EvmSignatureVerifier`]: EIP-191 checks of x402Compute's `X-Auth-*` signed headers.
//!
//! No globals: every rail owns its provider, its keys and its locks.

mod amount;
mod auth;
mod config;
mod contracts;
mod permit2;
mod rail;
mod rpc;
mod settings;
mod settle;
mod signed_headers;
mod verify;
mod verify_permit2;

pub use config::{
    BASE_SEPOLIA_USDC, BASE_USDC, DEFAULT_MAX_TIMEOUT_SECONDS, DEFAULT_RECEIPT_POLL_INTERVAL, DEFAULT_RECEIPT_TIMEOUT,
    DEFAULT_RPC_TIMEOUT, Eip3009Token, EvmConfig, EvmToken, MEGAETH_USDM, PERMIT2, TransferMethod,
    VALID_BEFORE_MARGIN_SECONDS, X402_EXACT_PERMIT2_PROXY,
};
pub use rail::EvmRail;
pub use settings::{EvmSettings, rail_name};
pub use signed_headers::EvmSignatureVerifier;

/// The component name put on errors ([`compute_core::Error::component`]).
pub const COMPONENT: &str = "pay-evm";

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_permit2;
