//! `compute-pay-base`: x402 `exact` payments on EVM chains with an EIP-3009 token (USDC on
//! Base and Base Sepolia, or any `eip155` chain whose token has `transferWithAuthorization`),
//! written on alloy. The gateway is its own facilitator: verification and settlement run
//! in-process against the chain's JSON-RPC.
//!
//! - [`BaseConfig`]: network, RPC, token (address, EIP-712 name and version, decimals),
//!   recipient, the settlement key (a [`secrecy::SecretString`]) and timeouts.
//! - [`BaseRail`]: implements [`compute_core::payment::Payment`]:
//!   - `offers`: one x402 `exact` offer (v2, plus v1 when the network has a v1 name);
//!   - `verify`: the nine checks of the `exact` scheme in order (see [`BaseRail`]);
//!   - `settle`: `transferWithAuthorization` sent from the settlement key, with an in-process
//!     in-flight lock so one authorization is never broadcast twice concurrently;
//!   - `reconcile`: receipt lookup of a settlement whose outcome was `Unknown`;
//!   - `receipt_headers`: `PAYMENT-RESPONSE` (v2) or `X-PAYMENT-RESPONSE` (v1).
//!
//! No globals: every rail owns its provider, its keys and its locks.

mod auth;
mod config;
mod contracts;
mod rail;
mod rpc;
mod settle;
mod verify;

pub use config::{
    BASE_SEPOLIA_USDC, BASE_USDC, BaseConfig, DEFAULT_MAX_TIMEOUT_SECONDS, DEFAULT_RECEIPT_POLL_INTERVAL,
    DEFAULT_RECEIPT_TIMEOUT, DEFAULT_RPC_TIMEOUT, Eip3009Token, VALID_BEFORE_MARGIN_SECONDS,
};
pub use rail::BaseRail;

/// The component name put on errors ([`compute_core::Error::component`]).
pub const COMPONENT: &str = "pay-base";

#[cfg(test)]
mod tests;
